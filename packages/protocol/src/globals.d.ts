/*
 * The few globals the protocol uses, present in Node ≥ 18, browsers and
 * workers alike. Declared here so the package compiles against neither the
 * DOM nor @types/node (it must stay isomorphic).
 */
declare function setTimeout(fn: () => void, ms: number): unknown;
declare function clearTimeout(handle: unknown): void;
declare function queueMicrotask(fn: () => void): void;
declare const performance: { now(): number };
declare class TextEncoder {
  encode(s: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(b: Uint8Array): string;
}
