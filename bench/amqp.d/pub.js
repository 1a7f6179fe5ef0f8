// amqplib publisher with a confirm channel: every stdin line is one persistent message to the
// default exchange with routing key QUEUE; respects write backpressure (drain) and keeps at
// most MAX_INFLIGHT unconfirmed, like amqp-pub's --max-inflight; waits for every confirm.
// Usage: node pub.js URL QUEUE [MAX_INFLIGHT] < lines
'use strict';
const amqp = require('amqplib');
const readline = require('readline');

async function main() {
  const [url, queue, maxArg] = process.argv.slice(2);
  const max = Number(maxArg || 10000);
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  let inflight = 0;
  let failed = 0;
  let wake = null;
  const settled = (err) => {
    if (err) failed++;
    inflight--;
    if (wake && inflight < max) { const w = wake; wake = null; w(); }
  };
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (inflight >= max) await new Promise((r) => { wake = r; });
    inflight++;
    const ok = ch.sendToQueue(queue, Buffer.from(line), {
      persistent: true, contentType: 'application/json' }, settled);
    if (!ok) await new Promise((r) => ch.once('drain', r));
  }
  await ch.waitForConfirms();
  await conn.close();
  if (failed) { console.error(`${failed} nacked`); process.exit(1); }
}
main().catch((e) => { console.error(e); process.exit(1); });
