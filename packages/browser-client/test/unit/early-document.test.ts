/**
 * A first visit's early document (src/sw/early-document.ts): the frame's navigation of its URL takes it once;
 * a top-level navigation (a new shell) forgets what earlier shells adopted, so a later frame never gets a
 * stale document and its cookies.
 */
import { MessageChannel } from 'node:worker_threads';
import { createEarlyDocuments } from '../../src/sw/early-document';

const ORIGIN = 'http://s1.localhost:8080';
const URL_COUNT = new URL('/count', ORIGIN);
/** What a frame's navigation looks like to the Service Worker (the fields take() reads). */
const frameNavigation = { method: 'GET', mode: 'navigate', destination: 'iframe' } as unknown as Request;

/** Adopts the shell's early fetch of `/count`, answered on its port with `text`. */
function adoptAnswered(docs: ReturnType<typeof createEarlyDocuments>, text: string): void {
  const { port1, port2 } = new MessageChannel();
  docs.adopt(URL_COUNT, port2 as unknown as MessagePort);
  const body = new TextEncoder().encode(text);
  port1.postMessage({ status: 200, headers: [['content-type', 'text/html']], body: body.buffer }, [body.buffer]);
  port1.close();
}

async function bodyOf(taken: ReturnType<ReturnType<typeof createEarlyDocuments>['take']>): Promise<string> {
  const obtained = await taken!;
  return obtained.kind === 'relay' ? obtained.res.text() : '';
}

describe('early documents', () => {
  const cookies = { relayHeaderFor: async () => '' };

  it("gives the frame's navigation of the URL the shell fetched, once", async () => {
    const docs = createEarlyDocuments(ORIGIN, cookies);
    adoptAnswered(docs, 'count 1');
    await expect(bodyOf(docs.take(frameNavigation, URL_COUNT))).resolves.toBe('count 1');
    expect(docs.take(frameNavigation, URL_COUNT)).toBeUndefined();
  });

  it('forgets every adopted document at a top-level navigation: the new shell fetches its own', () => {
    const docs = createEarlyDocuments(ORIGIN, cookies);
    adoptAnswered(docs, 'count 1');
    docs.forgetAll();
    expect(docs.take(frameNavigation, URL_COUNT)).toBeUndefined();
  });
});
