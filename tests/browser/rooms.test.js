// rooms.test.js: with ws-serve --room-key, the overlay page at /r/ROOM/ (and at /?room=ROOM)
// connects to its room's stream and shows that room's events only.
'use strict';

const assert = require('node:assert/strict');
const {test, before, after} = require('node:test');
const h = require('./harness');

let browser;
const servers = [];

before(async () => {
  browser = await h.launchBrowser();
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (browser) await browser.close();
});

function inChannel(login, type, user, extra = {}) {
  return h.event(type, user, {...extra, channel: {id: '7', login, name: login}});
}

for (const [where, path, query] of [['/r/alice/', 'r/alice/', ''], ['?room=alice', '', 'room=alice']]) {
  test(`the overlay at ${where} shows its room's events only`, {timeout: 30000}, async () => {
    const s = await h.startServer({args: ['--room-key', 'channel.login']});
    servers.push(s);
    const page = await h.openOverlay(
        browser, {...s, url: s.url + path}, `${query ? `${query}&` : ''}duration=0.2&pause=0.05&mute=1`);
    const theirs = inChannel('bob', 'follow', 'Bobfan');
    const ours = inChannel('alice', 'follow', 'Alicefan');
    const none = h.event('follow', 'Nobody', {channel: undefined});
    s.send([theirs, none, ours]);
    await h.waitForAlerts(page, 1);
    await page.waitForFunction(() => document.querySelector('.alert') === null);
    const alerts = h.alertsOf(await page.evaluate(() => window.__record));
    assert.deepEqual(alerts.map((x) => x.id), [ours.id]);
    assert.equal(await page.evaluate(() => window.__overlay.counts.received), 1);
  });
}
