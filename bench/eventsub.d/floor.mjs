// bench/eventsub.d/floor.mjs: the floor of bench/eventsub, a trivial reader of the fake
// EventSub server. On the welcome it creates the one channel.follow subscription with a single
// POST to the fake Helix, then writes the message id of each notification as a line
// as {"id":...} (no parsing beyond JSON.parse, no mapping, no dedup, no reconnect). What it gets is what the
// fake can send.
//
// Environment: CLIENT_ID, TOKEN, USER_ID, WS_URL, HELIX; NODE_EXTRA_CA_CERTS names the test CA.
import WebSocket from 'ws';

const env = (k) => process.env[k];
const ws = new WebSocket(env('WS_URL'));
let out = [];
const flush = () => {
  if (out.length) process.stdout.write(out.join(''));
  out = [];
};
ws.on('message', async (data) => {
  const m = JSON.parse(data);
  const type = m.metadata.message_type;
  if (type === 'notification') {
    out.push(JSON.stringify({ id: m.metadata.message_id }) + "\n");
    if (out.length >= 1000) flush();
  } else if (type === 'session_welcome') {
    const r = await fetch(env('HELIX') + '/eventsub/subscriptions', {
      method: 'POST',
      headers: {
        'Client-Id': env('CLIENT_ID'), Authorization: 'Bearer ' + env('TOKEN'),
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        type: 'channel.follow', version: '2',
        condition: { broadcaster_user_id: env('USER_ID'), moderator_user_id: env('USER_ID') },
        transport: { method: 'websocket', session_id: m.payload.session.id },
      }),
    });
    if (r.status !== 202) console.error(`floor.mjs: error: subscribing: ${r.status}`);
  }
});
ws.on('close', () => flush());
setInterval(flush, 200).unref();
process.on('SIGTERM', () => {
  flush();
  process.exit(0);
});
