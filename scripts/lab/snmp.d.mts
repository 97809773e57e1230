/** Types of snmp.mjs, for the TypeScript tests. */
export interface SnmpCounters {
  udp: Record<string, number>;
  tcp: Record<string, number>;
}
export declare function parseSnmp(text: string): SnmpCounters;
export declare function readSnmp(pid: number): SnmpCounters;
