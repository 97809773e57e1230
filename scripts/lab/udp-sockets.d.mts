/** Types of udp-sockets.mjs, for the TypeScript tests. */
export interface UdpSocket {
  port: number;
  rxQueue: number;
  drops: number;
}
export interface UdpSocketFigure {
  port: number;
  maxRxQueue: number;
  drops: number;
}
export declare function parseUdpTable(text: string): Map<string, UdpSocket>;
export declare function sampleUdpSockets(pid: number, everyMs: number): { stop(): UdpSocketFigure[] };
