#!/usr/bin/env node
/**
 * One bare TCP hop for the bench's "two bare TCP pipes" row: listens on
 * 127.0.0.1 (ephemeral port) and pipes every connection, both ways, to
 * 127.0.0.1:<target port> — no parsing, no framing, nothing but
 * `socket.pipe()`. Two of these in a row cost what any relay through two Node
 * processes (tunnel server + agent, localtunnel's server + client) pays at the
 * very least, so the row is the floor those figures sit on, measured in the
 * same run.
 *
 *   node scripts/bench/tcp-pipe.mjs <target port>
 *
 * Prints `{"event":"listening","port":N}` when ready.
 */
import net from 'node:net';

const target = Number(process.argv[2]);
if (!Number.isInteger(target) || target < 1 || target > 65535) {
  console.error('usage: tcp-pipe.mjs <target port 1-65535>');
  process.exit(2);
}

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
  client.pipe(upstream);
  upstream.pipe(client);
  // One side failing ends both; an error never reaches the process.
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
