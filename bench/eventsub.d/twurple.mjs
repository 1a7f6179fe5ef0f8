// bench/eventsub.d/twurple.mjs: twurple's EventSubWsListener (@twurple/eventsub-ws) as the peer
// of `twitch-eventsub --types follow` in bench/eventsub. It subscribes to channel.follow for
// one user and writes one JSON line per event to stdout, as twitch-eventsub does, and one
// {"type":"disconnect"} line per socket drop it reports (onUserSocketDisconnect: twurple's way
// of telling its user about a keepalive timeout).
//
// Environment: CLIENT_ID, TOKEN, USER_ID, WS_URL (the fake's wss:// URL, passed as the
// listener's documented `url` option), HELIX (https://127.0.0.1:PORT/helix), AUTH
// (https://127.0.0.1:PORT/oauth2). NODE_EXTRA_CA_CERTS must name the test CA.
//
// The one shim: twurple's ApiClient calls https://api.twitch.tv/helix/... and
// https://id.twitch.tv/oauth2/... through the global fetch; its only other choice is the Twitch
// CLI's mock server (TWURPLE_MOCK_API_PORT), which also switches the WebSocket to plain ws://
// on the mock's port. So the global fetch is wrapped to send those two hosts to the fakes
// (paths kept: the fake Helix serves /helix/..., the fake id.twitch.tv /oauth2/...), as a
// hosts-file entry would. twurple's own code is not changed.
import { StaticAuthProvider } from '@twurple/auth';
import { ApiClient } from '@twurple/api';
import { EventSubWsListener } from '@twurple/eventsub-ws';

const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`twurple.mjs: error: ${k} is not set`);
    process.exit(2);
  }
  return v;
};
const helix = env('HELIX');
const auth = env('AUTH');
const realFetch = globalThis.fetch;
globalThis.fetch = (url, opts) => {
  const u = String(url)
    .replace(/^https:\/\/api\.twitch\.tv\/helix/, helix)
    .replace(/^https:\/\/id\.twitch\.tv\/oauth2/, auth);
  return realFetch(u, opts);
};

const userId = env('USER_ID');
// The scopes of the stored login that twitch-eventsub is given (the fake id.twitch.tv's
// validation answers chat:read for a token it was handed at start-up).
const authProvider = new StaticAuthProvider(env('CLIENT_ID'), env('TOKEN'), ['moderator:read:followers']);
const apiClient = new ApiClient({ authProvider });
const listener = new EventSubWsListener({ apiClient, url: env('WS_URL') });

// Buffered like a C stdio stream writing to a file: one write(2) per 64 KiB or per turn of the
// event loop, whichever comes first.
let buf = [];
let size = 0;
let scheduled = false;
const flush = () => {
  scheduled = false;
  if (buf.length) process.stdout.write(buf.join(''));
  buf = [];
  size = 0;
};
const out = (obj) => {
  const line = JSON.stringify(obj) + '\n';
  buf.push(line);
  size += line.length;
  if (size >= 65536) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};

// The numbered follows of the fake carry user_id 1000 + N and message id n-NNNNNN; the
// handler does not see the message id, so the id is rebuilt from the user id.
listener.onChannelFollow(userId, userId, (e) => {
  const n = Number(e.userId) - 1000;
  out({
    v: 1, type: 'follow', id: 'n-' + String(n).padStart(6, '0'),
    at: e.followDate.toISOString(), channel: e.broadcasterName,
    user: { id: e.userId, login: e.userName, name: e.userDisplayName },
  });
});
listener.onUserSocketDisconnect((uid, err) => {
  out({ v: 1, type: 'disconnect', error: err ? String(err.message || err) : null });
});
listener.start();
const stop = () => {
  flush();
  listener.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
