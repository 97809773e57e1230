/** Types for netns.mjs (the lab's `ip` wrappers and the clean-up of its namespaces). */

/** Prefix of every lab namespace name; the run's pid follows. */
export declare const NETNS_PREFIX_ROOT: string;
/** This run's prefix: `wmlab-<pid>-`. */
export declare function runPrefix(pid?: number): string;
/** `ip <args>`; throws with its stderr on failure. */
export declare function ip(...args: string[]): string;
/** `sysctl -w key=value` inside a namespace. */
export declare function sysctl(ns: string, key: string, value: string | number): void;
/** Creates a namespace with `lo` up. */
export declare function addNamespace(ns: string): void;
/** A veth pair whose ends are created directly in their namespaces. */
export declare function addVeth(a: { ns: string; name: string }, b: { ns: string; name: string }): void;
/** A bridge inside a namespace, up. */
export declare function addBridge(ns: string, name: string): void;
/** Enslaves an interface to a bridge of the same namespace and brings it up. */
export declare function attachToBridge(ns: string, dev: string, bridge: string): void;
/** Adds an address (CIDR) to an interface and brings it up. */
export declare function addAddress(ns: string, dev: string, cidr: string): void;
/** Ends every process inside the namespaces and deletes them; returns the problems (empty when all are gone). */
export declare function destroyNamespaces(namespaces: string[]): string[];
