import { ConfigError, configFromCli, DEFAULT_AGENT_TOKEN, resolveConfig } from '../../src/config';
import { resolvePublicAddress } from '../../src/listener/public-address';

/** The message of the ConfigError that configFromCli throws for these flags and variables. */
function problems(argv: string[], env: Record<string, string>): string {
  try {
    configFromCli(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to loopback, port 8080, the embedded token and a 30 s grace period', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, tokens: [DEFAULT_AGENT_TOKEN], sessionGraceMs: 30_000, logLevel: 'info' });
    expect(c.p2p).toEqual({
      enabled: true,
      timeoutMs: 3000,
      stunServers: [],
      turnUrls: [],
      turnTtlS: 300,
      videoSection: true,
      lossProbe: true,
      bulkRace: true,
      pathChoice: true,
    });
  });

  it('reads every variable from the environment', () => {
    const { config } = configFromCli([], {
      PORT: '9000',
      HOST: '0.0.0.0',
      WINGMAN_DOMAIN: 'Tunnel.Example.com',
      PUBLIC_URL: 'https://tunnel.example.com',
      WINGMAN_TOKENS: 'token-one-1234, token-two-1234',
      SESSION_GRACE_MS: '5000',
      LOG_LEVEL: 'warn',
      P2P_ENABLED: 'false',
      P2P_TIMEOUT_MS: '1500',
      STUN_SERVERS: 'stun:a.example:3478,stun:b.example:3478',
      TURN_URLS: 'turns:t.example:5349',
      TURN_SECRET: 'shh',
      TURN_TTL_S: '120',
      P2P_VIDEO_SECTION: 'false',
      P2P_LOSS_PROBE: 'false',
      P2P_BULK_RACE: 'false',
      P2P_PATH_CHOICE: 'false',
      WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1',
    });
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      domain: 'tunnel.example.com',
      publicUrl: 'https://tunnel.example.com',
      tokens: ['token-one-1234', 'token-two-1234'],
      sessionGraceMs: 5000,
      logLevel: 'warn',
      p2p: {
        enabled: false,
        timeoutMs: 1500,
        stunServers: ['stun:a.example:3478', 'stun:b.example:3478'],
        turnUrls: ['turns:t.example:5349'],
        turnSecret: 'shh',
        turnTtlS: 120,
        videoSection: false,
        lossProbe: false,
        bulkRace: false,
        pathChoice: false,
      },
      domainIsPublicSuffix: true,
    });
  });

  it('lets flags win over the environment and treats empty variables as unset', () => {
    const cli = configFromCli(['--port', '0', '--host', '::1', '--json', '--public-url', 'https://x.example', '--domain-is-public-suffix'], {
      PORT: '9000',
      HOST: '',
      WINGMAN_TOKENS: '',
    });
    expect(cli.config).toMatchObject({ port: 0, host: '::1', publicUrl: 'https://x.example', tokens: [DEFAULT_AGENT_TOKEN] });
    expect(cli.json).toBe(true);
  });

  it('names the flag or variable of each bad value', () => {
    expect(problems(['--port', 'x'], {})).toBe('--port: must be a non-negative integer');
    expect(problems([], { PORT: '70000' })).toMatch(/^--port \/ PORT: /);
    expect(problems([], { PUBLIC_URL: 'ftp://x' })).toMatch(/^--public-url \/ PUBLIC_URL: must be an http/);
    expect(problems([], { PUBLIC_URL: 'https://x.example/path' })).toMatch(/no path/);
    expect(problems([], { WINGMAN_TOKENS: 'short' })).toMatch(/^WINGMAN_TOKENS: /);
    expect(problems([], { TURN_URLS: 'turn:t.example' })).toMatch(/^TURN_SECRET: TURN URLs need a TURN secret/);
    expect(problems([], { STUN_SERVERS: 'http://x' })).toMatch(/^STUN_SERVERS: /);
    expect(problems([], { P2P_ENABLED: 'maybe' })).toMatch(/^P2P_ENABLED: /);
    expect(problems(['--nope'], {})).toMatch(/--nope/);
    expect(problems([], { REDIS_URL: 'http://127.0.0.1:6379' })).toMatch(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(problems([], { WINGMAN_NODE_URL: 'tcp://10.0.0.5:8080' })).toMatch(/^WINGMAN_NODE_URL: must be an http/);
  });

  it('reads the cluster settings (REDIS_URL, WINGMAN_NODE_URL); without them the server is a single node', () => {
    expect(configFromCli([], {}).config.redisUrl).toBeUndefined();
    const { config } = configFromCli([], { REDIS_URL: 'redis://10.0.0.2:6379/0', WINGMAN_NODE_URL: 'http://10.0.0.5:8080' });
    expect(config).toMatchObject({ redisUrl: 'redis://10.0.0.2:6379/0', nodeUrl: 'http://10.0.0.5:8080' });
  });

  it('reads the trusted proxy hops from --trust-proxy (winning) or TRUST_PROXY, 0 by default, and refuses nonsense', () => {
    expect(configFromCli([], {}).config.trustProxy).toBe(0);
    expect(configFromCli([], { TRUST_PROXY: '1' }).config.trustProxy).toBe(1);
    expect(configFromCli(['--trust-proxy', '2'], { TRUST_PROXY: '1' }).config.trustProxy).toBe(2);
    expect(problems(['--trust-proxy', 'yes'], {})).toBe('--trust-proxy: must be a non-negative integer');
    expect(problems([], { TRUST_PROXY: '-1' })).toMatch(/^TRUST_PROXY: must be a non-negative integer/);
    expect(problems([], { TRUST_PROXY: '11' })).toMatch(/^--trust-proxy \/ TRUST_PROXY: /);
  });

  it('reads the relayed WebSocket message cap from --ws-max-message-bytes (winning) or WS_MAX_MESSAGE_BYTES, 1 MiB by default, at most 64 MiB', () => {
    expect(configFromCli([], {}).config.wsMaxMessageBytes).toBe(1024 * 1024);
    expect(configFromCli([], { WS_MAX_MESSAGE_BYTES: '65536' }).config.wsMaxMessageBytes).toBe(65536);
    expect(configFromCli(['--ws-max-message-bytes', '2048'], { WS_MAX_MESSAGE_BYTES: '65536' }).config.wsMaxMessageBytes).toBe(2048);
    expect(problems(['--ws-max-message-bytes', '1MiB'], {})).toBe('--ws-max-message-bytes: must be a non-negative integer');
    expect(problems([], { WS_MAX_MESSAGE_BYTES: String(64 * 1024 * 1024 + 1) })).toMatch(/^--ws-max-message-bytes \/ WS_MAX_MESSAGE_BYTES: /);
    expect(problems([], { WS_MAX_MESSAGE_BYTES: '0' })).toMatch(/^--ws-max-message-bytes \/ WS_MAX_MESSAGE_BYTES: /);
  });

  it('builds session URLs from the public URL, and the domain from it when no domain is given', () => {
    const local = resolvePublicAddress(resolveConfig({ port: 0 }), 4321);
    expect(local.domain).toBe('localhost:4321');
    expect(local.sessionUrl('abc')).toBe('http://abc.localhost:4321/');
    const proxied = resolvePublicAddress(resolveConfig({ publicUrl: 'https://tunnel.example.com', domainIsPublicSuffix: true }), 8080);
    expect(proxied).toMatchObject({ domain: 'tunnel.example.com', publicUrl: 'https://tunnel.example.com', scheme: 'https' });
    expect(proxied.sessionUrl('abc')).toBe('https://abc.tunnel.example.com/');
  });

  it('refuses the embedded token on a host that is not loopback, naming WINGMAN_TOKENS', () => {
    expect(problems(['--host', '0.0.0.0'], {})).toMatch(
      /^WINGMAN_TOKENS: the embedded local token cannot be used on the non-loopback host 0\.0\.0\.0.*Set WINGMAN_TOKENS/,
    );
    expect(problems([], { HOST: '10.1.2.3', WINGMAN_TOKENS: `${DEFAULT_AGENT_TOKEN},other-token-123` })).toMatch(/^WINGMAN_TOKENS: /);
    expect(() => resolveConfig({ host: '::' })).toThrow(/embedded local token/);
    expect(configFromCli(['--host', '0.0.0.0'], { WINGMAN_TOKENS: 'own-token-1234' }).config.host).toBe('0.0.0.0');
    expect(configFromCli(['--host', '127.0.0.2'], {}).config.tokens).toEqual([DEFAULT_AGENT_TOKEN]);
  });

  it('reads every quota and the metrics token from the environment, with documented defaults', () => {
    expect(resolveConfig().limits).toEqual({
      streamsPerViewer: 256,
      wsIdleTimeoutMs: 600_000,
      sessionsPerToken: 100,
      connectionsPerAddress: 256,
      wsTicketsPerSession: 32,
      signalingPerViewer: 8,
      agentAuthFailures: 10,
      fdReserve: 64,
      headerTimeoutMs: 30_000,
      viewerBufferBudgetBytes: 64 * 1024 * 1024,
    });
    const { config } = configFromCli([], {
      MAX_STREAMS_PER_VIEWER: '16',
      WS_IDLE_TIMEOUT_MS: '0',
      MAX_SESSIONS_PER_TOKEN: '5',
      MAX_CONNECTIONS_PER_ADDRESS: '0',
      MAX_WS_TICKETS_PER_SESSION: '4',
      MAX_SIGNALING_PER_VIEWER: '2',
      MAX_AGENT_AUTH_FAILURES: '3',
      FD_RESERVE: '128',
      HEADER_TIMEOUT_MS: '5000',
      VIEWER_BUFFER_BUDGET_BYTES: '2097152',
      METRICS_TOKEN: 'metrics-secret-1',
    });
    expect(config.limits).toEqual({
      streamsPerViewer: 16,
      wsIdleTimeoutMs: 0,
      sessionsPerToken: 5,
      connectionsPerAddress: 0,
      wsTicketsPerSession: 4,
      signalingPerViewer: 2,
      agentAuthFailures: 3,
      fdReserve: 128,
      headerTimeoutMs: 5_000,
      viewerBufferBudgetBytes: 2 * 1024 * 1024,
    });
    expect(config.metricsToken).toBe('metrics-secret-1');
    expect(problems([], { MAX_STREAMS_PER_VIEWER: '0' })).toMatch(/^MAX_STREAMS_PER_VIEWER: /);
    expect(problems([], { FD_RESERVE: 'x' })).toMatch(/FD_RESERVE/);
    expect(problems([], { METRICS_TOKEN: 'short' })).toMatch(/^METRICS_TOKEN: /);
  });

  it('refuses a session domain other than localhost, *.localhost or an IP unless the operator confirms it is a public suffix', () => {
    const refused =
      /^--domain-is-public-suffix \/ WINGMAN_DOMAIN_PUBLIC_SUFFIX: sessions would live at <id>\.tunnel\.example\.com, which browsers treat as one site unless tunnel\.example\.com is on the Public Suffix List/;
    expect(problems(['--domain', 'tunnel.example.com'], {})).toMatch(refused);
    expect(problems([], { PUBLIC_URL: 'https://tunnel.example.com' })).toMatch(refused);
    expect(problems([], { WINGMAN_DOMAIN: 'tunnel.example.com:8443', WINGMAN_DOMAIN_PUBLIC_SUFFIX: '0' })).toMatch(refused);
    expect(() => resolveConfig({ domain: 'tunnel.example.com' })).toThrow(ConfigError);
    expect(configFromCli(['--domain', 'tunnel.example.com', '--domain-is-public-suffix'], {}).config.domainIsPublicSuffix).toBe(true);
    expect(configFromCli([], { PUBLIC_URL: 'https://tunnel.example.com', WINGMAN_DOMAIN_PUBLIC_SUFFIX: 'yes' }).config.publicUrl).toBe(
      'https://tunnel.example.com',
    );
    for (const domain of ['localhost', 'localhost:8080', 'wingman.localhost:8080', '127.0.0.1:8080']) {
      expect(configFromCli(['--domain', domain], {}).config.domainIsPublicSuffix).toBe(false);
    }
    expect(configFromCli([], { PUBLIC_URL: 'http://[::1]:8080' }).config.publicUrl).toBe('http://[::1]:8080');
    expect(configFromCli([], {}).config.domainIsPublicSuffix).toBe(false);
  });

  it('reads the TLS files from --tls-cert/--tls-key (winning) or TLS_CERT_FILE/TLS_KEY_FILE, and makes https the default scheme', () => {
    const { config } = configFromCli(['--tls-cert', '/flag/cert.pem'], { TLS_CERT_FILE: '/env/cert.pem', TLS_KEY_FILE: '/env/key.pem' });
    expect(config).toMatchObject({ tlsCertFile: '/flag/cert.pem', tlsKeyFile: '/env/key.pem' });
    const address = resolvePublicAddress(config, 8443);
    expect(address).toMatchObject({ publicUrl: 'https://localhost:8443', scheme: 'https' });
    expect(address.sessionUrl('abc')).toBe('https://abc.localhost:8443/');
    expect(problems([], { TLS_KEY_FILE: '/env/key.pem' })).toBe('--tls-cert / TLS_CERT_FILE: a TLS certificate and its key go together: give both or neither');
  });
  it('reads the OpenID Connect issuer (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET; all or none), https or a loopback http', () => {
    const env = { OIDC_ISSUER: 'https://idp.example.com/realms/team', OIDC_CLIENT_ID: 'wingman', OIDC_CLIENT_SECRET: 's3cret' };
    expect(configFromCli([], env).config.oidc).toEqual({ issuer: 'https://idp.example.com/realms/team', clientId: 'wingman', clientSecret: 's3cret' });
    expect(configFromCli(['--oidc-issuer', 'http://127.0.0.1:9000', '--oidc-client-id', 'w2'], env).config.oidc).toMatchObject({
      issuer: 'http://127.0.0.1:9000',
      clientId: 'w2',
    });
    expect(configFromCli([], {}).config.oidc).toBeUndefined();
    expect(problems([], { OIDC_ISSUER: env.OIDC_ISSUER, OIDC_CLIENT_ID: 'wingman' })).toContain('OIDC_CLIENT_SECRET');
    expect(problems([], { ...env, OIDC_ISSUER: 'http://idp.example.com' })).toContain(
      '--oidc-issuer / OIDC_ISSUER: must be an https:// URL (http:// only on a loopback host)',
    );
    expect(problems([], { ...env, OIDC_ISSUER: 'https://idp.example.com/?x=1' })).toContain('must have no query or fragment');
  });
});
