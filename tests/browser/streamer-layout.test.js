// streamer-layout.test.js: the overlay as a streamer sees it, its sizes (issue 18): at 1920x1080
// and 800x600 no headline wraps for any of the nine default types, a long name stays whole, and
// the card, its font and its icon follow the source's size. The rest of the streamer's view is in
// streamer.test.js.
// Run: SERVITOR_BIN=build/bin node --test tests/browser/ (tests/e2e/overlay.bats does this).
'use strict';

const assert = require('node:assert/strict');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const server = t.server;
const overlay = t.overlay;

const LONG = 'xXx_TheUltimateGamer_xXx';

// One event of each of the nine default types, from a long name, with the amounts that made
// headlines wrap.
function everyType() {
  return [
    h.event('follow', LONG),
    h.event('sub', LONG, {tier: '3000', months: 1, gifted: false}),
    h.event('resub', LONG, {tier: '3000', months: 1, message: 'one more month of this'}),
    h.event(
        'subgift', LONG, {recipient: {login: 'r', name: 'AnotherVeryLongNameHere'}, tier: '3000'}),
    h.event('giftbomb', LONG, {count: 50, tier: '3000', group: `bomb-${Math.random()}`}),
    h.event('cheer', LONG, {bits: 10000, message: 'take my bits'}),
    h.event('raid', LONG, {viewers: 1}),
    h.event('redemption', LONG, {reward: {id: 'r', title: 'Hydrate now please', cost: 500}}),
    h.event('hypetrain', null, {phase: 'begin', level: 3, total: 1200, goal: 2000}),
  ];
}

for (const [width, height] of [[1920, 1080], [800, 600]]) {
  test(
      `${width}x${height}: no headline wraps, for any type; a long name stays whole`,
      {timeout: 60000}, async () => {
        const s = await server();
        const page = await overlay(
            s, 'duration=2.5&pause=0&mute=1&backlog.after=0', {viewport: {width, height}});
        const events = everyType();
        s.send(events);
        for (const e of events) {
          const sel = `.alert[data-id="${e.id}"]`;
          await page.waitForSelector(sel, {timeout: 10000});
          const m = await page.$eval(sel, (el) => {
            const title = el.querySelector('.alert__title');
            const user = title.querySelector('.v-user');
            const box = el.getBoundingClientRect();
            return {
              lines:
                  Math.round(title.offsetHeight / parseFloat(getComputedStyle(title).lineHeight)),
              nameParts: user ? user.getClientRects().length : 1,
              cut: title.scrollWidth > title.clientWidth + 1,
              font: parseFloat(getComputedStyle(title).fontSize),
              inside: box.left >= 0 && box.right <= innerWidth && box.top >= 0 &&
                  box.bottom <= innerHeight,
              text: title.textContent,
              image: el.querySelector('.alert__image') ?
                  el.querySelector('.alert__image').offsetHeight :
                  null,
            };
          });
          await h.sleep(500);  // past the entry animation, for the screenshot
          await page.screenshot({path: h.screenshotPath(`size-${width}x${height}-${e.type}.png`)});
          assert.equal(m.lines, 1, `${e.type} "${m.text}" takes ${m.lines} lines`);
          assert.equal(m.nameParts, 1, `${e.type}: the name is broken`);
          assert.equal(m.cut, false, `${e.type}: the headline is cut`);
          assert.ok(m.inside, `${e.type}: the card leaves the screen`);
          // The same alert, smaller: 42 px at 1080 lines, in proportion below.
          const scale = Math.min(width / 1920, height / 1080);
          assert.ok(m.font <= 42 * scale + 0.5, `font ${m.font}`);
          // The 128-pixel icons too.
          assert.ok(Math.abs(m.image - 128 * scale) <= 2, `${e.type}: icon ${m.image} px high`);
        }
      });
}
