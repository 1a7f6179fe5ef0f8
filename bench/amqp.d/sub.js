// amqplib consumer: prefetch PREFETCH, writes each body and a newline to stdout, and acks in
// batches after writing, as amqp-sub does: every PREFETCH/2 messages (and at the last) one
// ack(msg, allUpTo = true) settles every message up to it. Exits after COUNT messages.
// Usage: node sub.js URL QUEUE COUNT [PREFETCH] > out
'use strict';
const amqp = require('amqplib');

async function main() {
  const [url, queue, countArg, prefetchArg] = process.argv.slice(2);
  const count = Number(countArg);
  const prefetch = Number(prefetchArg || 100);
  const batch = Math.max(1, Math.floor(prefetch / 2));
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  let n = 0;
  let unacked = 0;
  await new Promise((resolve) => {
    ch.consume(queue, (msg) => {
      process.stdout.write(Buffer.concat([msg.content, Buffer.from('\n')]));
      n++;
      if (++unacked >= batch || n === count) {
        ch.ack(msg, true);
        unacked = 0;
      }
      if (n === count) resolve();
    });
  });
  await ch.close();
  await conn.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
