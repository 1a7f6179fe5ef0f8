// docs-screenshot.js: renders overlay/docs/alert.png, the screenshot in README.md: a real alert
// (a resub with an emote in its message) from a real ws-serve, over a stand-in for stream
// footage (the page itself is transparent), at 1920x1080.
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
  } finally {
    await browser.close();
    await s.stop();
    copy.rm();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
