/** Types of doc-blocks.mjs, for the TypeScript tests. */
export type DocBlockRole = 'shell' | 'server' | 'agent';
export declare const DOC_BLOCK_ROLES: readonly DocBlockRole[];
export declare function docBlocks(markdown: string, file?: string): Array<{ role: DocBlockRole; text: string }>;
