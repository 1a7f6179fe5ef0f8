// harness.js: what the overlay's browser tests share. A real ws-serve (from $SERVITOR_BIN) fed
// through its stdin, Debian's chromium driven by playwright-core, schema-v1 events, a recorder
// that watches the page's DOM for alerts coming and going, and a foreign server (another origin)
// that records what the page asks of it.
'use strict';

const {spawn} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const {chromium} = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.SERVITOR_BIN || path.join(ROOT, 'build', 'bin');
// OVERLAY_DIR: another copy of the page, to see a test fail on an older version.
const OVERLAY =
    process.env.OVERLAY_DIR ? path.resolve(process.env.OVERLAY_DIR) : path.join(ROOT, 'overlay');
// Screenshots: in $SERVITOR_TEST_OUTPUT when set (each suite its own), else tests/output.
const OUTPUT = process.env.SERVITOR_TEST_OUTPUT || path.join(ROOT, 'tests', 'output');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'
];

function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 20000
  });
}

// Starts ws-serve on 127.0.0.1:port (0: a free port) serving the overlay; resolves when it has
// logged "listening on HOST:PORT". Lines written with send() go to its stdin.
function startServer({port = 0, args = [], env = {}, root = OVERLAY} = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(
        path.join(BIN, 'ws-serve'), ['--listen', `127.0.0.1:${port}`, '--root', root, ...args],
        {stdio: ['pipe', 'ignore', 'pipe'], env: {...process.env, ...env}});
    let log = '';
    let done = false;
    const exited = new Promise((res) => proc.on('exit', (code, signal) => res({code, signal})));
    const timer = setTimeout(() => finish(new Error(`ws-serve did not listen: ${log}`)), 10000);
    function finish(err, value) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        proc.kill('SIGKILL');
        reject(err);
      } else {
        resolve(value);
      }
    }
    proc.on('error', (e) => finish(e));
    proc.on('exit', (code) => finish(new Error(`ws-serve exited with ${code}: ${log}`)));
    proc.stdin.on('error', () => {});  // EPIPE after a stop is not the test's concern
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /listening on [^ ]+:(\d+)/.exec(log);
      if (m) {
        finish(null, {
          proc,
          port: Number(m[1]),
          url: `http://127.0.0.1:${m[1]}/`,
          log: () => log,
          send(events) {
            const list = Array.isArray(events) ? events : [events];
            proc.stdin.write(
                list.map((e) => (typeof e === 'string' ? e : JSON.stringify(e)) + '\n').join(''));
          },
          // SIGTERM, then SIGKILL if it is still there after 5 s; resolves on exit.
          async stop() {
            if (proc.exitCode !== null || proc.signalCode !== null) return exited;
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
            const r = await exited;
            clearTimeout(t);
            return r;
          },
        });
      }
    });
  });
}

let sequence = 0;

// A schema-v1 event of `type` from `user` (a login) with the keys in `extra`.
function event(type, user, extra = {}) {
  sequence++;
  const e = {
    v: 1,
    type,
    id: crypto.randomUUID(),
    source: 'trigger',
    at: new Date(Date.UTC(2026, 2, 1, 18, 0, 0, sequence)).toISOString(),
    channel: {id: '1', login: 'testchannel', name: 'TestChannel'}
  };
  if (user !== null) e.user = {id: String(1000 + sequence), login: user.toLowerCase(), name: user};
  return Object.assign(e, extra);
}

// Runs in the page before its own scripts: records every alert element added to or removed from
// the DOM, with the time and the text it showed, in window.__record.
function recorder() {
  window.__record = [];
  const describe = (op, el) => ({
    op,
    t: performance.now(),
    id: el.dataset.id || '',
    ids: (el.dataset.ids || el.dataset.id || '').split(' ').filter((x) => x !== ''),
    type: el.dataset.type || '',
    title: (el.querySelector('.alert__title') || {}).textContent || '',
    message: (el.querySelector('.alert__message') || {}).textContent || '',
    live: document.querySelectorAll('.alert').length,
  });
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      for (const n of m.addedNodes) {
        if (n.nodeType === 1 && n.classList.contains('alert'))
          window.__record.push(describe('add', n));
      }
      for (const n of m.removedNodes) {
        if (n.nodeType === 1 && n.classList.contains('alert')) {
          window.__record.push(describe('remove', n));
        }
      }
    }
  }).observe(document, {childList: true, subtree: true});
}

// Opens the overlay served by `server` with the URL parameters in `query`, and waits until its
// stream is connected (the page sets <html data-connection="open">).
// `viewport` defaults to 1280x720; `init` are more scripts to run before the page's own.
async function openOverlay(browser, server, query = '', {viewport, init = []} = {}) {
  const page = await browser.newPage({
    viewport: viewport ||
        {
          width: 1280, height: 720
        }
  });
  const errors = [];
  const warnings = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  page.warnings = warnings;
  await page.addInitScript(recorder);
  for (const f of init) await page.addInitScript(f);
  await page.goto(server.url + (query ? `?${query}` : ''));
  await page.waitForSelector('html[data-connection="open"]', {timeout: 10000});
  page.errors = errors;
  return page;
}

// Resolves with the record once `n` alerts have been shown and removed.
async function waitForAlerts(page, n, timeout = 20000) {
  await page.waitForFunction(
      (k) => window.__record.filter((r) => r.op === 'remove').length >= k, n,
      {timeout, polling: 50});
  return page.evaluate(() => window.__record);
}

// The alerts of a record, in order, one {title, message, type, id, shownMs, gapMs} each;
// `finalMessage` is the message when the alert left (a gift bomb's list of recipients grows).
function alertsOf(record) {
  const out = [];
  let prevRemove = null;
  for (let i = 0; i < record.length; i++) {
    const r = record[i];
    if (r.op !== 'add') continue;
    const rm = record.slice(i + 1).find((x) => x.op === 'remove' && x.id === r.id);
    out.push({
      ids: r.ids,
      addedAt: r.t,
      removedAt: rm ? rm.t : null,
      title: r.title,
      message: r.message,
      finalMessage: rm ? rm.message : null,
      type: r.type,
      id: r.id,
      shownMs: rm ? rm.t - r.t : null,
      gapMs: prevRemove === null ? null : r.t - prevRemove
    });
    if (rm) prevRemove = rm.t;
  }
  return out;
}

// True when no two alerts were ever in the DOM at the same time.
function oneAtATime(record) {
  return record.every((r) => (r.op === 'add' ? r.live === 1 : r.live === 0)) &&
      record.every((r, i) => r.op === (i % 2 === 0 ? 'add' : 'remove'));
}

function screenshotPath(name) {
  fs.mkdirSync(OUTPUT, {recursive: true});
  return path.join(OUTPUT, name);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A copy of the overlay in a temporary directory, for tests that change its files; `files` maps
// a relative path to its content (a string, or an object written as JSON). Remove it with rm().
function overlayCopy(files = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'overlay-'));
  fs.cpSync(OVERLAY, root, {recursive: true});
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), {recursive: true});
    fs.writeFileSync(
        path.join(root, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return {root, rm: () => fs.rmSync(root, {recursive: true, force: true})};
}

// A server on another origin (127.0.0.1, another port) that answers GET with `files` (path ->
// content) and Access-Control-Allow-Origin: *, as an attacker's would, records every request and
// WebSocket upgrade it gets, and closes upgrades at once.
function startForeign(files = {}) {
  return new Promise((resolve) => {
    const requests = [];
    const upgrades = [];
    const srv = http.createServer((req, res) => {
      requests.push(req.url);
      const body = files[req.url.replace(/\?.*$/, '')];
      if (body === undefined) {
        res.writeHead(404, {'access-control-allow-origin': '*'});
        res.end();
        return;
      }
      res.writeHead(200, {
        'content-type': req.url.endsWith('.json') ? 'application/json' : 'image/svg+xml',
        'access-control-allow-origin': '*'
      });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    srv.on('upgrade', (req, socket) => {
      upgrades.push(req.url);
      socket.destroy();
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}/`,
        requests,
        upgrades,
        close: () => new Promise((r) => {
          srv.closeAllConnections();
          srv.close(r);
        })
      });
    });
  });
}

// The shared fixtures of a test file, with node:test's before() and after() registered: one
// browser (ctx.browser), and every ws-serve, page, foreign server and overlay copy made through
// ctx closed or removed after the file's tests. ctx.page(p) adds a page opened by hand.
function suite() {
  const {before, after} = require('node:test');
  const made = {servers: [], pages: [], foreign: [], copies: []};
  const ctx = {
    browser: null,
    async server(options) {
      const s = await startServer(options);
      made.servers.push(s);
      return s;
    },
    async overlay(s, query, options) {
      return ctx.page(await openOverlay(ctx.browser, s, query, options));
    },
    page(p) {
      made.pages.push(p);
      return p;
    },
    async attacker(files) {
      const f = await startForeign(files);
      made.foreign.push(f);
      return f;
    },
    copy(files) {
      const c = overlayCopy(files);
      made.copies.push(c);
      return c.root;
    },
  };
  before(async () => {
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    for (const p of made.pages) await p.close().catch(() => {});
    if (ctx.browser) await ctx.browser.close();
    for (const s of made.servers) await s.stop();
    for (const f of made.foreign) await f.close();
    for (const c of made.copies) c.rm();
  });
  return ctx;
}

// Lines of text the element `selector` takes: its height over its line height.
async function lineCount(page, selector) {
  return page.$eval(selector, (el) => {
    const lh = parseFloat(getComputedStyle(el).lineHeight);
    return Math.round(el.offsetHeight / lh);
  });
}

module.exports = {
  ROOT,
  BIN,
  OVERLAY,
  launchBrowser,
  startServer,
  event,
  recorder,
  openOverlay,
  waitForAlerts,
  alertsOf,
  oneAtATime,
  screenshotPath,
  sleep,
  overlayCopy,
  startForeign,
  lineCount,
  suite
};
