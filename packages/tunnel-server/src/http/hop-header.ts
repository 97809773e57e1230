/**
 * Marks a request one node of a cluster forwarded to another (cluster/node-forward.ts). A node never forwards a
 * marked request again, and the relay drops the field (relay/headers.ts): it is between nodes only.
 */
export const CLUSTER_HOP_HEADER = 'x-wingman-cluster-hop';
