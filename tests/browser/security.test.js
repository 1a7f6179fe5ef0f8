// security.test.js: what a link made by someone else can make the overlay do (issue 19): a
// ?config= from another origin is not read, and the page's token goes to its own host only.
// The other origin is a server that answers as an attacker's would (CORS open to all) and
// records every request and WebSocket upgrade it gets.
// Run: SERVITOR_BIN=build/bin node --test tests/browser/ (tests/e2e/overlay.bats does this).
'use strict';

const assert = require('node:assert/strict');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const server = t.server;
const attacker = t.attacker;

test(
    '?config= from another origin is refused, and shown as a problem', {timeout: 30000},
    async () => {
      // The foreign config would change the text and make the page fetch from there.
      const files = {};
      const bad = await attacker(files);
      files['/evil.json'] = {
        alerts: {
          follow: {text: 'HIJACKED {user}', image: `${bad.url}pixel.svg`, sound: `${bad.url}s.ogg`}
        }
      };
      files['/pixel.svg'] = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>';
      const s = await server();
      const queries = [
        `config=${encodeURIComponent(`${bad.url}evil.json`)}`,
        `config=${encodeURIComponent(`//127.0.0.1:${bad.port}/evil.json`)}`,
        // The same server under another name is another origin too.
        `config=${encodeURIComponent(`http://localhost:${s.port}/config.json`)}`,
      ];
      for (const q of queries) {
        const page = await t.overlay(s, `${q}&debug=1&duration=0.3&mute=1`);
        const e = h.event('follow', 'Viewer');
        s.send(e);
        const [a] = h.alertsOf(await h.waitForAlerts(page, 1));
        assert.equal(a.title, 'Viewer is now following!', q);
        const problems = (await page.evaluate(() => window.__overlay.status())).problems;
        assert.ok(
            problems.some((p) => /^\?config=.*refused: not on this page's origin/.test(p)),
            `${q}: ${problems}`);
        assert.match(await page.textContent('#debug'), /refused: not on this page's origin/);
      }
      assert.deepEqual(bad.requests, [], 'the foreign server was asked for something');
    });

test('?config= on the page\'s own origin still applies', {timeout: 30000}, async () => {
  const s = await server();
  const page =
      await t.overlay(s, `config=${encodeURIComponent(`${s.url}config.json`)}&duration=0.2&mute=1`);
  s.send(h.event('follow', 'Own'));
  const [a] = h.alertsOf(await h.waitForAlerts(page, 1));
  assert.equal(a.title, 'Own is now following!');
  assert.deepEqual((await page.evaluate(() => window.__overlay.status())).problems, []);
});

test(
    '?ws= on another host gets no token; the page\'s own host does', {timeout: 30000}, async () => {
      const evil = await attacker({});
      const token = 'S3cret token';
      const s = await server({env: {WS_SERVE_TOKEN: token}});
      const q = `token=${encodeURIComponent(token)}&debug=1&duration=0.2&mute=1` +
          '&reconnectMin=0.1&reconnectMax=0.2';
      const stolen = t.page(await t.browser.newPage());
      await stolen.goto(`${s.url}?${q}&ws=${encodeURIComponent(`ws://127.0.0.1:${evil.port}/x`)}`);
      // Wait until the page has tried the foreign server a few times.
      for (let i = 0; i < 100 && evil.upgrades.length < 2; i++) await h.sleep(50);
      assert.ok(evil.upgrades.length >= 2, `upgrades: ${evil.upgrades}`);
      for (const u of evil.upgrades) {
        assert.ok(!u.includes('token') && !u.includes('S3cret'), `sent ${u}`);
      }
      const problems = (await stolen.evaluate(() => window.__overlay.status())).problems;
      assert.ok(problems.some((p) => /the token is not sent there/.test(p)), `${problems}`);
      // An explicit ?ws= of the page's own host and port gets the token, and connects.
      const own = await t.overlay(s, `${q}&ws=${encodeURIComponent(`ws://127.0.0.1:${s.port}/`)}`);
      s.send(h.event('follow', 'Owner'));
      const [a] = h.alertsOf(await h.waitForAlerts(own, 1));
      assert.equal(a.title, 'Owner is now following!');
    });
