/**
 * The viewers of p2p-host-close-race.mjs, one after another in this process.
 * argv: session url, its host, count, mode (close | leave | abrupt | midbody | mix).
 */
const { join } = require('node:path');
const ROOT = join(__dirname, '..', '..');
const { connectP2PViewer } = require(join(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js'));
const { requestOver } = require(join(ROOT, 'packages/relay-server/dist/viewer/request.js'));
const [url, host, nArg, mode] = process.argv.slice(2);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let i = 1; i <= Number(nArg); i++) {
    const v = await connectP2PViewer({ url, timeoutMs: 15000 });
    let m = mode === 'mix' ? ['close', 'abrupt', 'leave', 'midbody'][i % 4] : mode;
    if (m === 'midbody') {
      const rs = [1, 2, 3].map(() => requestOver(v.connection, { method: 'GET', target: '/bytes?n=4000000', headers: [['host', host]] }));
      const r = await rs[0];
      const it = r.chunks()[Symbol.asyncIterator]();
      await it.next();
      m = 'abrupt';
      rs.forEach((p) => p.catch(() => {}));
    } else {
      const r = await requestOver(v.connection, { method: 'GET', target: '/hello', headers: [['host', host]] });
      await r.bytes();
    }
    if (m === 'close') v.close();
    else if (m === 'leave') await v.leave();
    else if (m === 'abrupt') {
      // Like a tab going away: no bye, the peer connection closed (signaling stays open until this process exits).
      try {
        v.peerConnection.close();
      } catch {
        /* already closed */
      }
      v.connection.abandon?.();
    }
    process.stdout.write(JSON.stringify({ i, viewerId: v.viewerId, mode: m }) + '\n');
    await delay(Number(process.env.GAP_MS ?? 50));
  }
  process.stdout.write(JSON.stringify({ done: true }) + '\n');
  setTimeout(() => process.exit(0), 200);
})().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e) }) + '\n');
  process.exit(2);
});
