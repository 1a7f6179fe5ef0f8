// overlay-latency.js: how long an event takes from ws-serve's stdin to an alert in the overlay's
// DOM, and how fast the overlay's queue drains a large burst. Headless Debian chromium
// (playwright-core from tests/node_modules), a real ws-serve, one run; figures go to
// bench/README.md under "## overlay".
//
//   SERVITOR_BIN=build/bin node bench/overlay-latency.js [EVENTS_PACED] [EVENTS_BURST]
//
// Paced: EVENTS_PACED events (default 500), one every 20 ms, alerts of zero duration: latency
// is the time from the write to ws-serve's stdin to the alert element's insertion (both clocks
// are this machine's wall clock, read in node and in the page). Burst: EVENTS_BURST events
// (default 2000, under ws-serve's default --max-queue of 4096) written at once; the time until
// the last alert was inserted, and a check that every one was shown exactly once.
'use strict';

const h = require('../tests/browser/harness');

const paced = Number(process.argv[2] || 500);
const burst = Number(process.argv[3] || 2000);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Records, in the page, the wall-clock time at which each alert element was inserted.
function insertionClock() {
  window.__inserted = new Map();
  new MutationObserver((mutations) => {
    const t = performance.timeOrigin + performance.now();
    for (const m of mutations) {
      for (const n of m.addedNodes) {
        if (n.nodeType === 1 && n.classList.contains('alert')) {
          window.__inserted.set(
              n.dataset.id, (window.__inserted.get(n.dataset.id) || []).concat(t));
        }
      }
    }
  }).observe(document, {childList: true, subtree: true});
}

async function run(browser, s, n, gapMs) {
  const page = await browser.newPage();
  await page.addInitScript(insertionClock);
  await page.goto(`${s.url}?duration=0&pause=0&mute=1&types=cheer`);
  await page.waitForSelector('html[data-connection="open"]');
  const written = new Map();
  const events = [];
  for (let i = 0; i < n; i++) events.push(h.event('cheer', `viewer${i}`, {bits: 100, message: ''}));
  const start = Date.now();
  if (gapMs > 0) {
    for (const e of events) {
      written.set(e.id, Date.now());
      s.send(e);
      await h.sleep(gapMs);
    }
  } else {
    for (const e of events) written.set(e.id, start);
    for (let i = 0; i < n; i += 1000) s.send(events.slice(i, i + 1000));
  }
  await page.waitForFunction(
      (k) => window.__inserted.size >= k, n, {timeout: 120000, polling: 100});
  const inserted = new Map(await page.evaluate(() => [...window.__inserted]));
  await page.close();
  const twice = [...inserted.values()].filter((ts) => ts.length > 1).length;
  const latencies =
      events.map((e) => inserted.get(e.id)[0] - written.get(e.id)).sort((a, b) => a - b);
  const last = Math.max(...[...inserted.values()].map((ts) => ts[0]));
  return {n, shown: inserted.size, twice, latencies, totalMs: last - start};
}

(async () => {
  const s = await h.startServer();
  const browser = await h.launchBrowser();
  try {
    const a = await run(browser, s, paced, 20);
    console.log(
        `paced: ${a.n} events, one every 20 ms: shown ${a.shown}, twice ${a.twice}; ` +
        `stdin to DOM p50 ${percentile(a.latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(a.latencies, 99).toFixed(1)} ms, ` +
        `max ${a.latencies[a.latencies.length - 1].toFixed(1)} ms`);
    const b = await run(browser, s, burst, 0);
    console.log(
        `burst: ${b.n} events at once: shown ${b.shown}, twice ${b.twice}; ` +
        `last alert after ${b.totalMs.toFixed(0)} ms ` +
        `(${Math.round(b.n / (b.totalMs / 1000))} alerts/s of zero duration)`);
  } finally {
    await browser.close();
    await s.stop();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
