export const AB_MODE: 'p2p-ab';
export function parseAbEnv(text: string): Record<string, string>;
export function abMode(env: Record<string, string>): {
  mode: 'p2p-ab';
  title: string;
  apply: <S extends object>(s: S) => S & { mode: 'p2p-ab'; env: Record<string, string> };
};
export function rowsOnly<S extends { bulkFloor?: boolean; setupRace?: boolean; swFloor?: boolean }>(
  scenario: S,
): S & { bulkFloor: false; setupRace: false; swFloor: false };
