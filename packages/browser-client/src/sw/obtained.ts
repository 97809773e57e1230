/** What carrying one request gives (router.ts `obtain`), before a Response is built from it. */
import type { Incoming } from './build-response';

export type Obtained =
  /** A response to build (P2P, or a relayed one whose body is measured). */
  | { kind: 'incoming'; incoming: Incoming }
  | { kind: 'relay'; res: Response }
  /** A final answer (an error page, an aborted request). */
  | { kind: 'final'; response: Response };
