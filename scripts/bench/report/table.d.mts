/** Types of table.mjs, for the TypeScript tests. */
import type { CpuPerRequest } from '../lib/proc.mjs';

/** A row of the bench's results, as far as the table reads it. */
export interface BenchRow {
  id?: string;
  label: string;
  status?: string;
  reason?: string;
  metrics?: Record<string, unknown>;
  errors?: Record<string, string>;
  load?: Record<string, { cpu?: CpuPerRequest } & Record<string, unknown>>;
  p2p?: Record<string, number>;
}
export declare function renderTable(rows: BenchRow[]): string;
export declare function renderNotes(rows: BenchRow[]): string;
export declare function markdown(cells: string[][]): string;
export declare function renderP2PTable(rows: BenchRow[]): string;
export declare function renderCpuTable(rows: BenchRow[]): string;
