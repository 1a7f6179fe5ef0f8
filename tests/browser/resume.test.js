// resume.test.js: an overlay that reloads, or whose ws-serve restarts, misses no alert and shows
// none twice: it resumes from the last event it received (localStorage, ?after=ID).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const QUERY = 'duration=0.2&pause=0.05&mute=1';

// A follow that happened now (the harness's events are dated March 2026).
function follow(user) {
  return h.event('follow', user, {at: new Date().toISOString()});
}

// Leaves the page (its socket closes), runs |meanwhile|, comes back to the same URL in the same
// browser context (localStorage kept), and waits for the stream.
async function away(page, url, meanwhile) {
  await page.goto('about:blank');
  await meanwhile();
  await page.goto(url);
  await page.waitForSelector('html[data-connection="open"]', {timeout: 10000});
}

test('a reload while three events are sent: all three shown after it, in order, once; none again',
     async () => {
       const s = await t.server({});
       const page = await t.overlay(s, QUERY);
       const before = [follow('Before1'), follow('Before2')];
       s.send(before);
       await h.waitForAlerts(page, 2);
       const during = [follow('During1'), follow('During2'), follow('During3')];
       await away(page, `${s.url}?${QUERY}`, async () => s.send(during));
       const record = await h.waitForAlerts(page, 3);
       await new Promise((r) => setTimeout(r, 500));  // anything more would show by now
       const shown = h.alertsOf(await page.evaluate(() => window.__record)).map((a) => a.id);
       assert.deepEqual(shown, during.map((e) => e.id));
       assert.equal(h.alertsOf(record).length, 3);
     });

test('ws-serve restarted with --retain-file: the overlay resumes from it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'servitor-resume-'));
  const file = path.join(dir, 'retained.ndjson');
  try {
    const first = await h.startServer({args: ['--retain-file', file]});
    const query = `${QUERY}&reconnectMin=2&reconnectMax=2`;
    const page = await t.overlay(first, query);
    const seen = follow('Seen');
    first.send(seen);
    await h.waitForAlerts(page, 1);
    await first.stop();
    // The same port again: the page reconnects there by itself, after 1 to 2 seconds.
    const second = await t.server({port: first.port, args: ['--retain-file', file]});
    const missed = [follow('Missed1'), follow('Missed2')];
    second.send(missed);
    await page.waitForFunction(() => window.__record.filter((r) => r.op === 'remove').length >= 3,
                               null, {timeout: 20000, polling: 50});
    const shown = h.alertsOf(await page.evaluate(() => window.__record)).map((a) => a.id);
    assert.deepEqual(shown, [seen.id, ...missed.map((e) => e.id)]);
    assert.match(second.log(), /retained events read back/);
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

test('a resume id older than the ring: the retained events, and a warning that some may be lost',
     async () => {
       const s = await t.server({args: ['--retain', '2']});
       const page = await t.overlay(s, `${QUERY}&debug=1`);
       s.send(follow('First'));
       await h.waitForAlerts(page, 1);
       const during = [follow('Lost1'), follow('Lost2'), follow('Kept1'), follow('Kept2')];
       await away(page, `${s.url}?${QUERY}&debug=1`, async () => {
         s.send(during);
         // wait until ws-serve has them all
         for (let i = 0; i < 100; i++) {
           const health = await (await fetch(`${s.url}healthz`)).json();
           if (health.lines_in >= 5) break;
           await new Promise((r) => setTimeout(r, 50));
         }
       });
       await h.waitForAlerts(page, 2);
       const shown = h.alertsOf(await page.evaluate(() => window.__record)).map((a) => a.id);
       assert.deepEqual(shown, [during[2].id, during[3].id]);
       assert.ok(page.warnings.some((w) => /no longer retained by ws-serve/.test(w)),
                 page.warnings.join('\n'));
       const status = await page.evaluate(() => window.__overlay.status());
       assert.equal(status.counts.resumeGaps, 1);
     });

test('an event older than maxAge after a long absence is counted as seen, not shown', async () => {
  const s = await t.server({});
  const url = `${s.url}?${QUERY}&maxAge=60`;
  const page = await t.overlay(s, `${QUERY}&maxAge=60`);
  s.send(follow('Here'));
  await h.waitForAlerts(page, 1);
  const old = h.event('follow', 'Stale', {at: new Date(Date.now() - 10 * 60 * 1000).toISOString()});
  const fresh = follow('Fresh');
  await away(page, url, async () => s.send([old, fresh]));
  await h.waitForAlerts(page, 1);
  await new Promise((r) => setTimeout(r, 500));
  const shown = h.alertsOf(await page.evaluate(() => window.__record)).map((a) => a.id);
  assert.deepEqual(shown, [fresh.id]);
  const status = await page.evaluate(() => window.__overlay.status());
  assert.equal(status.counts.tooOld, 1);
  // A live event with an old date (a replayed log) is still shown: maxAge is for the catch-up.
  s.send(h.event('follow', 'Replayed', {at: '2026-03-01T18:00:00.000Z'}));
  await h.waitForAlerts(page, 2);
});
