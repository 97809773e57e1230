export { createTunnelServer, type CreateTunnelServerOptions, type TunnelServer } from './server';
export type { TunnelServerOptions } from './config';
