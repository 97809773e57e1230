/**
 * Stock Tornado (Debian `python3-tornado`) as the developer's app: a page and
 * a `WebSocketHandler` under its default `check_origin`, which refuses (403)
 * a handshake whose Origin's host is not the request's Host. Served on
 * 127.0.0.1 by Tornado's own HTTP server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../../../test/helpers/redis';
import { startPythonServer, type PythonServer } from './python-server';

/** Tornado listens within a second; 30 s covers a loaded CI machine. */
const TORNADO_LISTEN_TIMEOUT_MS = 30_000;

/** The page names itself (window.pageName, for waitForApp); the socket echoes each message back prefixed. */
const TORNADO_APP = `
import asyncio, sys
import tornado.web, tornado.websocket

class Page(tornado.web.RequestHandler):
    def get(self):
        self.write('<!doctype html><meta charset="utf-8"><h1>tornado</h1><script>window.pageName = "tornado";</script>')

class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message('echo:' + message)

async def main():
    app = tornado.web.Application([(r'/', Page), (r'/echo', Echo)])
    app.listen(int(sys.argv[1]), address='127.0.0.1')
    print('tornado listening', flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
`;

export async function startTornado(): Promise<PythonServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-tornado-'));
  writeFileSync(join(dir, 'app.py'), TORNADO_APP);
  const port = await freePort();
  return startPythonServer({
    dir,
    port,
    args: ['-u', join(dir, 'app.py'), String(port)],
    ready: /tornado listening/,
    timeoutMs: TORNADO_LISTEN_TIMEOUT_MS,
    hint: "install Debian's Tornado: apt-get install python3-tornado",
  });
}
