// desk.js: the alert desk that ws-serve serves at /desk/, for an OBS custom dock, a browser tab
// or a phone on the LAN. No framework and no build step.
//
// It connects to the ws-serve stream of its own origin, as the overlay does (?token= passed on to
// the page's own host only), and joins the control channel: with ?control=TOKEN it may send
// commands, without it (or with a wrong one, which ws-serve's hello says) it is read-only and
// says so. What it shows and does:
// - The activity feed: every event as it arrives, and ws-serve's --history on load, newest first,
//   each with its icon, user, amount or months, message and time, and a Replay button. A gift
//   bomb is one entry, as the overlay folds it: its giftbomb and the subgifts of the same group.
//   A gap event says that events may be missing between two times. Events are de-duplicated by
//   id, as the overlay does.
// - The overlays, from their status reports: queue length, the alert showing, paused, muted; and
//   Skip, Pause/Resume, Mute/Unmute for each, and for all at once. An overlay not heard from for
//   STALE_AFTER ms is dropped from the list.
// - Test buttons: a sample event of each type, like twitch-trigger's, sent as a `test` control
//   message (overlays show it; the stream of events is not touched) and put in the feed.
// - Filters (type, minimum amount, user) and a count per type for the session.
// Everything from the stream goes into the DOM as text (textContent), never as HTML.
(() => {
  'use strict';

  const TYPES = [
    'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain',
    'announcement', 'host', 'chat'
  ];
  // The types the overlay shows by default (config.json's "types").
  const TEST_TYPES = [
    'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain'
  ];
  const ICONS = {
    follow: 'heart', sub: 'star', resub: 'resub', subgift: 'gift', giftbomb: 'giftbomb',
    cheer: 'gem', raid: 'raid', host: 'raid', redemption: 'reward', hypetrain: 'hypetrain'
  };
  const MAX_FEED = 500;
  const MAX_SEEN = 5000;
  const STALE_AFTER = 15000;

  const params = new URLSearchParams(location.search);
  const controlToken = params.get('control') || '';

  const feed = [];            // entries, oldest first: {key, ev, gifts, at, test}
  const byGroup = new Map();  // gift bomb group -> entry
  const seen = new Set();
  const seenOrder = [];
  const counts = {};
  const overlays = new Map();  // overlay id -> {status, heard}
  let socket = null;
  let allowed = false;  // ws-serve's hello said commands are allowed
  let attempts = 0;
  let keys = 0;
  let refusals = 0;

  const $ = (id) => document.getElementById(id);

  // ---- text ----------------------------------------------------------------------------------

  function who(u) {
    return u && (u.name || u.login) ? String(u.name || u.login) : '';
  }

  function tierLabel(t) {
    return {prime: 'Prime', 1000: 'Tier 1', 2000: 'Tier 2', 3000: 'Tier 3'}[String(t)] ||
        (t === undefined ? '' : String(t));
  }

  function plural(n, one, many) {
    return `${n} ${Number(n) === 1 ? one : many}`;
  }

  function clock(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'});
  }

  function hourMinute(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
  }

  // The amount an entry is filtered by and shown with.
  function amountOf(entry) {
    const ev = entry.ev;
    switch (ev.type) {
      case 'cheer':
        return Number(ev.bits) || 0;
      case 'sub':
      case 'resub':
        return Number(ev.months) || 0;
      case 'giftbomb':
      case 'subgift':
        return Math.max(Number(ev.count) || 0, entry.gifts.length, ev.type === 'subgift' ? 1 : 0);
      case 'raid':
      case 'host':
        return Number(ev.viewers) || 0;
      case 'redemption':
        return Number(ev.reward && ev.reward.cost) || 0;
      case 'hypetrain':
        return Number(ev.level) || 0;
      default:
        return 0;
    }
  }

  function amountText(entry) {
    const ev = entry.ev;
    const n = amountOf(entry);
    switch (ev.type) {
      case 'cheer':
        return plural(n, 'bit', 'bits');
      case 'sub':
      case 'resub':
        return [tierLabel(ev.tier), ev.months ? plural(ev.months, 'month', 'months') : '']
            .filter((x) => x).join(', ');
      case 'giftbomb':
      case 'subgift':
        return `${plural(n, 'gift', 'gifts')}${ev.tier ? `, ${tierLabel(ev.tier)}` : ''}`;
      case 'raid':
      case 'host':
        return plural(n, 'viewer', 'viewers');
      case 'redemption':
        return ev.reward ? `${ev.reward.title || 'reward'} (${ev.reward.cost || 0})` : '';
      case 'hypetrain':
        return `level ${ev.level || '?'}, ${ev.phase || ''}`;
      default:
        return '';
    }
  }

  function messageText(entry) {
    const ev = entry.ev;
    if (ev.type === 'giftbomb' || (entry.gifts.length > 0 && entry.group)) {
      const names = entry.gifts.map((g) => who(g.recipient)).filter((x) => x);
      return names.length ? `to ${names.slice(0, 10).join(', ')}${
          names.length > 10 ? ` and ${names.length - 10} more` : ''}` : '';
    }
    if (ev.type === 'subgift') return who(ev.recipient) ? `to ${who(ev.recipient)}` : '';
    if (ev.type === 'notice') return String(ev.kind || '');
    return typeof ev.message === 'string' ? ev.message : '';
  }

  // ---- the feed ------------------------------------------------------------------------------

  function remember(id) {
    seen.add(id);
    seenOrder.push(id);
    if (seenOrder.length > MAX_SEEN) seen.delete(seenOrder.shift());
  }

  // Adds an event (or folds it into its gift bomb); `test`: sent by a test button.
  function addEvent(ev, test = false) {
    if (ev === null || typeof ev !== 'object' || typeof ev.type !== 'string') return;
    const id = typeof ev.id === 'string' ? ev.id : '';
    if (id !== '' && seen.has(id)) return;
    if (id !== '') remember(id);
    counts[ev.type] = (counts[ev.type] || 0) + 1;
    const group = (ev.type === 'giftbomb' || ev.type === 'subgift') && ev.group ?
        String(ev.group) : '';
    if (group !== '' && byGroup.has(group)) {
      const entry = byGroup.get(group);
      if (ev.type === 'giftbomb') {
        entry.gifts = entry.gifts.concat(entry.ev.type === 'subgift' ? [entry.ev] : []);
        entry.ev = ev;
      } else {
        entry.gifts.push(ev);
      }
      render();
      return;
    }
    const entry = {key: ++keys, ev, gifts: [], group, test};
    if (group !== '') {
      byGroup.set(group, entry);
      if (byGroup.size > MAX_FEED) byGroup.delete(byGroup.keys().next().value);
    }
    feed.push(entry);
    if (feed.length > MAX_FEED) feed.shift();
    render();
  }

  function matches(entry) {
    const type = $('filter-type').value;
    const min = Number($('filter-min').value) || 0;
    const user = $('filter-user').value.trim().toLowerCase();
    const t = entry.ev.type;
    if (type !== '' && t !== type && !(type === 'giftbomb' && entry.group && t === 'subgift')) {
      return false;
    }
    if (min > 0 && amountOf(entry) < min) return false;
    if (user !== '') {
      const names = [entry.ev.user, entry.ev.recipient, ...entry.gifts.map((g) => g.recipient)]
          .filter((u) => u).flatMap((u) => [u.name, u.login]).filter((x) => x)
          .map((x) => String(x).toLowerCase());
      if (!names.some((n) => n.includes(user))) return false;
    }
    return true;
  }

  function icon(type) {
    const img = document.createElement('img');
    img.className = 'icon';
    img.alt = '';
    img.src = `../img/${ICONS[type] || 'star'}.svg`;
    img.addEventListener('error', () => img.remove());
    return img;
  }

  function span(cls, text) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function feedItem(entry) {
    const ev = entry.ev;
    const li = document.createElement('li');
    li.className = `item item--${String(ev.type).replace(/[^a-z0-9_-]/gi, '')}`;
    li.dataset.id = String(ev.id || '');
    li.dataset.type = ev.type;
    if (ev.type === 'gap') {
      li.classList.add('item--gap');
      li.append(span('gap', `events may be missing between ${hourMinute(ev.from)} and ${
          hourMinute(ev.to)}`));
      return li;
    }
    const shownType = entry.group && ev.type === 'subgift' && entry.gifts.length > 0 ?
        'giftbomb' : ev.type;
    li.append(icon(shownType));
    const body = document.createElement('div');
    body.className = 'body';
    const head = document.createElement('p');
    head.className = 'head';
    head.append(span('user', who(ev.user) || (ev.anonymous ? 'Anonymous' : '—')));
    head.append(span('type', shownType + (entry.test ? ' (test)' : '')));
    const amount = amountText(entry);
    if (amount !== '') head.append(span('amount', amount));
    body.append(head);
    const message = messageText(entry);
    if (message !== '') {
      const p = document.createElement('p');
      p.className = 'message';
      p.textContent = message;
      body.append(p);
    }
    li.append(body);
    const time = document.createElement('time');
    time.dateTime = String(ev.at || '');
    time.textContent = clock(ev.at);
    li.append(time);
    const replay = document.createElement('button');
    replay.type = 'button';
    replay.className = 'replay';
    replay.textContent = 'Replay';
    replay.setAttribute('aria-label', `Replay ${shownType} from ${who(ev.user) || 'anonymous'}`);
    replay.disabled = !allowed;
    replay.dataset.focusKey = `replay ${entry.key}`;
    replay.addEventListener('click', () => {
      send({v: 1, control: 'replay', id: String(ev.id), event: ev}, `replay of ${shownType}`);
    });
    li.append(replay);
    return li;
  }

  let renderQueued = false;

  function render() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      renderNow();
    });
  }

  // Replaces the children of `list` with `items`, keeping the keyboard focus on the button with
  // the same data-focus-key, so that a keyboard user is not thrown out by an event arriving.
  function replaceKeepingFocus(list, items) {
    const active = document.activeElement;
    const key = active && list.contains(active) ? active.dataset.focusKey : undefined;
    list.replaceChildren(...items);
    if (key === undefined) return;
    for (const el of list.querySelectorAll('[data-focus-key]')) {
      if (el.dataset.focusKey === key) {
        el.focus();
        return;
      }
    }
  }

  function renderNow() {
    const list = $('feed');
    const items = [];
    for (let i = feed.length - 1; i >= 0; i--) {
      if (matches(feed[i])) items.push(feedItem(feed[i]));
    }
    replaceKeepingFocus(list, items);
    $('empty').hidden = items.length > 0;
    $('empty').textContent = feed.length === 0 ? 'No events yet.' : 'No event matches the filters.';
    $('counts').textContent = Object.keys(counts).length === 0 ? '' :
        TYPES.concat(Object.keys(counts).filter((t) => !TYPES.includes(t)))
            .filter((t) => counts[t]).map((t) => `${t} ${counts[t]}`).join(' · ');
    renderOverlays();
  }

  // ---- overlays ------------------------------------------------------------------------------

  function button(text, label, onClick, key = label || text) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.dataset.focusKey = key;
    if (label) b.setAttribute('aria-label', label);
    b.disabled = !allowed;
    b.addEventListener('click', onClick);
    return b;
  }

  function controls(target, status, label) {
    const box = document.createElement('div');
    box.className = 'buttons';
    const to = target === null ? {} : {overlay: target};
    const k = (what) => `${target === null ? '*' : target} ${what}`;
    box.append(button('Skip', `Skip the alert on ${label}`,
                      () => send({v: 1, control: 'skip', ...to}, `skip on ${label}`), k('skip')));
    const paused = status && status.paused;
    box.append(button(paused ? 'Resume' : 'Pause', `${paused ? 'Resume' : 'Pause'} ${label}`,
                      () => send({v: 1, control: paused ? 'resume' : 'pause', ...to},
                                 `${paused ? 'resume' : 'pause'} on ${label}`),
                      k('pause')));
    if (target === null) {
      box.append(button('Resume', `Resume ${label}`,
                        () => send({v: 1, control: 'resume'}, `resume on ${label}`)));
    }
    const muted = status && status.muted;
    box.append(button(muted ? 'Unmute' : 'Mute', `${muted ? 'Unmute' : 'Mute'} ${label}`,
                      () => send({v: 1, control: 'mute', muted: !muted, ...to},
                                 `${muted ? 'unmute' : 'mute'} on ${label}`),
                      k('mute')));
    if (target === null) {
      box.append(button('Unmute', `Unmute ${label}`,
                        () => send({v: 1, control: 'mute', muted: false}, `unmute on ${label}`)));
    }
    return box;
  }

  function renderOverlays() {
    const now = Date.now();
    for (const [id, o] of overlays) {
      if (now - o.heard > STALE_AFTER) overlays.delete(id);
    }
    const list = $('overlays');
    const items = [];
    const all = document.createElement('li');
    all.className = 'overlay overlay--all';
    all.append(span('name', 'All overlays'));
    all.append(controls(null, null, 'all overlays'));
    items.push(all);
    for (const [id, o] of overlays) {
      const s = o.status;
      const li = document.createElement('li');
      li.className = 'overlay';
      li.dataset.overlay = id;
      const label = s.name || id;
      li.append(span('name', label));
      const state = [`queue ${Number(s.queue) || 0}`];
      if (s.paused) state.push('paused');
      if (s.muted) state.push('muted');
      const st = span('state', state.join(' · '));
      st.dataset.queue = String(Number(s.queue) || 0);
      li.append(st);
      const cur = s.current;
      li.append(span('current', cur ? `now: ${cur.type}${cur.user ? ` from ${cur.user}` : ''}` :
                                      'nothing on screen'));
      li.append(controls(id, s, label));
      items.push(li);
    }
    replaceKeepingFocus(list, items);
    $('no-overlays').hidden = overlays.size > 0;
  }

  // ---- test events ---------------------------------------------------------------------------

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();  // secure contexts only
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // A sample event of `type`, with the values twitch-trigger uses by default.
  function sample(type) {
    const user = (name, id) => ({id, login: name.toLowerCase(), name});
    const ev = {
      v: 1,
      type,
      id: uuid(),
      source: 'trigger',
      at: new Date().toISOString(),
      channel: user('TestChannel', '1'),
      user: user('TestUser', '12345'),
    };
    const extra = {
      sub: {tier: '1000', months: 1, gifted: false, message: 'Hello from the desk!'},
      resub: {tier: '1000', months: 12, streak: 12, gifted: false, message: 'A year already!'},
      subgift: {tier: '1000', recipient: user('LuckyViewer', '23456')},
      giftbomb: {tier: '1000', count: 5, group: uuid()},
      cheer: {bits: 100, message: 'Cheer100 great stream!'},
      raid: {viewers: 42},
      redemption: {reward: {id: uuid(), title: 'Hydrate!', cost: 300}, message: ''},
      hypetrain: {phase: 'begin', level: 1, total: 100, goal: 500},
      announcement: {message: 'This is a test announcement.'},
    }[type] || {};
    return Object.assign(ev, extra);
  }

  function renderTests() {
    const box = $('tests');
    box.replaceChildren(...TEST_TYPES.map((type) => {
      const b = button(type, `Send a test ${type}`, () => {
        const ev = sample(type);
        if (send({v: 1, control: 'test', event: ev}, `test ${type}`)) addEvent(ev, true);
      });
      b.dataset.test = type;
      return b;
    }));
  }

  // ---- the connection ------------------------------------------------------------------------

  function say(text) {
    $('notice').textContent = text;
  }

  function send(msg, what) {
    if (!allowed || socket === null || socket.readyState !== WebSocket.OPEN) {
      say(`${what}: not sent (${allowed ? 'not connected' : 'read-only'})`);
      return false;
    }
    socket.send(JSON.stringify(msg));
    say(`${what}: sent`);
    return true;
  }

  function setAllowed(yes, reason) {
    allowed = yes;
    const ro = $('readonly');
    ro.hidden = yes;
    ro.textContent = yes ? '' :
        `Read-only: ${reason || 'no control token'}. Replay, skip, pause, mute and the test ` +
            'buttons need the control token, which the desk URL that servitor prints carries.';
    document.documentElement.dataset.control = yes ? 'allowed' : 'read-only';
    renderTests();
    render();
  }

  function setConnection(state) {
    document.documentElement.dataset.connection = state;
    $('connection').textContent = state;
  }

  function streamUrl() {
    const url = new URL('/', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = [];
    const token = params.get('token');
    if (token) q.push(`token=${encodeURIComponent(token)}`);
    q.push(controlToken ? `control=${encodeURIComponent(controlToken)}` : 'controls=1');
    url.search = `?${q.join('&')}`;
    return url.toString();
  }

  function onControl(msg) {
    switch (msg.control) {
      case 'hello':
        setAllowed(msg.allowed === true, msg.reason ? String(msg.reason).replace(/^read-only: /, '') : '');
        break;
      case 'refused':
        refusals++;
        document.documentElement.dataset.refusals = String(refusals);
        say(`ws-serve refused ${msg.refused || 'a message'}: ${msg.reason}`);
        break;
      case 'status':
        if (typeof msg.overlay === 'string') {
          overlays.set(msg.overlay, {status: msg, heard: Date.now()});
          renderOverlays();
        }
        break;
      case 'test':
        addEvent(msg.event, true);  // from another desk
        break;
      default:
        break;  // catchup, and the commands of other desks
    }
  }

  function connect() {
    setConnection('connecting');
    let ws;
    try {
      ws = new WebSocket(streamUrl());
    } catch (e) {
      setConnection('closed');
      say(`stream: ${e.message}`);
      return;
    }
    ws.addEventListener('open', () => {
      attempts = 0;
      socket = ws;
      setConnection('open');
      if (!controlToken) setAllowed(false, 'no control token in the URL');
    });
    ws.addEventListener('message', (m) => {
      if (typeof m.data !== 'string') return;
      for (const line of m.data.split('\n')) {
        if (line.trim() === '') continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch (e) {
          continue;
        }
        if (msg === null || typeof msg !== 'object') continue;
        if (typeof msg.control === 'string') {
          onControl(msg);
        } else {
          addEvent(msg);
        }
      }
    });
    ws.addEventListener('close', () => {
      if (socket === ws) socket = null;
      setConnection('closed');
      const delay = Math.min(10, 0.5 * 2 ** Math.min(attempts++, 8)) * 1000 *
          (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    });
  }

  // ---- start ---------------------------------------------------------------------------------

  const select = $('filter-type');
  for (const t of TYPES.concat(['gap', 'notice'])) {
    const o = document.createElement('option');
    o.value = t;
    o.textContent = t;
    select.append(o);
  }
  for (const id of ['filter-type', 'filter-min', 'filter-user']) {
    $(id).addEventListener('input', render);
  }
  setInterval(renderOverlays, 5000);
  setAllowed(false, controlToken ? 'waiting for ws-serve' : 'no control token in the URL');
  connect();

  // For tests and the browser console.
  window.__desk = {
    get allowed() {
      return allowed;
    },
    get overlays() {
      return [...overlays.values()].map((o) => o.status);
    },
    get feed() {
      return feed.map((e) => ({id: e.ev.id, type: e.ev.type, gifts: e.gifts.length, test: e.test}));
    },
    counts,
    send: (msg) => {
      if (socket !== null) socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
    },
  };
})();
