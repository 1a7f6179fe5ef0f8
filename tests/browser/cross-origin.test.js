// cross-origin.test.js: a page from another origin in the streamer's browser cannot read
// ws-serve's events (cross-site WebSocket hijacking), while the overlay on ws-serve's own origin
// can; --origin lets a named origin in.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {test, before, after} = require('node:test');
const h = require('./harness');

let browser;
let attackerRoot;
const servers = [];

before(async () => {
  browser = await h.launchBrowser();
  attackerRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'servitor-attacker-'));
  // The page opens a WebSocket to the port in its query and reports what it got.
  fs.writeFileSync(path.join(attackerRoot, 'index.html'), `<!doctype html><script>
    window.result = new Promise((resolve) => {
      const port = new URLSearchParams(location.search).get('port');
      const got = {opened: false, messages: []};
      const ws = new WebSocket('ws://127.0.0.1:' + port + '/');
      ws.onopen = () => { got.opened = true; ws.send('{"v":1,"type":"raid","id":"forged"}'); };
      ws.onmessage = (m) => got.messages.push(m.data);
      ws.onclose = (e) => resolve({...got, code: e.code});
      setTimeout(() => { ws.close(); resolve(got); }, 3000);
    });
  </script>`);
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (browser) await browser.close();
  fs.rmSync(attackerRoot, {recursive: true, force: true});
});

async function server(options) {
  const s = await h.startServer(options);
  servers.push(s);
  return s;
}

// What the attacker's page (served by another ws-serve, so another origin) gets from |victim|.
async function attack(attacker, victim) {
  const page = await browser.newPage();
  try {
    await page.goto(`${attacker.url}?port=${victim.port}`);
    victim.send(h.event('cheer', 'someone', {bits: 100}));
    return await page.evaluate(() => window.result);
  } finally {
    await page.close();
  }
}

test('a page from another origin is refused: no events read, nothing relayed', async () => {
  const victim = await server({args: ['--relay', '--keep-open']});
  const attacker = await server({root: attackerRoot});
  const got = await attack(attacker, victim);
  assert.equal(got.opened, false);
  assert.deepEqual(got.messages, []);
  assert.match(victim.log(), /refused: origin not allowed/);
});

test('--origin lets the named origin in', async () => {
  const attacker = await server({root: attackerRoot});
  const victim = await server({args: ['--origin', `http://127.0.0.1:${attacker.port}`]});
  const got = await attack(attacker, victim);
  assert.equal(got.opened, true);
  assert.doesNotMatch(victim.log(), /refused/);
});

test('the overlay on ws-serve\'s own origin connects', async () => {
  const s = await server({});
  const page = await h.openOverlay(browser, s, '');  // waits for the stream to be open
  try {
    assert.doesNotMatch(s.log(), /refused/);
  } finally {
    await page.close();
  }
});
