// docs-screenshot.js: renders overlay/docs/alert.png, the screenshot in README.md: a real alert
// (a resub with an emote in its message) from a real ws-serve, over a stand-in for stream
// footage (the page itself is transparent), at 1920x1080; and overlay/docs/desk.png: the alert
// desk beside a paused overlay, with a few events in its feed.
// Run by hand: SERVITOR_BIN=build/bin node tests/browser/docs-screenshot.js
'use strict';

const path = require('node:path');
const h = require('./harness');

// A stand-in emote (Twitch's CDN is not reached from here), served beside the page.
const EMOTE =
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 28 28" width="56" height="56">' +
    '<circle cx="14" cy="14" r="12" fill="#ffd23f" stroke="#fff" stroke-width="2"/>' +
    '<circle cx="10" cy="11" r="2" fill="#2b2140"/><circle cx="18" cy="11" r="2" fill="#2b2140"/>' +
    '<path d="M8 16 Q14 22 20 16" fill="none" stroke="#2b2140" stroke-width="2"/></svg>';

// The desk with an overlay (paused, so that its queue shows) and a feed of every kind of entry.
async function desk(browser) {
  const s = await h.startServer({args: ['--history', '50'], env: {WS_SERVE_CONTROL_TOKEN: 'docs'}});
  try {
    const ev = (type, user, extra, at) =>
        Object.assign(h.event(type, user, extra), {at: `2026-03-01T18:${at}.000Z`});
    s.send([
      ev('follow', 'NightOwl', {}, '01:12'),
      ev('cheer', 'PixelPanda', {bits: 1500, message: 'For the boss fight!'}, '02:40'),
      ev('resub', 'MapleCrate', {tier: '1000', months: 14, streak: 14, gifted: false,
                                 message: 'Still here!'}, '03:05'),
      {v: 1, type: 'gap', id: 'docs-gap', source: 'eventsub', at: '2026-03-01T18:06:00.000Z',
       from: '2026-03-01T18:04:00.000Z', to: '2026-03-01T18:06:00.000Z'},
      ev('giftbomb', 'GiftGoblin', {tier: '1000', count: 3, group: 'docs-g'}, '06:30'),
      ...['Ada', 'Bo', 'Cy'].map((r) => ev('subgift', 'GiftGoblin',
                                          {tier: '1000', group: 'docs-g', recipient: {login: r}},
                                          '06:31')),
      ev('raid', 'TrailBlazer', {viewers: 120}, '07:55'),
    ]);
    const overlay = await h.openOverlay(browser, s, 'mute=1&name=Main%20scene');
    const page = await browser.newPage({viewport: {width: 1100, height: 640}});
    await page.goto(`${s.url}desk/?control=docs`);
    await page.waitForSelector('html[data-control="allowed"]');
    const row = page.locator('.overlay:not(.overlay--all)', {hasText: 'Main scene'});
    await row.waitFor();
    await row.getByRole('button', {name: /^Pause/}).click();
    await row.locator('.state', {hasText: 'paused'}).waitFor();
    s.send(ev('sub', 'NewFriend', {tier: '2000', months: 1, gifted: false}, '08:10'));
    await row.locator('.state', {hasText: 'queue'}).waitFor();
    await h.sleep(800);
    await page.screenshot({path: path.join(h.ROOT, 'overlay', 'docs', 'desk.png'), fullPage: true});
    await overlay.close();
  } finally {
    await s.stop();
  }
}

(async () => {
  const copy = h.overlayCopy({'emotes/1.svg': EMOTE});
  const s = await h.startServer({root: copy.root});
  const browser = await h.launchBrowser();
  try {
    const page = await h.openOverlay(
        browser, s, `duration=30&mute=1&emoteUrl=${encodeURIComponent('emotes/{id}.svg')}`,
        {viewport: {width: 1920, height: 1080}});
    await page.addStyleTag({
      content: `html { background:
        radial-gradient(circle at 20% 80%, #2b5d34 0, transparent 45%),
        radial-gradient(circle at 85% 20%, #3a3f8f 0, transparent 50%),
        linear-gradient(160deg, #1d2b3a, #0d1118); }`
    });
    s.send(h.event('resub', 'PixelPanda', {
      tier: '1000',
      months: 14,
      streak: 14,
      message: 'Still here for the boss fights! HypeFace',
      fragments: [
        {type: 'text', text: 'Still here for the boss fights! '},
        {type: 'emote', text: 'HypeFace', id: '1'}
      ],
      gifted: false
    }));
    await page.waitForSelector('.alert .emote');
    await h.sleep(1200);
    const box = await page.locator('.alert').boundingBox();
    const m = 48;  // the card's glow and shadow, and some footage around it
    await page.screenshot({
      path: path.join(h.ROOT, 'overlay', 'docs', 'alert.png'),
      clip: {
        x: Math.max(0, box.x - m),
        y: Math.max(0, box.y - m),
        width: box.width + 2 * m,
        height: box.height + 2 * m
      }
    });
    await desk(browser);
  } finally {
    await browser.close();
    await s.stop();
    copy.rm();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
