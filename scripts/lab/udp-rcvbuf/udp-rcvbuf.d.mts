/** Types of udp-rcvbuf.mjs, for the TypeScript tests. */
export declare function parseRcvbufBytes(text: string): number;
export declare function preloadUdpRcvbuf(options: { dir: string; compiler: string; bytes: number; env: NodeJS.ProcessEnv }): void;
