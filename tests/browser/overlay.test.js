// overlay.test.js: the alert overlay in headless chromium, fed through a real ws-serve's stdin.
// Run: SERVITOR_BIN=build/bin node --test tests/browser/ (tests/e2e/overlay.bats does this).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const server = t.server;
const overlay = t.overlay;

test(
    'alerts show the right text, in order, one at a time, with the configured timing',
    {timeout: 30000}, async () => {
      const s = await server();
      const page = await overlay(s, 'duration=0.6&pause=0.3&mute=1');
      s.send([
        h.event('follow', 'Alice'),
        h.event('sub', 'Bob', {tier: '1000', months: 1, gifted: false}),
        h.event('cheer', 'Carol', {bits: 500, message: 'hello there'}),
        h.event('raid', 'Dave', {viewers: 42}),
        h.event(
            'redemption', 'Erin',
            {reward: {id: 'r1', title: 'Hydrate', cost: 100}, message: 'drink water'}),
      ]);
      await page.waitForSelector('.alert');
      await page.screenshot({path: h.screenshotPath('order-first-alert.png')});
      const alerts = h.alertsOf(await h.waitForAlerts(page, 5));
      assert.deepEqual(alerts.map((a) => a.title), [
        'Alice is now following!',
        'Bob subscribed with Tier 1!',
        'Carol cheered 500 bits!',
        'Dave is raiding with 42 viewers!',
        'Erin redeemed Hydrate',
      ]);
      assert.deepEqual(alerts.map((a) => a.message), ['', '', 'hello there', '', 'drink water']);
      assert.ok(h.oneAtATime(await page.evaluate(() => window.__record)), 'never two at once');
      // Timers never fire early: each alert stays its duration, and the pause separates them.
      for (const a of alerts) assert.ok(a.shownMs >= 590, `shown ${a.shownMs} ms`);
      for (const a of alerts.slice(1)) assert.ok(a.gapMs >= 290, `gap ${a.gapMs} ms`);
      assert.deepEqual(page.errors, []);
    });

test(
    'a burst of 100 events in one second: every one shown once, in order', {timeout: 60000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=0.05&pause=0&mute=1');
      const events = [];
      for (let i = 1; i <= 100; i++) {
        events.push(
            h.event('cheer', `viewer${String(i).padStart(3, '0')}`, {bits: i, message: ''}));
      }
      for (let i = 0; i < 100; i += 10) {  // ten slices of ten over about a second
        s.send(events.slice(i, i + 10));
        await h.sleep(100);
      }
      const alerts = h.alertsOf(await h.waitForAlerts(page, 100, 45000));
      await h.sleep(300);
      const record = await page.evaluate(() => window.__record);
      assert.equal(record.filter((r) => r.op === 'add').length, 100, 'nothing shown twice');
      assert.deepEqual(alerts.map((a) => a.id), events.map((e) => e.id));
      assert.equal(alerts[99].title, 'viewer100 cheered 100 bits!');
      assert.ok(h.oneAtATime(record), 'never two at once');
    });

test('an event that arrives twice is shown once', {timeout: 30000}, async () => {
  const s = await server();
  const page = await overlay(s, 'duration=0.2&pause=0.05&mute=1');
  const a = h.event('follow', 'Alice');
  const b = h.event('cheer', 'Bob', {bits: 100, message: 'x'});
  const c = h.event('follow', 'Alice');  // same content, another id: a new follow
  s.send([a, a, b, a, c, b]);
  await h.waitForAlerts(page, 3);
  // All six taken in, none waiting, none on screen: no fourth alert can come.
  await page.waitForFunction(
      () => window.__overlay.counts.received === 6 && window.__overlay.waiting === 0 &&
          document.querySelector('.alert') === null);
  const alerts = h.alertsOf(await page.evaluate(() => window.__record));
  assert.deepEqual(alerts.map((x) => x.id), [a.id, b.id, c.id]);
  assert.equal(await page.evaluate(() => window.__overlay.counts.duplicates), 3);
});

test('markup in a username or message stays text', {timeout: 30000}, async () => {
  const s = await server();
  const page = await overlay(s, 'duration=2&pause=0.1&mute=1');
  const name = '<img src=x onerror="window.__pwned=1"><b>Mallory</b>';
  const message = '<script>window.__pwned=2</script><i>hi</i>';
  s.send(h.event('cheer', name, {bits: 100, message}));
  await page.waitForSelector('.alert .alert__title');
  await page.waitForFunction(  // the entry animation over
      () => document.getAnimations().every(
          (a) => a.playState !== 'running' || a.effect.getComputedTiming().iterations === Infinity));
  await page.screenshot({path: h.screenshotPath('markup-stays-text.png')});
  assert.equal(await page.textContent('.alert__title'), `${name} cheered 100 bits!`);
  assert.equal(await page.textContent('.alert__message'), message);
  assert.equal(
      await page.locator('.alert b, .alert i, .alert script, .alert img:not(.alert__image)')
          .count(),
      0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

test(
    'a gift bomb is one alert, whichever order its events arrive in', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=1.5&pause=0.1&giftHold=1&mute=1');
      const gift = (gifter, recipient, group) => h.event(
          'subgift', gifter,
          {recipient: {login: recipient.toLowerCase(), name: recipient}, tier: '1000', group});
      // Group A: the giftbomb first, then its subgifts (Twitch IRC's usual order).
      // Group B: the subgifts first, then the giftbomb, within the hold.
      // Group C: subgifts whose giftbomb never comes: one alert from the subgifts after the hold.
      s.send([
        h.event('giftbomb', 'Gina', {count: 3, tier: '1000', group: 'A'}),
        gift('Gina', 'R1', 'A'),
        gift('Gina', 'R2', 'A'),
        gift('Hank', 'S1', 'B'),
        gift('Hank', 'S2', 'B'),
      ]);
      await page.waitForFunction(() => window.__overlay.counts.received === 5);
      s.send([
        h.event('giftbomb', 'Hank', {count: 2, tier: '2000', group: 'B'}),
        gift('Gina', 'R3', 'A'),
        gift('Ivy', 'T1', 'C'),
        gift('Ivy', 'T2', 'C'),
        gift('Jack', 'Solo', undefined),
        h.event('follow', 'Kim'),
      ]);
      const alerts = h.alertsOf(await h.waitForAlerts(page, 5));
      await h.sleep(1500);
      const all = h.alertsOf(await page.evaluate(() => window.__record));
      assert.deepEqual(all.map((a) => a.title), [
        'Gina is gifting 3 subs!',
        'Hank is gifting 2 subs!',
        'Ivy is gifting 2 subs!',
        'Jack gifted a Tier 1 sub to Solo!',
        'Kim is now following!',
      ]);
      assert.equal(alerts[1].message, 'S1, S2');
      assert.equal(alerts[2].message, 'T1, T2');
      // folded in while on screen (1.5 s, so that a loaded machine still delivers R3 in time)
      assert.equal(alerts[0].finalMessage, 'R1, R2, R3');
    });

test(
    'anonymous acts read as the configured name; tiers read as words', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=0.2&pause=0.05&mute=1');
      s.send([
        h.event('giftbomb', null, {anonymous: true, count: 10, tier: '3000', group: 'anon'}),
        h.event('cheer', null, {anonymous: true, bits: 300, message: ''}),
        h.event('sub', 'Primer', {tier: 'prime', months: 1, gifted: false}),
        h.event('sub', 'Gifted', {tier: '2000', months: 1, gifted: true}),  // its gift was shown
        h.event('subgift', 'Giver', {recipient: {login: 'r', name: 'Recv'}, tier: '2000'}),
      ]);
      await h.waitForAlerts(page, 4);
      await h.sleep(400);
      const alerts = h.alertsOf(await page.evaluate(() => window.__record));
      assert.deepEqual(alerts.map((a) => a.title), [
        'Anonymous is gifting 10 subs!',
        'Anonymous cheered 300 bits!',
        'Primer subscribed with Prime!',
        'Giver gifted a Tier 2 sub to Recv!',
      ]);
    });

test(
    'types switched off and amounts under the minimum are skipped; URL templates apply',
    {timeout: 30000}, async () => {
      const s = await server();
      const page = await overlay(
          s,
          'types=cheer,raid&minBits=100&minViewers=10&duration=0.2' +
              '&pause=0.05&mute=1&cheer.text=' + encodeURIComponent('{bits} from {user}!'));
      s.send([
        h.event('follow', 'Off'),
        h.event('cheer', 'Small', {bits: 99, message: ''}),
        h.event('cheer', 'Enough', {bits: 100, message: ''}),
        h.event('raid', 'Tiny', {viewers: 9}),
        h.event('raid', 'Big', {viewers: 10}),
        h.event('sub', 'Off', {tier: '1000', months: 1}),
        h.event('cheer', 'Last', {bits: 1000, message: ''}),
      ]);
      await h.waitForAlerts(page, 3);
      await h.sleep(500);
      const alerts = h.alertsOf(await page.evaluate(() => window.__record));
      assert.deepEqual(
          alerts.map((a) => a.title),
          ['100 from Enough!', 'Big is raiding with 10 viewers!', '1000 from Last!']);
    });

test(
    'bad lines and odd events are counted and skipped; the queue goes on', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(
          s,
          'duration=0.2&pause=0.05&mute=1&types=follow,cheer' +
              '&__proto__.text=polluted&constructor.text=polluted');
      s.send([
        'not json at all',
        '[1, 2, 3]',
        '{"v":1,"id":"no-type"}',
        {v: 1, type: 'cheer', id: 'odd-1', user: 'just a string', bits: 'lots', message: 42},
        {v: 1, type: 'follow', id: 'odd-2', user: {login: 'loginonly'}},
        h.event('follow', 'Fine'),
      ]);
      await h.waitForAlerts(page, 2);
      await h.sleep(300);
      const alerts = h.alertsOf(await page.evaluate(() => window.__record));
      assert.deepEqual(
          alerts.map((a) => a.title), ['loginonly is now following!', 'Fine is now following!']);
      const counts = await page.evaluate(() => window.__overlay.counts);
      assert.equal(counts.invalid, 3);
      assert.equal(counts.skipped, 1);  // the cheer of "lots" bits is under minBits
      assert.equal(await page.evaluate(() => ({}).text), undefined);
    });

test(
    'each alert plays its sound at the configured volume; mute=1 plays none', {timeout: 30000},
    async () => {
      const s = await server();
      // Records every play() of a media element: which sound, at what volume.
      const recordPlays = () => {
        window.__plays = [];
        const play = HTMLMediaElement.prototype.play;
        HTMLMediaElement.prototype.play = function() {
          window.__plays.push({src: this.src, volume: this.volume});
          return play.call(this);
        };
      };
      const pageFor = async (query) => {
        const page = t.page(await t.browser.newPage());
        await page.addInitScript(recordPlays);
        await page.addInitScript(h.recorder);
        await page.goto(`${s.url}?${query}`);
        await page.waitForSelector('html[data-connection="open"]');
        return page;
      };
      const loud = await pageFor(
          'duration=0.2&pause=0.05&volume=0.5&follow.volume=0.8' +
          '&raid.sound=');
      const muted = await pageFor('duration=0.2&pause=0.05&mute=1');
      s.send([
        h.event('follow', 'Fola'), h.event('cheer', 'Chee', {bits: 5, message: ''}),
        h.event('raid', 'Rai', {viewers: 5})
      ]);
      await h.waitForAlerts(loud, 3);
      await h.waitForAlerts(muted, 3);
      const plays = await loud.evaluate(() => window.__plays);
      // follow: 0.8 × 0.5; cheer: 1 × 0.5; raid: no sound.
      assert.deepEqual(
          plays.map((p) => [p.src.replace(/^.*\//, ''), p.volume]),
          [['follow.ogg', 0.4], ['cheer.ogg', 0.5]]);
      assert.deepEqual(await muted.evaluate(() => window.__plays), []);
    });

test('a duration per type, from the URL', {timeout: 30000}, async () => {
  const s = await server();
  const page = await overlay(s, 'duration=0.2&pause=0.05&raid.duration=1.2&mute=1');
  s.send([
    h.event('follow', 'Quick'), h.event('raid', 'Long', {viewers: 50}), h.event('follow', 'Quick2')
  ]);
  const alerts = h.alertsOf(await h.waitForAlerts(page, 3));
  assert.deepEqual(alerts.map((a) => a.type), ['follow', 'raid', 'follow']);
  assert.ok(alerts[1].shownMs >= 1190, `raid shown ${alerts[1].shownMs} ms`);
  assert.ok(alerts[0].shownMs >= 190 && alerts[0].shownMs < alerts[1].shownMs);
});

test(
    'config.json beside the page, ?config=FILE merged over it, URL parameters over both',
    {timeout: 30000}, async () => {
      // A copy of the overlay with its own config.json and an extra file.
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'overlay-'));
      fs.cpSync(h.OVERLAY, root, {recursive: true});
      const cfg = JSON.parse(fs.readFileSync(path.join(root, 'config.json'), 'utf8'));
      cfg.types = ['raid', 'cheer'];
      cfg.alerts.raid.text = 'RAID by {user}: {viewers}';
      cfg.alerts.cheer.text = 'CHEER {bits}';
      fs.writeFileSync(path.join(root, 'config.json'), JSON.stringify(cfg));
      fs.writeFileSync(
          path.join(root, 'small.json'),
          JSON.stringify({pause: 0.05, minBits: 10, alerts: {cheer: {message: 'says {message}'}}}));
      try {
        const s = await server({root});
        const page = await overlay(
            s,
            'config=small.json&duration=0.2&mute=1' +
                '&raid.text=' + encodeURIComponent('{viewers} raiders with {user}'));
        s.send([
          h.event('follow', 'NotShown'), h.event('cheer', 'Few', {bits: 5, message: 'a'}),
          h.event('cheer', 'Many', {bits: 10, message: 'hi'}), h.event('raid', 'Rae', {viewers: 7})
        ]);
        await h.waitForAlerts(page, 2);
        await h.sleep(400);
        const alerts = h.alertsOf(await page.evaluate(() => window.__record));
        assert.deepEqual(
            alerts.map((a) => [a.title, a.message]),
            [['CHEER 10', 'says hi'], ['7 raiders with Rae', '']]);
      } finally {
        fs.rmSync(root, {recursive: true, force: true});
      }
    });

test('the page reconnects after ws-serve restarts on the same port', {timeout: 45000}, async () => {
  const first = await server();
  const page = await overlay(first, 'duration=0.3&pause=0.05&mute=1');
  first.send(h.event('follow', 'Before'));
  await h.waitForAlerts(page, 1);
  await first.stop();
  await page.waitForSelector('html[data-connection="closed"]', {timeout: 10000});
  const second = await server({port: first.port});
  await page.waitForSelector('html[data-connection="open"]', {timeout: 20000});
  second.send(h.event('follow', 'After'));
  const alerts = h.alertsOf(await h.waitForAlerts(page, 2));
  assert.deepEqual(
      alerts.map((a) => a.title), ['Before is now following!', 'After is now following!']);
});

test(
    'the page passes its token on; without it the stream is refused', {timeout: 30000},
    async () => {
      const s = await server({env: {WS_SERVE_TOKEN: 'S3cret token'}});
      const page =
          await overlay(s, `token=${encodeURIComponent('S3cret token')}&duration=0.2&mute=1`);
      const bare = t.page(await t.browser.newPage());
      await bare.addInitScript(() => {
        window.__states = [];
        new MutationObserver(
            () => window.__states.push(document.documentElement.dataset.connection))
            .observe(
                document, {attributes: true, subtree: true, attributeFilter: ['data-connection']});
      });
      await bare.goto(s.url + '?duration=0.2&mute=1&reconnectMin=0.1&reconnectMax=0.2');
      await bare.waitForFunction(() => window.__states.filter((x) => x === 'closed').length >= 2);
      s.send(h.event('follow', 'Tokenholder'));
      const alerts = h.alertsOf(await h.waitForAlerts(page, 1));
      assert.equal(alerts[0].title, 'Tokenholder is now following!');
      assert.ok(!(await bare.evaluate(() => window.__states.includes('open'))), 'never connected');
      assert.equal(await bare.locator('.alert').count(), 0);
    });

test('?debug=1 shows the connection state and the last events', {timeout: 30000}, async () => {
  const s = await server();
  const page = await overlay(s, 'debug=1&duration=0.2&mute=1');
  const e = h.event('raid', 'Debbie', {viewers: 3});
  s.send(e);
  await h.waitForAlerts(page, 1);
  await page.waitForFunction(
      () => /shown as raid/.test(document.getElementById('debug').textContent));
  const text = await page.textContent('#debug');
  assert.match(text, /stream open ws:\/\/127\.0\.0\.1:\d+\//);
  assert.match(text, new RegExp(`raid Debbie ${e.id} shown as raid`));
  assert.ok(await page.isVisible('#debug'));
  const plain = await overlay(s, 'mute=1');
  assert.equal(await plain.isVisible('#debug'), false);
});

test(
    'the default theme: screenshots of alerts over a transparent background', {timeout: 60000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=1.6&pause=0.1&giftHold=0.2&mute=1');
      const samples = [
        h.event(
            'cheer', 'PixelPanda',
            {bits: 1000, message: 'Take my bits and keep the stream going!'}),
        h.event('giftbomb', 'GenerousGamer', {count: 5, tier: '1000', group: 'shot'}),
        h.event('raid', 'NightOwlTV', {viewers: 128}),
      ];
      await page.evaluate(() => {
        window.__images = [];
      });
      s.send(samples);
      for (const [i, e] of samples.entries()) {
        await page.waitForSelector(`.alert[data-id="${e.id}"]`, {timeout: 10000});
        await h.sleep(600);  // past the entry animation
        await page.evaluate(() => {
          const img = document.querySelector('.alert .alert__image');
          if (img && img.complete && img.naturalWidth > 0) {
            window.__images.push(img.getAttribute('src'));
          }
        });
        await page.screenshot(
            {path: h.screenshotPath(`theme-${i + 1}-${e.type}.png`), omitBackground: true});
      }
      const alerts = h.alertsOf(await h.waitForAlerts(page, 3));
      assert.deepEqual(alerts.map((a) => a.type), ['cheer', 'giftbomb', 'raid']);
      // Each showed its image (an image that fails to load is removed from the card).
      const images = await page.evaluate(() => window.__images);
      assert.deepEqual(images, ['img/gem.svg', 'img/giftbomb.svg', 'img/raid.svg']);
      // The images of the default configuration load (a failed one is removed from the card).
      assert.deepEqual(page.errors, []);
    });
