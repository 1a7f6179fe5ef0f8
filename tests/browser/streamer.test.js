// streamer.test.js: the overlay as a streamer sees it (issue 18): words (plurals, right-to-left
// text, emotes, cheermotes), pacing under load, the default sounds and icons, text-to-speech, and
// configuration mistakes made visible. Its sizes are in streamer-layout.test.js.
// Run: SERVITOR_BIN=build/bin node --test tests/browser/ (tests/e2e/overlay.bats does this).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const server = t.server;
const overlay = t.overlay;
const copy = t.copy;

test(
    'plural forms: 1 month, 2 months; other languages by their own rules', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=0.15&pause=0&mute=1&giftHold=0.05');
      s.send([
        h.event('resub', 'One', {tier: '1000', months: 1}),
        h.event('resub', 'Two', {tier: '1000', months: 2}),
        h.event('cheer', 'One', {bits: 1, message: ''}),
        h.event('cheer', 'Two', {bits: 2, message: ''}),
        h.event('raid', 'One', {viewers: 1}),
        h.event('raid', 'Two', {viewers: 2}),
        h.event('giftbomb', 'One', {count: 1, tier: '1000', group: 'g1'}),
        h.event('giftbomb', 'Two', {count: 2, tier: '1000', group: 'g2'}),
      ]);
      const alerts = h.alertsOf(await h.waitForAlerts(page, 8));
      assert.deepEqual(alerts.map((a) => a.title), [
        'One resubscribed for 1 month!',
        'Two resubscribed for 2 months!',
        'One cheered 1 bit!',
        'Two cheered 2 bits!',
        'One is raiding with 1 viewer!',
        'Two is raiding with 2 viewers!',
        'One is gifting 1 sub!',
        'Two is gifting 2 subs!',
      ]);
      // Polish: 1 miesiąc, 2 miesiące, 5 miesięcy.
      const pl = await overlay(
          s,
          'duration=0.15&pause=0&mute=1&language=pl&resub.text=' +
              encodeURIComponent(
                  '{user}: {months|one:# miesiąc|few:# miesiące|many:# miesięcy|other:# miesiąca}'));
      s.send([1, 2, 5].map((n) => h.event('resub', 'Ola', {tier: '1000', months: n})));
      const plAlerts = h.alertsOf(await h.waitForAlerts(pl, 3));
      assert.deepEqual(
          plAlerts.map((a) => a.title), ['Ola: 1 miesiąc', 'Ola: 2 miesiące', 'Ola: 5 miesięcy']);
    });

test(
    'right-to-left text with a trailing emoji keeps the emoji at its end', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'duration=20&mute=1');
      const message = 'شكرا على البث الرائع 🎉';
      s.send(h.event('cheer', 'محمد', {bits: 100, message}));
      await page.waitForSelector('.alert .alert__message');
      await h.sleep(700);
      await page.screenshot({path: h.screenshotPath('rtl-emoji.png')});
      const r = await page.evaluate(() => {
        const span = document.querySelector('.alert__message .v-message') ||
            document.querySelector('.alert__message');
        const node = [...span.childNodes].find((n) => n.nodeType === 3) || span.firstChild;
        const text = node.textContent;
        const at = text.indexOf('🎉');
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + 2);
        const emoji = range.getBoundingClientRect();
        range.setStart(node, 0);
        range.setEnd(node, 4);
        const first = range.getBoundingClientRect();
        const user = document.querySelector('.alert__title .v-user');
        return {
          dir: span.getAttribute('dir'),
          userDir: user && user.getAttribute('dir'),
          emojiLeft: emoji.left,
          firstWordLeft: first.left
        };
      });
      assert.equal(r.dir, 'auto');
      assert.equal(r.userDir, 'auto');
      // Read right to left, the emoji that ends the message is its leftmost glyph.
      assert.ok(
          r.emojiLeft < r.firstWordLeft,
          `emoji at ${r.emojiLeft}, first word at ${r.firstWordLeft}`);
    });

test(
    'an emote in a resub message is an image; a cheermote is not shown as text', {timeout: 30000},
    async () => {
      const emote = '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">' +
          '<circle cx="14" cy="14" r="12" fill="#fc0"/></svg>';
      const root = copy({'emotes/25.svg': emote});
      const s = await server({root});
      const q = 'duration=1.2&pause=0&mute=1&emoteUrl=' + encodeURIComponent('/emotes/{id}.svg');
      const page = await overlay(s, q);
      const badge = await overlay(s, `${q}&cheermotes=badge`);
      const resub = h.event('resub', 'Otterbyte', {
        tier: '2000',
        months: 18,
        message: 'year and a half! Kappa',
        fragments:
            [{type: 'text', text: 'year and a half! '}, {type: 'emote', text: 'Kappa', id: '25'}]
      });
      const cheer = h.event('cheer', 'Quill', {
        bits: 250,
        message: 'Cheer200 Cheer50 good luck',
        fragments: [
          {type: 'cheermote', text: 'Cheer200', prefix: 'cheer', bits: 200},
          {type: 'text', text: ' '},
          {type: 'cheermote', text: 'Cheer50', prefix: 'cheer', bits: 50},
          {type: 'text', text: ' good luck'},
        ]
      });
      // Fragments that do not add up to the message are not trusted: the message as it is.
      const odd = h.event('cheer', 'Odd', {
        bits: 100,
        message: 'Cheer100 hi',
        fragments: [{type: 'cheermote', text: 'Cheer100', prefix: 'cheer', bits: 100}]
      });
      const probe = () => {
        window.__seen = [];
        new MutationObserver(() => {
          const img = document.querySelector('.alert .emote');
          const msg = document.querySelector('.alert .alert__message');
          if (msg) {
            window.__seen.push({
              text: msg.textContent,
              emote: img ? {src: img.getAttribute('src'), alt: img.alt} : null,
              badges: [...msg.querySelectorAll('.cheermote')].map((b) => b.textContent)
            });
          }
        }).observe(document, {childList: true, subtree: true});
      };
      await page.evaluate(probe);
      await badge.evaluate(probe);
      s.send([resub, cheer, odd]);
      await page.waitForSelector('.alert .emote');
      await page.waitForFunction(() => {
        const img = document.querySelector('.alert .emote');
        return img && img.complete && img.naturalWidth > 0;
      });
      await page.screenshot({path: h.screenshotPath('emote-in-resub.png')});
      const alerts = h.alertsOf(await h.waitForAlerts(page, 3));
      await h.waitForAlerts(badge, 3);
      assert.deepEqual(
          alerts.map((a) => a.message), ['year and a half! ', 'good luck', 'Cheer100 hi']);
      const seen = await page.evaluate(() => window.__seen);
      assert.deepEqual(
          seen.find((x) => x.emote !== null).emote, {src: '/emotes/25.svg', alt: 'Kappa'});
      const badges = await badge.evaluate(() => window.__seen.map((x) => x.badges));
      assert.ok(badges.some((b) => b.join(',') === '200,50'), JSON.stringify(badges));
      const texts = await badge.evaluate(() => window.__seen.map((x) => x.text));
      assert.ok(!texts.some((t) => /Cheer200|Cheer50/.test(t)), JSON.stringify(texts));
    });

test('the default emote URL is Twitch\'s CDN', {timeout: 10000}, async () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(h.OVERLAY, 'config.json'), 'utf8'));
  assert.match(cfg.emoteUrl, /^https:\/\/static-cdn\.jtvnw\.net\/emoticons\/v2\/\{id\}\//);
});

test(
    'a burst of 30 alerts with the backlog rule takes less than half the time, nothing skipped',
    {timeout: 60000}, async () => {
      const s = await server();
      const q = 'duration=0.5&pause=0.1&mute=1';
      const slow = await overlay(s, `${q}&backlog.after=0`);
      const fast = await overlay(s, `${q}&backlog.after=3&backlog.minDuration=0.15`);
      const events = [];
      for (let i = 0; i < 30; i++) {
        const kind = i % 10 < 5 ? 'follow' : i % 2 ? 'cheer' : 'raid';
        events.push(h.event(kind, `viewer${i}`, {bits: 100, viewers: 10, message: ''}));
      }
      s.send(events);
      const slowAlerts = h.alertsOf(await h.waitForAlerts(slow, 30, 40000));
      const fastRecord = await fast.evaluate(() => window.__record);
      const fastAlerts = h.alertsOf(fastRecord);
      const span = (alerts) => alerts[alerts.length - 1].removedAt - alerts[0].addedAt;
      // Every event, once, in order, in both.
      assert.deepEqual(slowAlerts.flatMap((a) => a.ids), events.map((e) => e.id));
      assert.deepEqual(fastAlerts.flatMap((a) => a.ids), events.map((e) => e.id));
      assert.ok(fastAlerts.every((a) => a.removedAt !== null));
      assert.ok(
          span(fastAlerts) < span(slowAlerts) / 2,
          `${span(fastAlerts)} ms with the rule, ${span(slowAlerts)} ms without`);
      // Consecutive follows were folded into one alert.
      assert.ok(
          fastAlerts.some((a) => /^\d+ new followers!$/.test(a.title) && a.ids.length > 1),
          JSON.stringify(fastAlerts.map((a) => a.title)));
      assert.ok(h.oneAtATime(fastRecord));
    });

test('alertDelay holds every alert back that long', {timeout: 30000}, async () => {
  const s = await server();
  const page = await overlay(s, 'duration=0.2&pause=0&mute=1&alertDelay=0.8');
  const sent = await page.evaluate(() => performance.now());
  s.send(h.event('follow', 'Later'));
  const [a] = h.alertsOf(await h.waitForAlerts(page, 1));
  assert.ok(a.addedAt - sent >= 790, `shown ${a.addedAt - sent} ms after it was sent`);
});

test('position keys and images up to a share of the height', {timeout: 30000}, async () => {
  const big = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600">' +
      '<rect width="600" height="600" fill="#3c8"/></svg>';
  const root = copy({'img/big.svg': big});
  const s = await server({root});
  const viewport = {width: 1920, height: 1080};
  const q = 'duration=20&mute=1&follow.image=img/big.svg';
  const plain = await overlay(s, q, {viewport});
  const tall = await overlay(s, `${q}&imageHeight=0.5&position=top%20left`, {viewport});
  s.send(h.event('follow', 'Framed'));
  const measure = async (page) => {
    await page.waitForFunction(() => {
      const img = document.querySelector('.alert__image');
      return img && img.complete && img.naturalWidth > 0;
    });
    await h.sleep(700);
    return page.evaluate(() => {
      const img = document.querySelector('.alert__image').getBoundingClientRect();
      const card = document.querySelector('.alert');
      return {img: img.height, left: card.offsetLeft, top: card.offsetTop};
    });
  };
  const a = await measure(plain);
  const b = await measure(tall);
  await tall.screenshot({path: h.screenshotPath('image-half-height-top-left.png')});
  assert.ok(Math.abs(a.img - 324) <= 2, `default: ${a.img} px high (0.3 of 1080)`);
  assert.ok(Math.abs(b.img - 540) <= 2, `imageHeight 0.5: ${b.img} px high`);
  assert.ok(b.left < 100 && b.top < 100, `top left: at ${b.left},${b.top}`);
  assert.ok(a.left > 300 && a.top > 100, `centered: at ${a.left},${a.top}`);
});

test(
    'each type has its own default icon and sound, and they all load', {timeout: 30000},
    async () => {
      const types = [
        'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain'
      ];
      const cfg = JSON.parse(fs.readFileSync(path.join(h.OVERLAY, 'config.json'), 'utf8'));
      const images = types.map((t) => cfg.alerts[t].image);
      const sounds = types.map((t) => cfg.alerts[t].sound);
      assert.equal(new Set(images).size, types.length, `images: ${images}`);
      assert.equal(new Set(sounds).size, types.length, `sounds: ${sounds}`);
      const s = await server();
      const page = await overlay(s, 'mute=1');
      const loaded = await page.evaluate(async ({images, sounds}) => {
        const img = (src) => new Promise((res) => {
          const i = new Image();
          i.onload = () => res(i.naturalWidth > 0);
          i.onerror = () => res(false);
          i.src = src;
        });
        const snd = (src) => new Promise((res) => {
          const a = new Audio();
          a.preload = 'auto';
          // Chromium's first duration of an Ogg file is an estimate: only "plays, and is short".
          a.addEventListener('canplaythrough', () => res(a.duration > 0.1 && a.duration < 4));
          a.addEventListener('error', () => res(false));
          a.src = src;
        });
        return {
          images: await Promise.all(images.map(img)),
          sounds: await Promise.all(sounds.map(snd))
        };
      }, {images, sounds});
      assert.deepEqual(loaded.images, images.map(() => true));
      assert.deepEqual(loaded.sounds, sounds.map(() => true));
      // The shipped configuration has no mistakes.
      await h.sleep(500);
      assert.deepEqual((await page.evaluate(() => window.__overlay.status())).problems, []);
      // The README's example sound ships.
      assert.ok(fs.existsSync(path.join(h.OVERLAY, 'sounds', 'horn.ogg')));
      assert.ok(fs.readFileSync(path.join(h.OVERLAY, 'README.md'), 'utf8').includes('CC0'));
    });

// Replaces the browser's speech synthesis by a recorder of what it is asked to say.
function recordSpeech() {
  window.__spoken = [];
  window.SpeechSynthesisUtterance = class {
    constructor(text) {
      this.text = text;
    }
  };
  const voices = [{name: 'Test Voice', lang: 'en-US'}];
  Object.defineProperty(window, 'speechSynthesis', {
    configurable: true,
    value: {
      speak: (u) => window.__spoken.push(
          {text: u.text, volume: u.volume, rate: u.rate, voice: u.voice ? u.voice.name : null}),
      getVoices: () => voices,
      cancel() {},
    }
  });
}

test(
    'text-to-speech reads messages of the types and amounts asked for', {timeout: 30000},
    async () => {
      const s = await server();
      const q = 'duration=0.15&pause=0&volume=0.8';
      const init = [recordSpeech];
      const tts = await overlay(
          s, `${q}&tts.enabled=1&tts.types=cheer:100,resub&tts.volume=0.5&tts.voice=Test%20Voice`,
          {init});
      const off = await overlay(s, q, {init});
      const muted = await overlay(s, `${q}&tts.enabled=1&tts.types=cheer&mute=1`, {init});
      s.send([
        h.event('cheer', 'Small', {bits: 99, message: 'too small to be read'}),
        h.event('cheer', 'Big', {
          bits: 100,
          message: 'Cheer100 read this please',
          fragments: [
            {type: 'cheermote', text: 'Cheer100', prefix: 'cheer', bits: 100},
            {type: 'text', text: ' read this please'}
          ]
        }),
        h.event('resub', 'Res', {tier: '1000', months: 3, message: 'three months'}),
        h.event('redemption', 'Red', {reward: {id: 'r', title: 'T', cost: 5}, message: 'not on'}),
      ]);
      await h.waitForAlerts(tts, 4);
      await h.waitForAlerts(off, 4);
      await h.waitForAlerts(muted, 4);
      assert.deepEqual(await tts.evaluate(() => window.__spoken), [
        {text: 'read this please', volume: 0.4, rate: 1, voice: 'Test Voice'},
        {text: 'three months', volume: 0.4, rate: 1, voice: 'Test Voice'},
      ]);
      assert.deepEqual(await off.evaluate(() => window.__spoken), []);
      assert.deepEqual(await muted.evaluate(() => window.__spoken), []);
    });

test(
    'each configuration mistake gives its warning; the rest still works', {timeout: 30000},
    async () => {
      const root = copy();
      const cfgPath = path.join(root, 'config.json');
      const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
      cfg.types = 'follow,cheer';
      cfg.duraton = 3;
      cfg.pause = '1s';
      cfg.alerts.cheer.text = '{user} cheered {amount} bits!';
      cfg.alerts.follow.text = '{user} followed with {Bits}';
      cfg.alerts.raid.sound = 'sounds/missing-horn.ogg';
      cfg.alerts.cheer.image = 'img/missing.gif';
      fs.writeFileSync(cfgPath, JSON.stringify(cfg));
      const s = await server({root});
      const page = await overlay(s, 'debug=1&duration=0.2&mute=1&duratoin=2');
      const expected = [
        '"types" is a string, not a list: read as ["follow","cheer"]',
        'unknown key "duraton" (did you mean "duration"?)',
        '"pause": "1s" is not a number of 0 or more: 1 is used',
        '"alerts.cheer.text": unknown placeholder {amount}',
        '"alerts.follow.text": unknown placeholder {Bits} (did you mean "bits"?)',
        '"alerts.raid.sound": sounds/missing-horn.ogg does not load',
        '"alerts.cheer.image": img/missing.gif does not load',
        'URL parameter duratoin: unknown (did you mean "duration"?)',
      ];
      await page.waitForFunction(
          (n) => (window.__overlay.status ? window.__overlay.status().problems.length : 0) >= n,
          expected.length, {timeout: 10000});
      const status = await page.evaluate(() => window.__overlay.status());
      for (const p of expected)
        assert.ok(status.problems.includes(p), `no problem: ${p}\n${status.problems.join('\n')}`);
      await page.waitForFunction(
          (p) => document.getElementById('debug').textContent.includes(p), expected[6]);
      const panel = await page.textContent('#debug');
      for (const p of expected) assert.ok(panel.includes(p), `not in ?debug=1: ${p}`);
      for (const p of expected) {
        assert.ok(page.warnings.some((w) => w.includes(p)), `not in the console: ${p}`);
      }
      assert.equal(await page.getAttribute('html', 'data-problems'), String(expected.length));
      // "types" as a string still means those types.
      s.send([h.event('raid', 'NotOn', {viewers: 5}), h.event('follow', 'On')]);
      const alerts = h.alertsOf(await h.waitForAlerts(page, 1));
      assert.deepEqual(alerts.map((a) => a.title), ['On followed with {Bits}']);
      await page.screenshot({path: h.screenshotPath('config-problems-debug.png')});
    });

test('a config.json edit applies without reloading the page', {timeout: 30000}, async () => {
  const root = copy();
  const cfgPath = path.join(root, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
  const s = await server({root});
  const page = await overlay(s, 'duration=0.2&pause=0&mute=1&configReload=0.2');
  s.send(h.event('follow', 'Before'));
  await h.waitForAlerts(page, 1);
  // Half a file first, as an editor's save may be seen: the configuration in use stays.
  const text = JSON.stringify(cfg);
  fs.writeFileSync(cfgPath, text.slice(0, text.length / 2));
  await page.waitForFunction(
      () => window.__overlay.status().problems.some((p) => /previous configuration stays/.test(p)),
      null, {timeout: 5000});
  s.send(h.event('follow', 'During'));
  await h.waitForAlerts(page, 2);
  cfg.alerts.follow.text = 'Welcome, {user}!';
  fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  await page.waitForFunction(
      () => (window.__overlay.config.alerts.follow || {}).text === 'Welcome, {user}!', null,
      {timeout: 5000});
  s.send(h.event('follow', 'After'));
  const alerts = h.alertsOf(await h.waitForAlerts(page, 3));
  assert.deepEqual(
      alerts.map((a) => a.title),
      ['Before is now following!', 'During is now following!', 'Welcome, After!']);
  assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), 1);
});

test(
    'the ?debug=1 panel redraws on its own, not only when an event arrives', {timeout: 30000},
    async () => {
      const s = await server();
      const page = await overlay(s, 'debug=1&duration=3&pause=0&mute=1&backlog.after=0');
      const events =
          [h.event('follow', 'First'), h.event('follow', 'Second'), h.event('follow', 'Third')];
      s.send(events);
      await page.waitForSelector(`.alert[data-id="${events[1].id}"]`, {timeout: 5000});
      await h.sleep(600);  // no event arrives meanwhile
      const text = await page.textContent('#debug');
      assert.match(text, /shown 2,/);
      assert.match(text, /waiting 1\b/);
      assert.ok(text.includes(`on screen: follow ${events[1].id}`), text);
    });

test(
    'the fragments twitch-irc writes (its golden file) show as images and no cheermotes',
    {timeout: 30000}, async () => {
      const emote = '<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">' +
          '<rect width="28" height="28" fill="#f0c"/></svg>';
      const files = {};
      for (const id of ['emotesv2_4c3b2a1f', '25', '1902', '88']) files[`emotes/${id}.svg`] = emote;
      const root = copy(files);
      const s = await server({root});
      const page = await overlay(
          s,
          'duration=0.6&pause=0&mute=1&types=resub,cheer,announcement&emoteUrl=' +
              encodeURIComponent('/emotes/{id}.svg'));
      await page.evaluate(() => {
        window.__emotes = [];
        new MutationObserver(() => {
          for (const img of document.querySelectorAll('.alert .emote')) {
            if (!window.__emotes.includes(img.alt)) window.__emotes.push(img.alt);
          }
        }).observe(document, {childList: true, subtree: true});
      });
      const golden =
          fs.readFileSync(path.join(h.ROOT, 'tests', 'data', 'irc', 'fragments.ndjson'), 'utf8')
              .split('\n')
              .filter((l) => l.trim() !== '');
      s.send(golden);
      const alerts = h.alertsOf(await h.waitForAlerts(page, 4));
      assert.deepEqual(alerts.map((a) => a.message), [
        '🎉  five months! ',       // resub: two emotes out of the text
        'go! ',                   // cheer: cheermotes left out, an emote at the end
        'Cheer100 from Route66',  // cheer without fragments: as it came
        'Raid soon! ',            // announcement with an emote
      ]);
      assert.deepEqual(await page.evaluate(() => window.__emotes), ['crateHype', 'Kappa', 'Keepo']);
    });
