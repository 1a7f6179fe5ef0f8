// desk.test.js: the alert desk (overlay/desk) and the overlay on one ws-serve, in headless
// chromium: the feed, replay, skip, pause and resume, the test buttons, a read-only desk,
// refused control messages, and alert variations.
// Run: SERVITOR_BIN=build/bin node --test tests/browser/desk.test.js (tests/e2e/desk.bats does).
'use strict';

const assert = require('node:assert/strict');
const {test} = require('node:test');
const h = require('./harness');

const t = h.suite();
const CONTROL = 'desk-token-1';

function deskServer(args = []) {
  return t.server({args, env: {WS_SERVE_CONTROL_TOKEN: CONTROL}});
}

// Opens the desk of `server`; `control`: the token to put in its URL (none: read-only), and
// whether ws-serve is to allow it.
async function openDesk(server, control = CONTROL, allowed = control !== '') {
  const page = t.page(await t.browser.newPage({viewport: {width: 1100, height: 800}}));
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  await page.goto(`${server.url}desk/${control ? `?control=${encodeURIComponent(control)}` : ''}`);
  await page.waitForSelector('html[data-connection="open"]', {timeout: 10000});
  await page.waitForSelector(`html[data-control="${allowed ? 'allowed' : 'read-only'}"]`);
  return page;
}

// An overlay that the desk lists (its status has arrived); returns the page and its row.
async function overlayOnDesk(server, desk, query, options) {
  const page = await t.overlay(server, `mute=1&name=main&${query}`, options);
  const row = desk.locator('.overlay:not(.overlay--all)', {hasText: 'main'});
  await row.waitFor({timeout: 10000});
  return {page, row};
}

async function closeAll(...pages) {
  for (const p of pages) await p.close();
}

const shownIds = (page) => page.evaluate(
    () => window.__record.filter((r) => r.op === 'add').map((r) => r.id));

test('an event appears in the feed; gift bombs fold, gaps say what may be missing',
     {timeout: 30000}, async () => {
       const s = await deskServer();
       const desk = await openDesk(s);
       const cheer = h.event('cheer', 'Carol', {bits: 250, message: 'hello desk'});
       const bomb = h.event('giftbomb', 'Gina', {tier: '1000', count: 3, group: 'g1'});
       const gifts = ['R1', 'R2', 'R3'].map(
           (r) => h.event('subgift', 'Gina', {tier: '1000', group: 'g1', recipient: {login: r}}));
       const gap = {
         v: 1, type: 'gap', id: 'gap-1', source: 'irc', at: '2026-03-01T18:06:00.000Z',
         from: '2026-03-01T18:04:00.000Z', to: '2026-03-01T18:06:00.000Z'
       };
       s.send([cheer, bomb, ...gifts, gap]);
       const item = desk.locator(`#feed li[data-id="${cheer.id}"]`);
       await item.waitFor();
       const text = await item.textContent();
       assert.match(text, /Carol/);
       assert.match(text, /250 bits/);
       assert.match(text, /hello desk/);
       await desk.waitForFunction(() => document.querySelectorAll('#feed li').length === 3);
       // Newest first: the gap, then the gift bomb as one entry, then the cheer.
       const types = await desk.$$eval('#feed li', (lis) => lis.map((li) => li.dataset.type));
       assert.deepEqual(types, ['gap', 'giftbomb', 'cheer']);
       const bombText = await desk.locator('#feed li[data-type="giftbomb"]').textContent();
       assert.match(bombText, /3 gifts/);
       assert.match(bombText, /R1, R2, R3/);
       const gapText = await desk.locator('#feed li[data-type="gap"]').textContent();
       assert.match(gapText, /events may be missing between \d\d:04 and \d\d:06/);
       assert.equal(await desk.locator('#counts').textContent(),
                    'subgift 3 · giftbomb 1 · cheer 1 · gap 1');
       // The filters: a minimum amount leaves out the cheer, a user search finds it.
       await desk.fill('#filter-min', '1000');
       await desk.waitForFunction(() => !document.querySelector('#feed li[data-type="cheer"]'));
       await desk.fill('#filter-min', '');
       await desk.fill('#filter-user', 'caro');
       await desk.waitForFunction(() => document.querySelectorAll('#feed li').length === 1);
       assert.deepEqual(desk.errors, []);
       await closeAll(desk);
     });

test('a desk opened later gets ws-serve\'s --history, newest first', {timeout: 30000}, async () => {
  const s = await deskServer(['--history', '5']);
  const older = h.event('follow', 'First');
  const newer = h.event('raid', 'Second', {viewers: 7});
  s.send([older, newer]);
  await h.sleep(300);
  const desk = await openDesk(s);
  await desk.waitForFunction(() => document.querySelectorAll('#feed li').length === 2);
  const ids = await desk.$$eval('#feed li', (lis) => lis.map((li) => li.dataset.id));
  assert.deepEqual(ids, [newer.id, older.id]);
  await closeAll(desk);
});

test('replay shows the event on the overlay again, past its de-duplication', {timeout: 30000},
     async () => {
       const s = await deskServer();
       const desk = await openDesk(s);
       const {page} = await overlayOnDesk(s, desk, 'duration=0.4&pause=0.1');
       const ev = h.event('follow', 'Rita');
       s.send([ev, ev]);  // the second is a duplicate: shown once
       await h.waitForAlerts(page, 1);
       await h.sleep(700);
       assert.deepEqual(await shownIds(page), [ev.id]);
       await desk.click(`#feed li[data-id="${ev.id}"] button.replay`);
       await h.waitForAlerts(page, 2);
       assert.deepEqual(await shownIds(page), [ev.id, ev.id]);
       const titles = h.alertsOf(await page.evaluate(() => window.__record)).map((a) => a.title);
       assert.deepEqual(titles, ['Rita is now following!', 'Rita is now following!']);
       await closeAll(page, desk);
     });

// Runs in the overlay before its scripts: keeps every Audio it makes in window.__audios.
function recordAudio() {
  const Real = window.Audio;
  window.__audios = [];
  window.Audio = function(url) {
    const a = new Real(url);
    window.__audios.push(a);
    return a;
  };
}

test('skip ends the alert on screen at once, and its sound', {timeout: 30000}, async () => {
  const s = await deskServer();
  const desk = await openDesk(s);
  const {page, row} =
      await overlayOnDesk(s, desk, 'duration=30&mute=0&volume=0.01', {init: [recordAudio]});
  s.send(h.event('raid', 'Sam', {viewers: 50}));
  await page.waitForSelector('.alert');
  await row.locator('.current', {hasText: 'raid'}).waitFor();
  const started = Date.now();
  await row.getByRole('button', {name: /^Skip/}).click();
  await page.waitForSelector('.alert', {state: 'detached', timeout: 5000});
  assert.ok(Date.now() - started < 3000, 'gone well before its 30 s');
  const status = await page.evaluate(() => window.__overlay.status());
  assert.equal(status.onScreen, null);
  assert.equal(status.counts.skippedByDesk, 1);
  // The raid's sound (the last horn made: config.js's check of the files made one before it).
  const played = await page.evaluate(() => {
    const horns = window.__audios.filter((a) => a.src.includes('horn'));
    return horns.length === 0 ? null : {paused: horns[horns.length - 1].paused,
                                        started: horns[horns.length - 1].played.length > 0};
  });
  assert.deepEqual(played, {paused: true, started: true}, 'its sound played, and stopped');
  await row.locator('.current', {hasText: 'nothing on screen'}).waitFor();
  await closeAll(page, desk);
});

test('pause holds three events (the desk sees the queue grow); resume shows them in order',
     {timeout: 30000}, async () => {
       const s = await deskServer();
       const desk = await openDesk(s);
       const {page, row} = await overlayOnDesk(s, desk, 'duration=0.3&pause=0.1');
       await row.getByRole('button', {name: /^Pause/}).click();
       await row.locator('.state', {hasText: 'paused'}).waitFor();
       const events = ['One', 'Two', 'Three'].map((u) => h.event('follow', u));
       s.send(events);
       await row.locator('.state[data-queue="3"]').waitFor({timeout: 5000});
       await h.sleep(800);
       assert.deepEqual(await shownIds(page), [], 'nothing shown while paused');
       assert.equal(await page.evaluate(() => window.__overlay.waiting), 3);
       await row.getByRole('button', {name: /^Resume/}).click();
       await h.waitForAlerts(page, 3);
       assert.deepEqual(await shownIds(page), events.map((e) => e.id));
       await closeAll(page, desk);
     });

test('the test buttons produce an alert of each type', {timeout: 45000}, async () => {
  const s = await deskServer();
  const desk = await openDesk(s);
  const types = await desk.$$eval('#tests button', (bs) => bs.map((b) => b.dataset.test));
  assert.ok(types.length >= 9, `${types.length} test buttons`);
  const {page} = await overlayOnDesk(
      s, desk, `duration=0.2&pause=0&types=${types.join(',')}&backlog.after=0`);
  for (const type of types) await desk.click(`#tests button[data-test="${type}"]`);
  await h.waitForAlerts(page, types.length);
  const shown = await page.evaluate(
      () => window.__record.filter((r) => r.op === 'add').map((r) => r.type));
  assert.deepEqual(shown, types);
  // The desk's feed has them too, marked as tests; the stream of events was not touched.
  await desk.waitForFunction((n) => document.querySelectorAll('#feed li').length === n,
                             types.length);
  assert.match(await desk.locator('#feed').textContent(), /\(test\)/);
  const health = await (await fetch(`${s.url}healthz`)).json();
  assert.equal(health.lines_in, 0);
  await closeAll(page, desk);
});

test('a desk without the control token is read-only and cannot replay', {timeout: 30000},
     async () => {
       const s = await deskServer();
       const desk = await openDesk(s, '');
       const {page} = await overlayOnDesk(s, desk, 'duration=0.3&pause=0.1');
       assert.match(await desk.locator('#readonly').textContent(), /Read-only/);
       const ev = h.event('cheer', 'Vic', {bits: 10, message: ''});
       s.send(ev);
       await h.waitForAlerts(page, 1);
       const replay = desk.locator(`#feed li[data-id="${ev.id}"] button.replay`);
       assert.equal(await replay.isDisabled(), true);
       assert.equal(await desk.locator('#tests button').first().isDisabled(), true);
       // Sent anyway, past the page's own check: ws-serve refuses it.
       await desk.evaluate(
           (e) => window.__desk.send({v: 1, control: 'replay', id: e.id, event: e}), ev);
       await desk.waitForSelector('html[data-refusals="1"]');
       assert.match(await desk.locator('#notice').textContent(), /needs the control token/);
       await h.sleep(800);
       assert.deepEqual(await shownIds(page), [ev.id]);
       // A wrong token is read-only too.
       const wrong = await openDesk(s, 'not-the-token', false);
       await wrong.locator('#readonly', {hasText: 'wrong control token'}).waitFor();
       await closeAll(page, desk, wrong);
     });

test('forged and oversized control messages are refused and reach no overlay', {timeout: 30000},
     async () => {
       const s = await deskServer();
       const desk = await openDesk(s);
       const {page} = await overlayOnDesk(s, desk, 'duration=30');
       const ev = h.event('follow', 'Una');
       s.send(ev);
       await page.waitForSelector('.alert');
       await desk.evaluate((e) => {
         window.__desk.send({v: 1, control: 'skip', type: 'follow'});  // looks like an event
         window.__desk.send({v: 1, control: 'skip', overlay: {}});
         // An event made up, under the id of another.
         window.__desk.send({v: 1, control: 'replay', id: e.id, event: {type: 'raid', id: 'x'}});
         window.__desk.send(
             {v: 1, control: 'replay', id: e.id, event: Object.assign({pad: 'x'.repeat(20000)}, e)});
       }, ev);
       await desk.waitForSelector('html[data-refusals="4"]');
       assert.match(await desk.locator('#notice').textContent(), /too large/);
       await h.sleep(500);
       assert.equal(await page.locator('.alert').count(), 1, 'the alert is still on screen');
       const status = await page.evaluate(() => window.__overlay.status());
       assert.equal(status.counts.skippedByDesk, 0);
       assert.equal(status.counts.replayed, 0);
       await closeAll(page, desk);
     });

test('a variation with bits >= 1000 is chosen for 1500 bits and not for 100', {timeout: 30000},
     async () => {
       const root = t.copy({
         'big.json': {
           alerts: {
             cheer: {
               variations: [
                 {condition: 'bits >= 1000', text: 'HUGE: {user} cheered {bits}!', duration: 0.5},
                 {condition: 'bits >= 10000', text: 'never reached'}
               ]
             }
           }
         }
       });
       const s = await t.server({root});
       const page = await t.overlay(s, 'config=big.json&duration=0.4&pause=0.1&mute=1');
       s.send([
         h.event('cheer', 'Big', {bits: 1500, message: ''}),
         h.event('cheer', 'Small', {bits: 100, message: ''}),
       ]);
       const record = await h.waitForAlerts(page, 2);
       const titles = h.alertsOf(record).map((a) => a.title);
       assert.deepEqual(titles, ['HUGE: Big cheered 1500!', 'Small cheered 100 bits!']);
       const variations = await page.evaluate(() => window.__overlay.status().problems);
       assert.deepEqual(variations, []);
       await page.close();
     });
