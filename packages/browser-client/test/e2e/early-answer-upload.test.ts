/**
 * An app that answers an upload before reading its body (a 413, or a 200
 * once it has seen enough) gives the page its answer over the relay as it
 * does direct: the tunnel server, having answered early, reads and drops the
 * rest of the body before it closes the connection (a lingering close), so
 * the browser is never reset mid-upload. Firefox fails the fetch on such a
 * reset where Chromium still reads the response. Real app, tunnel server,
 * agent (P2P off: the page talks to the tunnel server itself) and browsers.
 */
import { WEBRTC_ENGINES } from './helpers/engines';
import { useStackAndEngine } from './support/engine-stack';
import { inPage, WAIT_MS } from './support/shell';

jest.setTimeout(120_000);

/** Several MiB: the browser is still sending when the answer comes. */
const UPLOAD_BYTES = 12 * 1024 * 1024;

/** What the page's upload came to. */
interface Outcome {
  status?: number;
  text?: string;
  transport?: string | null;
  thrown?: string;
}

describe.each(WEBRTC_ENGINES)('an upload the app answers before reading it, in %s', (engine) => {
  const env = useStackAndEngine(engine, { agentP2p: false });

  /** Opens `origin`'s page and uploads UPLOAD_BYTES to /early?status=`status` from it. */
  async function uploadFrom(origin: string, status: number): Promise<Outcome> {
    const page = env.page;
    await page.goto(`${origin}/one`);
    return inPage(
      page,
      async ({ path, bytes }) =>
        fetch(path, { method: 'POST', body: new Uint8Array(bytes) }).then(
          async (r) => ({ status: r.status, text: await r.text(), transport: r.headers.get('x-wingman-transport') }),
          (e: unknown) => ({ thrown: String(e) }),
        ),
      { path: `/early?status=${status}`, bytes: UPLOAD_BYTES },
    );
  }

  it.each([413, 200])(
    'gets the app’s %i over the relay as direct',
    async (status) => {
      const direct = await uploadFrom(`http://127.0.0.1:${env.stack.app.port}`, status);
      expect(direct).toEqual({ status, text: `early ${status}`, transport: null });

      const relayed = await uploadFrom(env.stack.origin, status);

      expect(relayed).toEqual({ status, text: `early ${status}`, transport: 'relay' });
    },
    WAIT_MS * 4,
  );
});
