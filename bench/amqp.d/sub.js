// amqplib consumer: prefetch PREFETCH, writes each body and a newline to stdout, acks each
// message after handing it to stdout; exits after COUNT messages.
// Usage: node sub.js URL QUEUE COUNT [PREFETCH] > out
'use strict';
const amqp = require('amqplib');

async function main() {
  const [url, queue, countArg, prefetchArg] = process.argv.slice(2);
  const count = Number(countArg);
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(Number(prefetchArg || 100));
  let n = 0;
  await new Promise((resolve) => {
    ch.consume(queue, (msg) => {
      process.stdout.write(Buffer.concat([msg.content, Buffer.from('\n')]));
      ch.ack(msg);
      if (++n === count) resolve();
    });
  });
  await ch.close();
  await conn.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
