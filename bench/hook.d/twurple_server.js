// bench/hook's peer: @twurple/eventsub-http's EventSubMiddleware (unmanaged: no Helix calls) on
// Node's own http server, with a router that does what Express's does for its two routes, and
// a channel.follow handler that writes each event as one JSON line, as twitch-hook does.
// Usage: node twurple_server.js SECRET  (prints "listening on 127.0.0.1:PORT" on stderr)
'use strict';
const http = require('http');

async function main() {
  const {EventSubMiddleware} = await import('@twurple/eventsub-http');
  const mw = new EventSubMiddleware({managed: false, clientId: 'benchclient', hostName: '127.0.0.1',
    pathPrefix: '/twitch', secret: process.argv[2], strictHostCheck: false, logger: {minLevel: 'error'}});
  const routes = [];
  const router = {
    post: (path, h) => routes.push({method: 'POST', re: pattern(path), h}),
    get: (path, h) => routes.push({method: 'GET', re: pattern(path), h}),
  };
  mw.apply(router);
  mw.onChannelFollow('777', '777', (e) => {
    process.stdout.write(JSON.stringify({type: 'follow', user_id: e.userId, user_login: e.userName,
      user_name: e.userDisplayName, followed_at: e.followDate.toISOString()}) + '\n');
  });
  const server = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    for (const r of routes) {
      const m = r.method === req.method && r.re.exec(path);
      if (m) {
        req.params = {id: m[1]};
        return r.h(req, res, (err) => { res.writeHead(500); res.end(String(err)); });
      }
    }
    res.writeHead(404);
    res.end();
  });
  server.keepAliveTimeout = 30000;
  server.listen(0, '127.0.0.1', () => {
    process.stderr.write(`listening on 127.0.0.1:${server.address().port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function pattern(path) {
  return new RegExp('^' + path.replace(/:id/, '([^/]+)') + '$');
}

main();
