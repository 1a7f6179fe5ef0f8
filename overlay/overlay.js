// overlay.js: the alert box that ws-serve serves and OBS shows as a Browser Source.
//
// It connects to the ws-serve stream on the page's own origin (the page URL's `token` is passed
// on), reconnects with capped exponential backoff and jitter, and turns schema-v1 events (one JSON
// object per WebSocket text frame, see man/twitch-events.7) into alerts: one at a time, in arrival
// order, each on screen for its type's duration, with a pause between two alerts.
//
// Rules that shape the code:
// - De-duplication is by event `id`, so an event that reaches the page twice (two listeners, a
//   replayed history, an at-least-once broker) is shown once.
// - A gift bomb is one alert. Its `giftbomb` and the `subgift` events of the same `group` share
//   one queue entry, created by whichever arrives first; the entry keeps that place in the queue.
//   If it reaches the front before its `giftbomb` has come, it is held for `giftHold` seconds, and
//   if the giftbomb still has not come it is shown from the subgifts alone. Subgifts of a group
//   that was already shown are folded into it silently.
// - Everything a viewer can type (names, messages, reward titles) goes into the DOM through
//   textContent, never as HTML. Templates from the configuration are text too.
//
// Configuration: a few built-in fallbacks, then config.json beside the page (the shipped
// defaults), then ?config=FILE merged over it, then the page's URL parameters. README.md in this
// directory documents every key with examples.
(() => {
  'use strict';

  const DEFAULTS = {
    duration: 5,            // seconds an alert is on screen, animations included
    pause: 1,               // seconds of nothing between two alerts
    giftHold: 2,            // seconds a gift bomb waits for its `giftbomb` event
    volume: 1,              // master volume, multiplies each type's volume; 0 mutes
    minBits: 1,             // cheers under this many bits are skipped
    minViewers: 1,          // raids (and hosts) with fewer viewers are skipped
    showGiftedSubs: false,  // `sub` events with "gifted": true (the gift is already an alert)
    anonymousName: 'Anonymous',
    reconnectMin: 0.5,  // seconds before the first reconnect attempt
    reconnectMax: 10,   // cap of the exponential backoff
    types: [
      'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain'
    ],
    alerts: {},
  };

  // Keys of a per-type alert; `duration` and `volume` fall back to the global ones.
  const ALERT_KEYS = ['text', 'message', 'image', 'sound', 'volume', 'duration', 'phases'];
  const NUMBER_KEYS = [
    'duration', 'pause', 'giftHold', 'volume', 'minBits', 'minViewers', 'reconnectMin',
    'reconnectMax'
  ];
  const MAX_SEEN = 10000;   // ids remembered for de-duplication
  const MAX_GROUPS = 1000;  // gift bomb groups remembered for folding late subgifts
  const MAX_DEBUG_LINES = 12;

  const params = new URLSearchParams(location.search);
  const debugOn = params.get('debug') === '1' || params.get('debug') === 'true';

  // ---- configuration ------------------------------------------------------------------------

  function isObject(x) {
    return x !== null && typeof x === 'object' && !Array.isArray(x);
  }

  // Keys never merged: through them a file or URL could reach Object.prototype.
  const UNSAFE_KEYS = ['__proto__', 'constructor', 'prototype'];

  // Merges `over` into `base` (objects recursively, everything else replaced); returns base.
  function merge(base, over) {
    if (!isObject(over)) return base;
    for (const [k, v] of Object.entries(over)) {
      if (UNSAFE_KEYS.includes(k)) continue;
      if (isObject(v) && Object.prototype.hasOwnProperty.call(base, k) && isObject(base[k])) {
        merge(base[k], v);
      } else {
        base[k] = isObject(v) ? merge({}, v) : v;
      }
    }
    return base;
  }

  function parseList(s) {
    return s.split(',').map((t) => t.trim()).filter((t) => t !== '');
  }

  // URL parameters: global keys (?duration=6&types=follow,sub), per-type keys
  // (?cheer.text=...&raid.duration=8). A global duration or volume in the URL wins over the
  // per-type values of the configuration files, because "?duration=3" means "every alert 3
  // seconds"; a per-type key in the URL wins over both.
  function applyParams(cfg) {
    for (const [key, value] of params) {
      if (key.includes('.')) continue;
      if (key === 'types') {
        cfg.types = parseList(value);
      } else if (NUMBER_KEYS.includes(key)) {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) continue;
        cfg[key] = n;
        if (key === 'duration' || key === 'volume') {
          for (const a of Object.values(cfg.alerts)) delete a[key];
        }
      } else if (key === 'showGiftedSubs') {
        cfg.showGiftedSubs = value === '1' || value === 'true';
      } else if (key === 'anonymousName') {
        cfg.anonymousName = value;
      } else if (key === 'mute' && (value === '1' || value === 'true')) {
        cfg.volume = 0;
      }
    }
    for (const [key, value] of params) {
      const dot = key.indexOf('.');
      if (dot <= 0) continue;
      const type = key.slice(0, dot);
      const sub = key.slice(dot + 1);
      if (!ALERT_KEYS.includes(sub) || !/^[a-z]+$/.test(type)) continue;
      if (!isObject(cfg.alerts[type])) cfg.alerts[type] = {};
      const a = cfg.alerts[type];
      if (sub === 'duration' || sub === 'volume') {
        const n = Number(value);
        if (Number.isFinite(n) && n >= 0) a[sub] = n;
      } else if (sub === 'phases') {
        a[sub] = parseList(value);
      } else {
        a[sub] = value;
      }
    }
    return cfg;
  }

  // Fetches a JSON configuration file relative to the page and merges it into cfg.
  async function mergeFile(cfg, file) {
    try {
      const res = await fetch(file, {cache: 'no-store'});
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      merge(cfg, await res.json());
      return true;
    } catch (e) {
      note(`config ${file}: ${e.message}`);
      return false;
    }
  }

  // config.json holds the shipped defaults; ?config=FILE is merged over it, so a custom file
  // needs only the keys it changes. Without config.json the page still works, plainly.
  async function loadConfig() {
    const cfg = merge({}, DEFAULTS);
    await mergeFile(cfg, 'config.json');
    const extra = params.get('config');
    if (extra) await mergeFile(cfg, extra);
    return applyParams(cfg);
  }

  // ---- state ---------------------------------------------------------------------------------

  let config = merge({}, DEFAULTS);
  const counts =
      {received: 0, queued: 0, shown: 0, duplicates: 0, skipped: 0, folded: 0, invalid: 0};
  const seen = new Set();
  const seenOrder = [];
  const groups = new Map();  // group -> queue entry, shown or not
  const queue = [];          // entries: {ev} or {group, bomb, gifts, firstSeen}
  let busy = false;          // an alert is on screen, or the pause after it runs
  let holdTimer = null;
  let current = null;  // the entry on screen
  const recent = [];   // for ?debug=1: newest first
  const notes = [];
  let connection = 'connecting';
  let streamUrl = '';

  // ---- text ----------------------------------------------------------------------------------

  function who(u) {
    return u && (u.name || u.login) ? String(u.name || u.login) : '';
  }

  function tierLabel(t) {
    switch (String(t)) {
      case 'prime':
        return 'Prime';
      case '1000':
        return 'Tier 1';
      case '2000':
        return 'Tier 2';
      case '3000':
        return 'Tier 3';
      default:
        return t === undefined ? '' : String(t);
    }
  }

  function str(x) {
    return x === undefined || x === null ? '' : String(x);
  }

  // The placeholder values of an entry.
  function values(entry) {
    const ev = entry.bomb || entry.ev || entry.gifts[0];
    const gifts = entry.gifts || [];
    const names = gifts.map((g) => who(g.recipient)).filter((n) => n !== '');
    let recipients = names.slice(0, 10).join(', ');
    if (names.length > 10) recipients += ` and ${names.length - 10} more`;
    let count = ev.count;
    if (entry.gifts && (count === undefined || count < gifts.length)) count = gifts.length;
    const reward = isObject(ev.reward) ? ev.reward : {};
    return {
      user: who(ev.user) || (ev.anonymous ? config.anonymousName : ''),
      recipient: who(ev.recipient),
      recipients,
      months: str(ev.months),
      streak: str(ev.streak),
      bits: str(ev.bits),
      viewers: str(ev.viewers),
      count: str(count),
      total: str(ev.total),
      tier: tierLabel(ev.tier),
      reward: str(reward.title),
      cost: str(reward.cost),
      message: str(ev.message),
      level: str(ev.level),
      channel: who(ev.channel),
      target: str(ev.target && ev.target.login),
    };
  }

  // Appends `template` to `el` with each {placeholder} replaced by its value, as text nodes only.
  // Values go in <span class="v v-NAME"> so the theme can colour them. Unknown placeholders stay.
  function fill(el, template, vals) {
    const re = /\{([a-z]+)\}/g;
    let last = 0;
    let m;
    while ((m = re.exec(template)) !== null) {
      if (m.index > last) el.append(document.createTextNode(template.slice(last, m.index)));
      if (Object.prototype.hasOwnProperty.call(vals, m[1])) {
        const span = document.createElement('span');
        span.className = `v v-${m[1]}`;
        span.textContent = vals[m[1]];
        el.append(span);
      } else {
        el.append(document.createTextNode(m[0]));
      }
      last = re.lastIndex;
    }
    if (last < template.length) el.append(document.createTextNode(template.slice(last)));
    return el.textContent.trim() !== '';
  }

  // ---- the queue -----------------------------------------------------------------------------

  function alertConfig(type) {
    const a =
        Object.prototype.hasOwnProperty.call(config.alerts, type) ? config.alerts[type] : null;
    return isObject(a) ? a : {};
  }

  // A number of seconds (or a volume) from the configuration: `value` if it is one, else
  // `fallback`.
  function num(value, fallback) {
    const n = Number(value);
    return value !== undefined && value !== null && value !== '' && Number.isFinite(n) && n >= 0 ?
        n :
        fallback;
  }

  function template(value, fallback) {
    return value === undefined || value === null ? fallback : String(value);
  }

  function enabled(type) {
    return Array.isArray(config.types) && config.types.includes(type);
  }

  function remember(id) {
    seen.add(id);
    seenOrder.push(id);
    if (seenOrder.length > MAX_SEEN) seen.delete(seenOrder.shift());
  }

  // Why an event is not shown, or '' when it goes on.
  function skipReason(ev) {
    const type = ev.type;
    if (type !== 'subgift' && type !== 'giftbomb' && !enabled(type)) return 'type off';
    if (type === 'subgift' && !ev.group && !enabled('subgift')) return 'type off';
    if (type === 'giftbomb' && !ev.group && !enabled('giftbomb')) return 'type off';
    if (type === 'cheer' && !(Number(ev.bits) >= num(config.minBits, 1))) return 'under minBits';
    if ((type === 'raid' || type === 'host') &&
        !(Number(ev.viewers) >= num(config.minViewers, 1))) {
      return 'under minViewers';
    }
    if (type === 'sub' && ev.gifted === true && !config.showGiftedSubs) return 'gifted sub';
    const phases = alertConfig(type).phases;
    if (Array.isArray(phases) && ev.phase !== undefined && !phases.includes(ev.phase)) {
      return 'phase off';
    }
    return '';
  }

  function handleEvent(ev) {
    counts.received++;
    if (!isObject(ev) || typeof ev.type !== 'string') {
      counts.invalid++;
      return;
    }
    const id = typeof ev.id === 'string' ? ev.id : '';
    if (id !== '' && seen.has(id)) {
      counts.duplicates++;
      track(ev, 'duplicate');
      return;
    }
    if (id !== '') remember(id);
    const why = skipReason(ev);
    if (why !== '') {
      counts.skipped++;
      track(ev, `skipped: ${why}`);
      return;
    }
    const group =
        (ev.type === 'subgift' || ev.type === 'giftbomb') && ev.group ? String(ev.group) : '';
    if (group === '') {
      queue.push({ev});
      counts.queued++;
      track(ev, 'queued');
      pump();
      return;
    }
    let entry = groups.get(group);
    const created = entry === undefined;
    if (created) {
      entry = {group, bomb: null, gifts: [], firstSeen: performance.now(), done: false};
      groups.set(group, entry);
      if (groups.size > MAX_GROUPS) groups.delete(groups.keys().next().value);
      queue.push(entry);
      counts.queued++;
    } else {
      counts.folded++;
    }
    if (ev.type === 'giftbomb') {
      if (entry.bomb === null) entry.bomb = ev;
    } else {
      entry.gifts.push(ev);
      if (entry === current) refreshGroup(entry);
    }
    track(ev, created ? 'queued (gift bomb)' : `folded${entry.done ? ' (shown)' : ''}`);
    pump();
  }

  // Shows the front of the queue when nothing is on screen.
  function pump() {
    if (busy || queue.length === 0) return;
    const head = queue[0];
    if (head.group !== undefined && head.bomb === null) {
      const wait = head.firstSeen + num(config.giftHold, 2) * 1000 - performance.now();
      if (wait > 0) {
        if (holdTimer === null) {
          holdTimer = setTimeout(() => {
            holdTimer = null;
            pump();
          }, wait);
        }
        return;
      }
    }
    queue.shift();
    try {
      show(head);
    } catch (e) {
      // A configuration value that breaks an alert must not stall the queue behind it.
      note(`alert: ${e.message}`);
      if (currentEl !== null) currentEl.remove();
      busy = false;
      current = null;
      currentEl = null;
      setTimeout(pump, 0);
    }
  }

  // The type an entry is shown as: a group without its giftbomb and with one gift is a subgift.
  function entryType(entry) {
    if (entry.ev) return entry.ev.type;
    if (entry.bomb === null && entry.gifts.length === 1) return 'subgift';
    return 'giftbomb';
  }

  // ---- the alert on screen -------------------------------------------------------------------

  const stage = document.getElementById('stage');
  let currentEl = null;

  function media(url, cls) {
    let el;
    if (/\.(webm|mp4)(\?|$)/i.test(url)) {
      el = document.createElement('video');
      el.autoplay = true;
      el.muted = true;
      el.loop = true;
      el.playsInline = true;
    } else {
      el = document.createElement('img');
      el.alt = '';
    }
    el.className = cls;
    el.addEventListener('error', () => el.remove());
    el.src = url;
    return el;
  }

  function playSound(url, volume) {
    if (!url || !(volume > 0)) return null;
    try {
      const audio = new Audio(url);
      audio.volume = Math.min(1, volume);
      audio.play().catch((e) => note(`sound ${url}: ${e.message}`));
      return audio;
    } catch (e) {
      note(`sound ${url}: ${e.message}`);
      return null;
    }
  }

  function refreshGroup(entry) {
    if (currentEl === null) return;
    const msg = currentEl.querySelector('.alert__message');
    const a = alertConfig('giftbomb');
    if (msg === null) return;
    msg.textContent = '';
    msg.hidden = !fill(msg, template(a.message, '{message}'), values(entry));
  }

  function show(entry) {
    const type = entryType(entry);
    const ev = entry.ev || entry.bomb || entry.gifts[0];
    if (entry.group !== undefined) entry.done = true;
    if (!enabled(type) && entry.group !== undefined) {
      // A gift bomb whose type is switched off: its subgifts were folded, nothing is shown.
      counts.skipped++;
      pump();
      return;
    }
    const a = alertConfig(type);
    const duration = num(a.duration, num(config.duration, 5));
    const volume = num(a.volume, 1) * num(config.volume, 1);
    const vals = values(entry);
    const anim = Math.min(600, (duration * 1000) / 4);

    const el = document.createElement('section');
    el.className = `alert alert--${type.replace(/[^a-z0-9_-]/gi, '')}`;
    el.dataset.type = type;
    if (ev.id !== undefined) el.dataset.id = String(ev.id);
    el.style.setProperty('--anim', `${anim}ms`);
    if (a.image) el.append(media(String(a.image), 'alert__image'));
    const title = document.createElement('h1');
    title.className = 'alert__title';
    fill(title, template(a.text, '{user}'), vals);
    el.append(title);
    const msg = document.createElement('p');
    msg.className = 'alert__message';
    msg.hidden = !fill(msg, template(a.message, '{message}'), vals);
    el.append(msg);

    busy = true;
    current = entry;
    currentEl = el;
    stage.append(el);
    counts.shown++;
    track(ev, `shown as ${type}`);
    const audio = a.sound ? playSound(String(a.sound), volume) : null;

    setTimeout(() => el.classList.add('is-leaving'), Math.max(0, duration * 1000 - anim));
    setTimeout(() => {
      el.remove();
      if (audio !== null) audio.pause();
      current = null;
      currentEl = null;
      setTimeout(() => {
        busy = false;
        pump();
      }, num(config.pause, 1) * 1000);
    }, duration * 1000);
  }

  // ---- the connection ------------------------------------------------------------------------

  function defaultStreamUrl() {
    const explicit = params.get('ws');
    let url;
    if (explicit) {
      url = new URL(explicit, location.href);
    } else {
      url = new URL('/', location.href);
      url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    // encodeURIComponent, not searchParams: that writes a space as '+', which a server
    // decoding by RFC 3986 keeps as a plus.
    const token = params.get('token');
    if (token)
      url.search = `${url.search ? `${url.search}&` : '?'}token=${encodeURIComponent(token)}`;
    return url.toString();
  }

  let attempts = 0;

  function setConnection(state) {
    connection = state;
    document.documentElement.dataset.connection = state;
    render();
  }

  function connect() {
    setConnection('connecting');
    let ws;
    try {
      ws = new WebSocket(streamUrl);
    } catch (e) {
      note(`stream: ${e.message}`);
      setConnection('closed');
      return;
    }
    ws.addEventListener('open', () => {
      attempts = 0;
      setConnection('open');
    });
    ws.addEventListener('message', (m) => {
      if (typeof m.data !== 'string') return;
      for (const line of m.data.split('\n')) {
        if (line.trim() === '') continue;
        let ev;
        try {
          ev = JSON.parse(line);
        } catch (e) {
          counts.received++;
          counts.invalid++;
          continue;
        }
        try {
          handleEvent(ev);
        } catch (e) {
          note(`event: ${e.message}`);
        }
      }
      render();
    });
    ws.addEventListener('close', (e) => {
      const min = Math.max(0.05, num(config.reconnectMin, 0.5));
      const max = Math.max(min, num(config.reconnectMax, 10));
      const delay =
          Math.min(max, min * 2 ** Math.min(attempts, 16)) * 1000 * (0.5 + Math.random() / 2);
      attempts++;
      note(`stream closed (${e.code}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
      setConnection('closed');
      setTimeout(connect, delay);
    });
  }

  // ---- ?debug=1 ------------------------------------------------------------------------------

  const debugEl = document.getElementById('debug');

  function clock() {
    return new Date().toISOString().slice(11, 19);
  }

  function track(ev, what) {
    if (!debugOn) return;
    const name = who(ev.user) || (ev.anonymous ? 'anonymous' : '-');
    recent.unshift(`${clock()} ${ev.type} ${name} ${ev.id || ''} ${what}`);
    if (recent.length > MAX_DEBUG_LINES) recent.pop();
  }

  function note(text) {
    notes.unshift(`${clock()} ${text}`);
    if (notes.length > 4) notes.pop();
    render();
  }

  function render() {
    if (!debugOn || debugEl === null) return;
    const safeUrl = streamUrl.replace(/([?&]token=)[^&]*/, '$1…');
    const c = Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ');
    debugEl.hidden = false;
    debugEl.textContent = [
      `stream ${connection} ${safeUrl}`,
      `${c}, waiting ${queue.length}`,
      `types ${Array.isArray(config.types) ? config.types.join(',') : '(none)'}`,
      ...notes,
      '-- last events --',
      ...recent,
    ].join('\n');
  }

  // A read-only view for people poking at the page from the browser console.
  window.__overlay = {
    get config() {
      return config;
    },
    get connection() {
      return connection;
    },
    get waiting() {
      return queue.length;
    },
    counts,
  };

  loadConfig().then((cfg) => {
    config = cfg;
    streamUrl = defaultStreamUrl();
    if (debugOn) document.documentElement.classList.add('debug');
    connect();
  });
})();
