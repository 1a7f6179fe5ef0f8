// Node `ws` peer for bench/ws-fanout: the idiomatic broadcast server.
// Reads stdin lines and sends each, as one text frame, to every open client
// (`for (const c of wss.clients) c.send(line)`). No backpressure, as in the
// ws README's broadcast example; with --drop-over BYTES a client whose
// bufferedAmount is above BYTES skips the line (the variant that matches
// ws-serve's drop policy). Binds 127.0.0.1:0 and logs the port on stderr.
// Exits when stdin ends unless --keep-open; the harness stops it with SIGTERM.
'use strict';
const path = require('path');
const readline = require('readline');
const { WebSocketServer, WebSocket } = require(
    path.join(__dirname, '..', 'node_modules', 'ws'));

const args = process.argv.slice(2);
const keepOpen = args.includes('--keep-open');
const dropAt = args.includes('--drop-over')
    ? Number(args[args.indexOf('--drop-over') + 1]) : Infinity;

const wss = new WebSocketServer(
    { host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('listening', () => {
  process.stderr.write(
      `node-ws: info: listening on 127.0.0.1:${wss.address().port}\n`);
});
wss.on('connection', (ws) => ws.on('error', () => {}));

let dropped = 0;
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  for (const c of wss.clients) {
    if (c.readyState !== WebSocket.OPEN) continue;
    if (c.bufferedAmount > dropAt) { dropped++; continue; }
    c.send(line);
  }
});
rl.on('close', () => {
  if (dropped) process.stderr.write(`node-ws: info: dropped ${dropped}\n`);
  if (keepOpen) return;
  for (const c of wss.clients) c.close(1000);
  wss.close(() => process.exit(0));
});
process.on('SIGTERM', () => process.exit(0));
