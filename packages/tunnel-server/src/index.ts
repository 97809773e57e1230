export { createTunnelServer, type CreateTunnelServerOptions, type TunnelServer } from './server';
export {
  ConfigError,
  configFromCli,
  DEFAULT_AGENT_TOKEN,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_SESSION_GRACE_MS,
  resolveConfig,
  type TunnelServerConfig,
  type TunnelServerOptions,
} from './config';
export * from './limits';
export type { ReservedContext, ReservedRequestHandler, ReservedRoutesOptions, ReservedUpgradeHandler } from './routing/reserved-routes';
