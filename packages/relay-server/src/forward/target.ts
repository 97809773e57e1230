/** The one local app a forwarder serves, and the Host policy towards it. */

/**
 * Host header sent to the local app: 'rewrite' (the target's host:port, what
 * dev servers such as Vite accept), 'preserve' (the viewer's Host, i.e. the
 * session's public host) or an explicit value.
 */
export type HostHeaderMode = 'rewrite' | 'preserve' | (string & {});

export interface Target {
  host: string;
  port: number;
  /** The app's scheme: `https` for a TLS target (`wingman http https://localhost:8443`). Default `http`. */
  scheme?: 'http' | 'https';
}

/** "localhost:3000", "[::1]:3000". */
export function formatHostPort(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
