/**
 * A tunnel server on its own TLS (HTTP/2 on), one test agent, and a viewer's
 * node:http2 session to it, made before each test and torn down after it.
 * The test CA lives for the whole file.
 */
import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
import type { Stream } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { createTestCa, type TestCa } from '../../../../../test/helpers/test-ca';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent, type TestAgentOptions } from './test-agent';

export interface H2Viewer {
  readonly ca: TestCa;
  readonly server: TunnelServer;
  readonly agent: TestAgent;
  readonly session: ClientHttp2Session;
  /** The server's first SETTINGS frame, as this session received it. */
  readonly serverSettings: Promise<Settings>;
}

/** Registers the hooks; `serialHex` names this file's certificate. Read the fields inside tests (they change per test). */
export function useH2Viewer(serialHex: string, onStream: (stream: Stream) => void, agentOptions: Omit<TestAgentOptions, 'tlsCa'> = {}): H2Viewer {
  const current = {} as {
    ca: TestCa;
    cert: { certFile: string; keyFile: string };
    server: TunnelServer;
    agent: TestAgent;
    session: ClientHttp2Session;
    serverSettings: Promise<Settings>;
  };
  beforeAll(() => {
    current.ca = createTestCa();
    current.cert = current.ca.issue(`h2-${serialHex}`, { serialHex, altNames: ['DNS:localhost', 'DNS:*.localhost'] });
  });
  afterAll(() => current.ca?.remove());
  beforeEach(async () => {
    const { certFile, keyFile } = current.cert;
    current.server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', tlsCertFile: certFile, tlsKeyFile: keyFile, http2: true });
    current.agent = await connectTestAgent(current.server.port, onStream, { ...agentOptions, tlsCa: current.ca.caPem });
    current.session = connect(`https://localhost:${current.server.port}`, { ca: current.ca.caPem });
    current.session.on('error', () => undefined);
    const session = current.session;
    current.serverSettings = new Promise((resolve) => session.once('remoteSettings', resolve));
  });
  afterEach(async () => {
    current.session?.destroy();
    closeAllAgents();
    await current.server?.close();
  });
  return {
    get ca() {
      return current.ca;
    },
    get server() {
      return current.server;
    },
    get agent() {
      return current.agent;
    },
    get session() {
      return current.session;
    },
    get serverSettings() {
      return current.serverSettings;
    },
  };
}
