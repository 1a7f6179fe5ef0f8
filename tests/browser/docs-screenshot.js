// docs-screenshot.js: renders overlay/docs/alert.png, the screenshot in README.md: a real alert
// from a real ws-serve, over a stand-in for stream footage (the page itself is transparent).
// Run by hand: SERVITOR_BIN=build/bin node tests/browser/docs-screenshot.js
'use strict';

const path = require('node:path');
const h = require('./harness');

(async () => {
  const s = await h.startServer();
  const browser = await h.launchBrowser();
  try {
    const page = await h.openOverlay(browser, s, 'duration=30&mute=1');
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
      message: 'Still here for the boss fights!',
      gifted: false
    }));
    await page.waitForSelector('.alert');
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
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
