// The peer side of bench/irc-parse: tmi.js's IRC message parser (parser.msg) over every line of
// a file, read in 1 MiB chunks and split on "\n" as tmi.js splits frames on "\r\n".
'use strict';
const fs = require('fs');
const parser = require('tmi.js/lib/parser');

const fd = fs.openSync(process.argv[2], 'r');
const buf = Buffer.alloc(1 << 20);
let rest = '';
let lines = 0;
let commands = 0;
const start = process.hrtime.bigint();
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
  rest = parts.pop();
  for (const line of parts) {
    const msg = parser.msg(line.endsWith('\r') ? line.slice(0, -1) : line);
    lines++;
    if (msg && msg.command) commands++;
  }
}
if (rest) {
  parser.msg(rest);
  lines++;
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({peer: 'tmi.js parser.msg', lines, parsed: commands, seconds: secs,
                            lines_per_second: Math.round(lines / secs)}));
