// overlay.js: the alert box that ws-serve serves and OBS shows as a Browser Source.
//
// It connects to the ws-serve stream on the page's own origin (the page URL's `token` is passed
// on, to the page's own host only), reconnects with capped exponential backoff and jitter, and
// turns schema-v1 events (one JSON object per WebSocket text frame, see man/twitch-events.7)
// into alerts: one at a time, in arrival order, each on screen for its type's duration, with a
// pause between two alerts.
//
// Rules that shape the code:
// - De-duplication is by event `id`, so an event that reaches the page twice (two listeners, a
//   replayed history, an at-least-once broker) is shown once.
// - A gift bomb is one alert. Its `giftbomb` and the `subgift` events of the same `group` share
//   one queue entry, created by whichever arrives first; the entry keeps that place in the queue.
//   If it reaches the front before its `giftbomb` has come, it is held for `giftHold` seconds, and
//   if the giftbomb still has not come it is shown from the subgifts alone. Subgifts of a group
//   that was already shown are folded into it silently.
// - An event may be shown `alertDelay` seconds after it arrived, not before (the stream's delay).
// - Resume: the page keeps the id of the last event it received (localStorage, which OBS keeps
//   across reloads) and reconnects with ?after=ID; ws-serve sends what came meanwhile, after a
//   control message saying how many. Of those, an event older than `maxAge` counts as seen and
//   is not played late.
// - The backlog rule: while more than `backlog.after` alerts wait, durations and pauses shorten in
//   proportion (down to `backlog.minDuration`) and consecutive follows fold into one alert.
//   Nothing is skipped.
// - The desk (desk/) steers it through ws-serve's control channel (twitch-events(7), CONTROL
//   MESSAGES): replay puts an event in the queue again as a new alert, on purpose past the
//   de-duplication; skip ends the alert on screen at once (its sound and speech stop); pause holds
//   the queue, which keeps taking what arrives, and resume lets it go on in order; mute silences
//   sound and speech. The page reports its queue as a `status` on every change and every few
//   seconds, so that the desk can show it.
// - Variations: a type's `variations` are tried in order, the first whose condition holds
//   (condition.js, never eval) changes the alert's text, image, sound, volume or duration.
// - Everything a viewer can type (names, messages, reward titles) goes into the DOM through
//   textContent, never as HTML (text.js). Templates from the configuration are text too.
// - Every mistake in the configuration is a problem shown in ?debug=1, logged in the console and
//   listed by window.__overlay.status() (config.js checks it); the files are read again every
//   `configReload` seconds and a change applies without reloading the page.
(() => {
  'use strict';

  const {DEFAULTS, isObject, merge} = window.OverlayConfig;
  const {fill, messageValue, spokenText} = window.OverlayText;

  const MAX_SEEN = 10000;   // ids remembered for de-duplication
  const MAX_GROUPS = 1000;  // gift bomb groups remembered for folding late subgifts
  const MAX_DEBUG_LINES = 12;
  const MAX_NAMES = 10;  // names listed in a gift bomb or folded follows
  const MAX_STORED = 500;  // recent events kept for a replay by id
  const STATUS_EVERY = 5000;  // ms between two status reports when nothing changes
  const STATUS_GAP = 250;     // ms at least between two status reports

  const params = new URLSearchParams(location.search);
  const debugOn = params.get('debug') === '1' || params.get('debug') === 'true';

  // ---- state ---------------------------------------------------------------------------------

  let config = merge({}, DEFAULTS);
  let configTexts = null;  // the configuration files' texts, to notice a change
  let configVersion = 0;
  let problems = [];         // the configuration's, and those of files that do not load
  const warned = new Set();  // problems already written to the console
  const counts =
      {received: 0, queued: 0, shown: 0, duplicates: 0, skipped: 0, folded: 0, invalid: 0,
       tooOld: 0, resumeGaps: 0, replayed: 0, skippedByDesk: 0, refused: 0};
  const seen = new Set();
  const seenOrder = [];
  const groups = new Map();  // group -> queue entry, shown or not
  const queue = [];          // entries: {ev, ready} or {group, bomb, gifts, firstSeen, ready}
  let busy = false;          // an alert is on screen, or the pause after it runs
  let waitTimer = null;
  let current = null;   // the entry on screen
  let currentEnds = 0;  // performance.now() when it leaves
  const recent = [];    // for ?debug=1: newest first
  const notes = [];
  let connection = 'connecting';
  let streamUrl = '';
  let tokenProblem = '';
  const stored = new Map();  // id -> event, the last MAX_STORED, for a replay by id
  let paused = false;        // the desk paused the queue
  let muted = false;         // the desk muted sound and speech
  let replays = 0;           // replayed groups, for their own queue entries
  let socket = null;         // the open stream, for status reports
  let currentTimers = [];    // the alert on screen: its leaving and its end
  let currentAudio = null;   // its sound
  const overlayName = (params.get('name') || '').slice(0, 16);
  const overlayId = `overlay-${Math.random().toString(36).slice(2, 10)}`;

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

  function nameList(names) {
    let list = names.slice(0, MAX_NAMES).join(', ');
    if (names.length > MAX_NAMES) list += ` and ${names.length - MAX_NAMES} more`;
    return list;
  }

  // The placeholder values of an entry: {text, viewer} each (text.js).
  function values(entry) {
    const ev = entryEvent(entry);
    const gifts = entry.gifts || [];
    let count = ev.count;
    if (entry.gifts && (count === undefined || count < gifts.length)) count = gifts.length;
    if (entry.follows) count = entry.follows.length;
    const reward = isObject(ev.reward) ? ev.reward : {};
    const plain = (text) => ({text: str(text), viewer: false});
    const viewer = (text) => ({text: str(text), viewer: true});
    return {
      user: viewer(who(ev.user) || (ev.anonymous ? config.anonymousName : '')),
      recipient: viewer(who(ev.recipient)),
      recipients: viewer(nameList(gifts.map((g) => who(g.recipient)).filter((n) => n !== ''))),
      users:
          viewer(nameList((entry.follows || [ev]).map((e) => who(e.user)).filter((n) => n !== ''))),
      months: plain(ev.months),
      streak: plain(ev.streak),
      bits: plain(ev.bits),
      viewers: plain(ev.viewers),
      count: plain(count),
      total: plain(ev.total),
      tier: plain(tierLabel(ev.tier)),
      reward: viewer(reward.title),
      cost: plain(reward.cost),
      message: messageValue(ev, config),
      level: plain(ev.level),
      channel: viewer(who(ev.channel)),
      target: viewer(ev.target && ev.target.login),
    };
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

  function handleEvent(ev, catchingUp = false) {
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
    // The catch-up after a resume: an event older than maxAge is seen, but not played late.
    const age = Date.now() - Date.parse(ev.at);
    if (catchingUp && num(config.maxAge, 0) > 0 && age > num(config.maxAge, 0) * 1000) {
      counts.tooOld++;
      track(ev, `seen, not shown: ${Math.round(age / 1000)} s old (maxAge)`);
      return;
    }
    if (id !== '') keep(ev);
    enqueue(ev, false);
  }

  function keep(ev) {
    stored.delete(ev.id);
    stored.set(ev.id, ev);
    if (stored.size > MAX_STORED) stored.delete(stored.keys().next().value);
  }

  // Puts an event in the queue (or folds it into its gift bomb). A replay gets an entry of its
  // own, a gift bomb's with the subgifts of its group this page has seen.
  function enqueue(ev, replay) {
    const why = skipReason(ev);
    if (why !== '') {
      counts.skipped++;
      track(ev, `skipped: ${why}`);
      return;
    }
    const now = performance.now();
    const ready = now + num(config.alertDelay, 0) * 1000;
    const original =
        (ev.type === 'subgift' || ev.type === 'giftbomb') && ev.group ? String(ev.group) : '';
    const group = original !== '' && replay ? `replay ${++replays} ${original}` : original;
    if (replay && original !== '') {
      const gifts = [...stored.values()].filter(
          (e) => e.type === 'subgift' && String(e.group) === original && e.id !== ev.id);
      const bomb = ev.type === 'giftbomb' ? ev : null;
      const entry = {group, bomb, gifts: ev.type === 'subgift' ? [ev, ...gifts] : gifts,
                     firstSeen: now - num(config.giftHold, 2) * 1000, ready, done: false};
      queue.push(entry);
      counts.queued++;
      track(ev, 'queued (replay)');
      pump();
      return;
    }
    if (group === '') {
      queue.push({ev, ready});
      counts.queued++;
      track(ev, 'queued');
      pump();
      return;
    }
    let entry = groups.get(group);
    const created = entry === undefined;
    if (created) {
      entry = {group, bomb: null, gifts: [], firstSeen: now, ready, done: false};
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

  // When the entry may be shown: after alertDelay, and a gift bomb without its giftbomb event
  // after giftHold.
  function readyAt(entry) {
    let t = entry.ready;
    if (entry.group !== undefined && entry.bomb === null) {
      t = Math.max(t, entry.firstSeen + num(config.giftHold, 2) * 1000);
    }
    return t;
  }

  // True while the backlog rule applies: more than backlog.after alerts wait.
  function backlogFactor(waiting) {
    const after = num(config.backlog.after, 0);
    return after > 0 && waiting > after ? after / waiting : 1;
  }

  // Shows the front of the queue when nothing is on screen (and the desk has not paused it).
  function pump() {
    sendStatus();
    if (busy || paused || queue.length === 0) return;
    let head = queue[0];
    const wait = readyAt(head) - performance.now();
    if (wait > 0) {
      if (waitTimer === null) {
        waitTimer = setTimeout(() => {
          waitTimer = null;
          pump();
        }, wait);
      }
      return;
    }
    const waiting = queue.length;
    queue.shift();
    const factor = backlogFactor(waiting);
    if (factor < 1 && config.backlog.fold !== false && head.ev && head.ev.type === 'follow') {
      const follows = [head.ev];
      const now = performance.now();
      while (queue.length > 0 && queue[0].ev && queue[0].ev.type === 'follow' &&
             queue[0].ready <= now) {
        follows.push(queue.shift().ev);
      }
      if (follows.length > 1) {
        head = {follows};
        counts.folded += follows.length - 1;
      }
    }
    try {
      show(head, factor);
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

  function entryEvent(entry) {
    if (entry.follows) return entry.follows[0];
    return entry.ev || entry.bomb || entry.gifts[0];
  }

  function entryIds(entry) {
    const evs = entry.follows || (entry.ev ? [entry.ev] : [entry.bomb, ...entry.gifts]);
    return evs.filter((e) => e && e.id !== undefined).map((e) => String(e.id));
  }

  // The type an entry is shown as: a group without its giftbomb and with one gift is a subgift.
  function entryType(entry) {
    if (entry.follows) return 'follow';
    if (entry.ev) return entry.ev.type;
    if (entry.bomb === null && entry.gifts.length === 1) return 'subgift';
    return 'giftbomb';
  }

  // ---- the alert on screen -------------------------------------------------------------------

  const stage = document.getElementById('stage');
  let currentEl = null;

  function isVideo(url) {
    return /\.(webm|mp4)(\?|$)/i.test(url);
  }

  function media(url, cls) {
    let el;
    if (isVideo(url)) {
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
    // Its own size counts in pixels of a 1920x1080 source, like the text (overlay.css).
    const natural = () => {
      const height = el.naturalHeight || el.videoHeight;
      if (height > 0) el.style.setProperty('--natural-height', String(height));
    };
    el.addEventListener('load', natural);
    el.addEventListener('loadedmetadata', natural);
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

  // The amount a type's text-to-speech minimum is compared with.
  function amountOf(type, ev) {
    if (type === 'cheer') return Number(ev.bits) || 0;
    if (type === 'sub' || type === 'resub') return Number(ev.months) || 0;
    if (type === 'redemption') return Number(isObject(ev.reward) && ev.reward.cost) || 0;
    return 0;
  }

  // Reads the viewer's message aloud when tts is on for the type and the amount reaches its
  // minimum; the master volume applies (mute=1 mutes it too).
  function speak(type, ev) {
    const t = config.tts;
    if (muted || !t.enabled || !Object.prototype.hasOwnProperty.call(t.types, type)) return;
    if (!('speechSynthesis' in window) || typeof SpeechSynthesisUtterance !== 'function') return;
    const volume = Math.min(1, num(t.volume, 1) * num(config.volume, 1));
    if (!(volume > 0) || amountOf(type, ev) < num(t.types[type], 0)) return;
    const text = spokenText(ev);
    if (text === '') return;
    const u = new SpeechSynthesisUtterance(text);
    u.volume = volume;
    u.rate = num(t.rate, 1) || 1;
    u.lang = config.language;
    if (t.voice) {
      const voice = speechSynthesis.getVoices().find((v) => v.name === t.voice);
      if (voice) {
        u.voice = voice;
      } else {
        note(`tts: no voice ${JSON.stringify(t.voice)}: the default voice speaks`);
      }
    }
    speechSynthesis.speak(u);
  }

  function refreshGroup(entry) {
    if (currentEl === null) return;
    const msg = currentEl.querySelector('.alert__message');
    const a = alertConfig('giftbomb');
    if (msg === null) return;
    msg.textContent = '';
    msg.hidden = !fill(msg, template(a.message, '{message}'), values(entry), config.language);
  }

  // Keeps the headline on one line: a headline wider than the card is set smaller, down to half
  // its size; beyond that it wraps between words (a name stays whole, .v does not break).
  function fitTitle(title) {
    title.style.fontSize = '';
    title.classList.remove('is-wrapping');
    const avail = title.clientWidth;
    const need = title.scrollWidth;
    if (need <= avail + 1 || avail === 0) return;
    const size = parseFloat(getComputedStyle(title).fontSize);
    const scale = Math.max(0.5, (avail / need) * 0.98);
    title.style.fontSize = `${size * scale}px`;
    if (title.scrollWidth > title.clientWidth + 1) title.classList.add('is-wrapping');
  }

  function show(entry, factor) {
    const type = entryType(entry);
    const ev = entryEvent(entry);
    if (entry.group !== undefined) entry.done = true;
    if (!enabled(type) && entry.group !== undefined) {
      // A gift bomb whose type is switched off: its subgifts were folded, nothing is shown.
      counts.skipped++;
      pump();
      return;
    }
    const chosen = variationOf(alertConfig(type), entry);
    const a = chosen.alert;
    let duration = num(a.duration, num(config.duration, 5));
    let pause = num(config.pause, 1);
    if (factor < 1) {
      const floor = num(config.backlog.minDuration, 0);
      duration = Math.max(Math.min(duration, floor), duration * factor);
      pause *= factor;
    }
    const volume = muted ? 0 : num(a.volume, 1) * num(config.volume, 1);
    const vals = values(entry);
    const anim = Math.min(600, (duration * 1000) / 4);

    const el = document.createElement('section');
    el.className = `alert alert--${type.replace(/[^a-z0-9_-]/gi, '')}`;
    el.dataset.type = type;
    const ids = entryIds(entry);
    if (ev.id !== undefined) el.dataset.id = String(ev.id);
    el.dataset.ids = ids.join(' ');
    if (chosen.index >= 0) el.dataset.variation = String(chosen.index);
    el.style.setProperty('--anim', `${anim}ms`);
    if (a.image) el.append(media(String(a.image), 'alert__image'));
    const title = document.createElement('h1');
    title.className = 'alert__title';
    const folded = entry.follows !== undefined;
    const headline = folded ? template(a.foldText, '{count|# new follower|# new followers}!') :
                              template(a.text, '{user}');
    fill(title, headline, vals, config.language);
    el.append(title);
    const msg = document.createElement('p');
    msg.className = 'alert__message';
    msg.hidden = !fill(
        msg, folded ? template(a.foldMessage, '{users}') : template(a.message, '{message}'), vals,
        config.language);
    el.append(msg);

    busy = true;
    current = entry;
    currentEl = el;
    currentEnds = performance.now() + duration * 1000;
    stage.append(el);
    fitTitle(title);
    counts.shown++;
    track(ev, `shown as ${type}${folded ? ` (${entry.follows.length} follows)` : ''}`);
    const audio = a.sound ? playSound(String(a.sound), volume) : null;
    if (!folded) speak(type, ev);
    render();

    currentAudio = audio;
    currentTimers = [
      setTimeout(() => el.classList.add('is-leaving'), Math.max(0, duration * 1000 - anim)),
      setTimeout(() => endAlert(pause), duration * 1000),
    ];
    sendStatus();
  }

  // Takes the alert on screen away (at its end, or skipped) and shows the next after |pause|
  // seconds.
  function endAlert(pause) {
    for (const t of currentTimers) clearTimeout(t);
    currentTimers = [];
    if (currentEl !== null) currentEl.remove();
    if (currentAudio !== null) currentAudio.pause();
    currentAudio = null;
    current = null;
    currentEl = null;
    render();
    sendStatus();
    setTimeout(() => {
      busy = false;
      pump();
    }, pause * 1000);
  }

  // The values a variation's condition compares (condition.js FIELDS), from the entry's event.
  function conditionValues(entry) {
    const ev = entryEvent(entry);
    const v = {};
    for (const f of window.OverlayCondition.FIELDS) {
      if (ev[f] !== undefined && ev[f] !== null && typeof ev[f] !== 'object') v[f] = ev[f];
    }
    const count = values(entry).count.text;
    if (count !== '') v.count = Number(count);
    v.user = who(ev.user);
    v.recipient = who(ev.recipient);
    if (isObject(ev.reward)) {
      v.reward = str(ev.reward.title);
      if (ev.reward.cost !== undefined) v.cost = ev.reward.cost;
    }
    return v;
  }

  const conditions = new Map();  // condition text -> parsed (config.js has checked them)

  // The type's alert settings with the first variation whose condition holds laid over them.
  function variationOf(a, entry) {
    const list = Array.isArray(a.variations) ? a.variations : [];
    if (list.length === 0 || entry.follows) return {alert: a, index: -1};
    const vals = conditionValues(entry);
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (!isObject(v) || typeof v.condition !== 'string') continue;
      if (!conditions.has(v.condition)) {
        conditions.set(v.condition, window.OverlayCondition.parse(v.condition));
      }
      const c = conditions.get(v.condition);
      if (c.ok && c.test(vals)) {
        const merged = Object.assign({}, a);
        for (const [k, x] of Object.entries(v)) {
          if (k !== 'condition') merged[k] = x;
        }
        return {alert: merged, index: i};
      }
    }
    return {alert: a, index: -1};
  }

  // ---- the configuration, applied and watched -------------------------------------------------

  const VERTICAL = {top: 'flex-start', center: 'center', bottom: 'flex-end'};
  const HORIZONTAL = {left: 'flex-start', center: 'center', right: 'flex-end'};

  function applyLayout() {
    const words = config.position.trim().split(/[\s-]+/);
    let v = 'center';
    let h = 'center';
    for (const w of words) {
      if (w === 'top' || w === 'bottom') v = w;
      if (w === 'left' || w === 'right') h = w;
    }
    // Centred is the stylesheet's own layout, left to it so that a Custom CSS in OBS that moves
    // #stage still works.
    stage.style.alignItems = v === 'center' ? '' : VERTICAL[v];
    stage.style.justifyContent = h === 'center' ? '' : HORIZONTAL[h];
    stage.dataset.position = `${v} ${h}`;
    document.documentElement.style.setProperty('--image-height', String(config.imageHeight));
  }

  // Checks that the images and sounds of every type load (also of types not shown now: they may
  // be switched on in OBS later); each that does not is a problem.
  function probeFiles(version) {
    const seenUrls = new Set();
    for (const [type, a] of Object.entries(config.alerts)) {
      if (!isObject(a)) continue;
      for (const key of ['image', 'sound']) {
        const url = a[key];
        if (typeof url !== 'string' || url === '' || seenUrls.has(`${key} ${url}`)) continue;
        seenUrls.add(`${key} ${url}`);
        const el = key === 'sound' ? new Audio() :
            isVideo(url)           ? document.createElement('video') :
                                     new Image();
        const fail = () => {
          if (version === configVersion) {
            addProblem(`"alerts.${type}.${key}": ${url} does not load`);
          }
        };
        el.addEventListener('error', fail, {once: true});
        if (key === 'sound' || isVideo(url)) el.preload = 'metadata';
        el.src = url;
        if (key === 'sound' || isVideo(url)) el.load();
      }
    }
  }

  function addProblem(p) {
    if (!problems.includes(p)) problems.push(p);
    publishProblems();
  }

  function publishProblems() {
    const all = tokenProblem ? [tokenProblem, ...problems] : problems;
    for (const p of all) {
      if (!warned.has(p)) {
        warned.add(p);
        console.warn(`overlay: config: ${p}`);
      }
    }
    document.documentElement.dataset.problems = String(all.length);
    render();
  }

  function applyConfig(loaded) {
    config = loaded.config;
    configTexts = loaded.texts.join('\u0000');
    configVersion++;
    problems = loaded.problems.slice();
    document.documentElement.dataset.config = String(configVersion);
    applyLayout();
    probeFiles(configVersion);
    publishProblems();
  }

  // Reads the configuration again every configReload seconds (0: never); a change applies at
  // once, to the next alert (the one on screen stays as it is), and may change the period. A
  // file that does not read (an editor's save half done, a typo) leaves the configuration in
  // use as it is, with a problem.
  let unreadable = false;  // the last look found a file that did not read

  function watchConfig() {
    const every = num(config.configReload, 0);
    if (!(every > 0)) return;
    setTimeout(async () => {
      try {
        const loaded = await window.OverlayConfig.load(params, location);
        if (loaded.fileErrors.length > 0) {
          // Half-saved or broken: the configuration in use stays until the file reads again.
          for (const p of loaded.fileErrors) addProblem(`${p} (the previous configuration stays)`);
          unreadable = true;
        } else if (unreadable || loaded.texts.join('\u0000') !== configTexts) {
          unreadable = false;
          applyConfig(loaded);
          note('config reloaded');
          console.info('overlay: config reloaded');
          pump();
        }
      } catch (e) {
        note(`config reload: ${e.message}`);
      }
      watchConfig();
    }, Math.max(0.1, every) * 1000);
  }

  // ---- the connection ------------------------------------------------------------------------

  // The stream's URL: the page's own origin, or ?ws=. The token goes only to the page's own host:
  // a ?ws= elsewhere (a link someone sent) would hand it to that server.
  function defaultStreamUrl() {
    const explicit = params.get('ws');
    let url = null;
    if (explicit) {
      try {
        url = new URL(explicit, location.href);
      } catch (e) {
        tokenProblem = `?ws=${explicit}: not a URL: the page's own stream is used`;
      }
    }
    if (url === null) {
      // A page at /r/ROOM/ or with ?room=ROOM (ws-serve --room-key) takes that room's stream.
      const roomPath = location.pathname.match(/^\/r\/[^/]+\//);
      url = new URL(roomPath ? roomPath[0] : '/', location.href);
      url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const room = params.get('room');
      if (room && !roomPath) url.search = `?room=${encodeURIComponent(room)}`;
    }
    // encodeURIComponent, not searchParams: that writes a space as '+', which a server
    // decoding by RFC 3986 keeps as a plus.
    const token = params.get('token');
    if (token && url.host !== location.host) {
      tokenProblem = `?ws=${url.host}: not this page's host (${location.host || 'none'}): ` +
          'the token is not sent there';
    } else if (token) {
      url.search = `${url.search ? `${url.search}&` : '?'}token=${encodeURIComponent(token)}`;
    }
    // The control channel: the desk's commands come, and the status reports go, on the stream.
    url.search = `${url.search ? `${url.search}&` : '?'}controls=1`;
    return url.toString();
  }

  // ---- resume: the last event's id, kept across reloads --------------------------------------
  //
  // OBS keeps a browser source's localStorage across reloads, so the page remembers the id of the
  // last event it received and reconnects with ?after=ID: ws-serve sends what came meanwhile.
  // One key per page URL (the token left out), so two sources with other filters each resume
  // from their own last event.

  const resumeKey = (() => {
    const q = new URLSearchParams(location.search);
    q.delete('token');
    return `twitch-servitor:last-id:${location.pathname}?${q.toString()}`;
  })();

  function lastId() {
    try {
      return localStorage.getItem(resumeKey) || '';
    } catch (e) {
      return '';
    }
  }

  function keepLastId(id) {
    try {
      localStorage.setItem(resumeKey, id);
    } catch (e) {
      // Storage full or off: the page still works, it only cannot resume after a reload.
    }
  }

  // The stream's URL for this attempt: with the last id when there is one.
  function resumeUrl() {
    const id = config.resume === false ? '' : lastId();
    if (id === '') return streamUrl;
    return `${streamUrl}${streamUrl.includes('?') ? '&' : '?'}after=${encodeURIComponent(id)}`;
  }

  // Control messages, which are not events (twitch-events(7), CONTROL MESSAGES). From ws-serve:
  // a catchup says how many of the events that follow are the catch-up after a resume, and
  // whether the last id was still retained; hello and refused concern this page's own messages.
  // From a desk: the commands, each for every overlay or for the one it names.
  function handleControl(msg) {
    const forMe = msg.overlay === undefined || msg.overlay === overlayId ||
        (overlayName !== '' && msg.overlay === overlayName);
    switch (msg.control) {
      case 'catchup':
        break;
      case 'refused':
        counts.refused++;
        note(`ws-serve refused ${msg.refused || 'a message'}: ${msg.reason}`);
        return;
      case 'replay':
        if (forMe) replay(msg);
        return;
      case 'test':
        if (forMe && isObject(msg.event)) handleEvent(msg.event);
        return;
      case 'skip':
        if (forMe && current !== null) {
          counts.skippedByDesk++;
          if ('speechSynthesis' in window) speechSynthesis.cancel();
          track(entryEvent(current), 'skipped by the desk');
          endAlert(num(config.pause, 1));
        }
        return;
      case 'pause':
      case 'resume':
        if (forMe) {
          paused = msg.control === 'pause';
          note(paused ? 'paused by the desk' : 'resumed by the desk');
          pump();
        }
        return;
      case 'mute':
        if (forMe) {
          muted = msg.muted === true;
          if (currentAudio !== null) currentAudio.muted = muted;
          if (muted && 'speechSynthesis' in window) speechSynthesis.cancel();
          note(muted ? 'muted by the desk' : 'unmuted by the desk');
          sendStatus();
        }
        return;
      default:
        return;  // hello, the status of other overlays, names of a later version
    }
    catchUp = Math.max(0, Number(msg.replayed) || 0);
    if (msg.found === false) {
      counts.resumeGaps++;
      const text = `resume: ${msg.after} is no longer retained by ws-serve: events before the ` +
          `${catchUp} it still had may be missing`;
      console.warn(`overlay: ${text}`);
      note(text);
    }
  }

  // A replay: the event the desk sent (or, by its id, one this page keeps), as a new alert.
  function replay(msg) {
    const ev = isObject(msg.event) ? msg.event : stored.get(String(msg.id));
    if (!isObject(ev) || typeof ev.type !== 'string') {
      note(`replay ${msg.id}: not an event this page has`);
      return;
    }
    counts.replayed++;
    enqueue(ev, true);
  }

  // Reports the queue to the desks: at most every STATUS_GAP ms, at least every STATUS_EVERY.
  let statusTimer = null;
  let statusSentAt = -Infinity;

  function sendStatus() {
    if (statusTimer !== null) return;
    const wait = Math.max(0, statusSentAt + STATUS_GAP - performance.now());
    statusTimer = setTimeout(() => {
      statusTimer = null;
      if (socket === null || socket.readyState !== WebSocket.OPEN) return;
      statusSentAt = performance.now();
      const ev = current === null ? null : entryEvent(current);
      const report = {
        v: 1,
        control: 'status',
        overlay: overlayId,
        queue: queue.length,
        paused,
        muted,
        shown: counts.shown,
        current: ev === null ? null : {id: str(ev.id), type: entryType(current), user: who(ev.user)},
      };
      if (overlayName !== '') report.name = overlayName;
      socket.send(JSON.stringify(report));
    }, wait);
  }

  setInterval(sendStatus, STATUS_EVERY);

  let catchUp = 0;  // events still to come of a resume's catch-up
  let attempts = 0;

  function setConnection(state) {
    connection = state;
    document.documentElement.dataset.connection = state;
    render();
  }

  function connect() {
    catchUp = 0;
    setConnection('connecting');
    let ws;
    try {
      ws = new WebSocket(resumeUrl());
    } catch (e) {
      note(`stream: ${e.message}`);
      setConnection('closed');
      return;
    }
    ws.addEventListener('open', () => {
      attempts = 0;
      socket = ws;
      setConnection('open');
      sendStatus();
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
          if (isObject(ev) && typeof ev.control === 'string') {
            handleControl(ev);
            continue;
          }
          const catchingUp = catchUp > 0;
          if (catchingUp) catchUp--;
          handleEvent(ev, catchingUp);
          if (isObject(ev) && typeof ev.id === 'string' && ev.id !== '') keepLastId(ev.id);
        } catch (e) {
          note(`event: ${e.message}`);
        }
      }
      render();
    });
    ws.addEventListener('close', (e) => {
      if (socket === ws) socket = null;
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

  // ---- ?debug=1 and the status ---------------------------------------------------------------

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

  function onScreen() {
    if (current === null) return null;
    return {
      type: entryType(current),
      id: str(entryEvent(current).id),
      left: Math.max(0, (currentEnds - performance.now()) / 1000),
    };
  }

  function status() {
    return {
      connection,
      stream: streamUrl.replace(/([?&]token=)[^&]*/, '$1…'),
      counts: Object.assign({}, counts),
      waiting: queue.length,
      paused,
      muted,
      overlay: overlayId,
      onScreen: onScreen(),
      config: configVersion,
      problems: tokenProblem ? [tokenProblem, ...problems] : problems.slice(),
      notes: notes.slice(),
    };
  }

  function render() {
    if (!debugOn || debugEl === null) return;
    const s = status();
    const c = Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    const screen = s.onScreen === null ? 'nothing on screen' :
                                         `on screen: ${s.onScreen.type} ${s.onScreen.id} ` +
            `(${s.onScreen.left.toFixed(1)} s left)`;
    debugEl.hidden = false;
    debugEl.textContent = [
      `stream ${s.connection} ${s.stream}`,
      `${c}, waiting ${s.waiting}`,
      screen,
      `types ${Array.isArray(config.types) ? config.types.join(',') : '(none)'}`,
      s.problems.length === 0 ? 'config: ok' : `config: ${s.problems.length} problem(s)`,
      ...s.problems.map((p) => `  ! ${p}`),
      ...notes,
      '-- last events --',
      ...recent,
    ].join('\n');
  }

  // A read-only view for the browser console, tests and anything that drives the page.
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
    status,
  };

  window.OverlayConfig.load(params, location).then((loaded) => {
    applyConfig(loaded);
    streamUrl = defaultStreamUrl();
    publishProblems();
    if (debugOn) {
      document.documentElement.classList.add('debug');
      setInterval(render, 250);  // the counters and time left move without events too
    }
    connect();
    watchConfig();
  });
})();
