/**
 * Node entry of @wingman/browser-client: its constants (paths, header names,
 * timeouts). The browser bundles are built separately by build.mjs; the
 * tunnel server serves them as files (tunnel-server/src/browser).
 */
export * from './shared/constants';
