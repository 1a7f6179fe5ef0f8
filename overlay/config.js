// config.js: the overlay's settings: the built-in fallbacks, the files and URL parameters merged
// over them, and the check that turns every mistake in them into a problem the page shows
// (?debug=1), logs (the console) and exposes (window.__overlay.status()).
//
// Contract (window.OverlayConfig):
// - load(params, location) resolves with {config, problems, texts, fileErrors}: DEFAULTS, then
//   config.json beside the page, then ?config=FILE (same origin only), then the URL parameters;
//   `texts` are the files' texts, for noticing a change; `problems` are strings, one per mistake;
//   `fileErrors` those of files that could not be fetched or parsed (also in `problems`).
// - check(config) repairs what it can (a comma-separated string for a list, a wrong value back
//   to its default) and returns the problems; it never throws.
// - PLACEHOLDERS, TYPES: what templates and `types` may name.
// Nothing here touches the DOM; files that do not load are checked by overlay.js, which has it.
(() => {
  'use strict';

  const TYPES = [
    'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain',
    'announcement', 'host', 'chat'
  ];

  const DEFAULTS = {
    duration: 5,            // seconds an alert is on screen, animations included
    pause: 1,               // seconds of nothing between two alerts
    giftHold: 2,            // seconds a gift bomb waits for its `giftbomb` event
    volume: 1,              // master volume, multiplies each type's volume; 0 mutes
    minBits: 1,             // cheers under this many bits are skipped
    minViewers: 1,          // raids (and hosts) with fewer viewers are skipped
    showGiftedSubs: false,  // `sub` events with "gifted": true (the gift is already an alert)
    anonymousName: 'Anonymous',
    reconnectMin: 0.5,   // seconds before the first reconnect attempt
    reconnectMax: 10,    // cap of the exponential backoff
    alertDelay: 0,       // seconds an event waits before it may be shown (the stream's delay)
    maxAge: 120,         // seconds: an older event (by its `at`) is counted as seen, not shown
    resume: true,        // reconnect with the last event's id: nothing missed while away
    configReload: 2,     // seconds between two looks at the configuration files; 0: never
    position: 'center',  // where the card sits: top|center|bottom and left|center|right
    imageHeight: 0.3,    // the share of the source's height an image may take
    language: 'en',      // plural rules of templates such as {months|# month|# months}
    emoteUrl: 'https://static-cdn.jtvnw.net/emoticons/v2/{id}/default/dark/3.0',
    cheermotes: 'hide',  // "hide": not shown; "badge": a bits badge in the message
    backlog: {after: 5, minDuration: 2, fold: true},
    tts: {enabled: false, types: {}, volume: 1, voice: '', rate: 1},
    types: [
      'follow', 'sub', 'resub', 'subgift', 'giftbomb', 'cheer', 'raid', 'redemption', 'hypetrain'
    ],
    alerts: {},
  };

  const NUMBER_KEYS = [
    'duration', 'pause', 'giftHold', 'volume', 'minBits', 'minViewers', 'reconnectMin',
    'reconnectMax', 'alertDelay', 'configReload', 'imageHeight', 'maxAge'
  ];
  const BOOLEAN_KEYS = ['showGiftedSubs', 'resume'];
  const STRING_KEYS = ['anonymousName', 'position', 'language', 'emoteUrl', 'cheermotes'];
  const NESTED = {
    backlog: {after: 'number', minDuration: 'number', fold: 'boolean'},
    tts: {enabled: 'boolean', types: 'object', volume: 'number', voice: 'string', rate: 'number'},
  };
  const GLOBAL_KEYS =
      [...NUMBER_KEYS, ...BOOLEAN_KEYS, ...STRING_KEYS, ...Object.keys(NESTED), 'types', 'alerts'];
  // Keys of a per-type alert; `duration` and `volume` fall back to the global ones.
  const ALERT_KEYS = [
    'text', 'message', 'image', 'sound', 'volume', 'duration', 'phases', 'foldText', 'foldMessage',
    'variations'
  ];
  // Keys of one variation: a condition (condition.js) and what it changes.
  const VARIATION_KEYS = ['condition', 'text', 'message', 'image', 'sound', 'volume', 'duration'];
  const TEMPLATE_KEYS = ['text', 'message', 'foldText', 'foldMessage'];
  const URL_ONLY = ['mute', 'debug', 'token', 'ws', 'config', 'name'];
  const PLACEHOLDERS = [
    'user', 'recipient', 'recipients', 'months', 'streak', 'bits', 'viewers', 'count', 'total',
    'tier', 'reward', 'cost', 'message', 'level', 'channel', 'target', 'users'
  ];
  const PHASES = ['begin', 'progress', 'end'];
  const VERTICAL = ['top', 'center', 'bottom'];
  const HORIZONTAL = ['left', 'center', 'right'];

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
    return String(s).split(',').map((t) => t.trim()).filter((t) => t !== '');
  }

  // A known name that differs from `name` only in case or by one typo, for "did you mean".
  function suggest(name, known) {
    const lower = String(name).toLowerCase();
    const near = known.find((k) => k.toLowerCase() === lower) ||
        known.find((k) => distance(k.toLowerCase(), lower) <= 1 && k.length > 2);
    return near ? ` (did you mean ${JSON.stringify(near)}?)` : '';
  }

  function distance(a, b) {
    if (Math.abs(a.length - b.length) > 1) return 2;
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    const tail = (x, y) => x.slice(i + 1) === y.slice(i + 1);
    if (a.slice(i) === b.slice(i)) return 0;
    const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    return tail(a, b) || swapped || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1) ?
        1 :
        2;
  }

  // The placeholders of a template: {name} and the plural form {name|one|other}.
  function placeholdersOf(template) {
    const out = [];
    const re = /\{([^{}|]*)(\|[^{}]*)?\}/g;
    let m;
    while ((m = re.exec(template)) !== null) out.push({name: m[1], forms: m[2], text: m[0]});
    return out;
  }

  // URL parameters: global keys (?duration=6&types=follow,sub), nested ones (?backlog.after=3),
  // per-type keys (?cheer.text=...&raid.duration=8). A global duration or volume in the URL wins
  // over the per-type values of the configuration files, because "?duration=3" means "every
  // alert 3 seconds"; a per-type key in the URL wins over both.
  function applyParams(cfg, params, problems) {
    for (const [key, value] of params) {
      if (key.includes('.')) continue;
      if (key === 'types') {
        cfg.types = parseList(value);
      } else if (NUMBER_KEYS.includes(key)) {
        const n = Number(value);
        if (value === '' || !Number.isFinite(n) || n < 0) {
          problems.push(`URL parameter ${key}=${value}: not a number of 0 or more, ignored`);
          continue;
        }
        cfg[key] = n;
        if (key === 'duration' || key === 'volume') {
          for (const a of Object.values(cfg.alerts)) {
            if (isObject(a)) delete a[key];
          }
        }
      } else if (BOOLEAN_KEYS.includes(key)) {
        cfg[key] = value === '1' || value === 'true';
      } else if (STRING_KEYS.includes(key)) {
        cfg[key] = value;
      } else if (key === 'mute') {
        if (value === '1' || value === 'true') cfg.volume = 0;
      } else if (!URL_ONLY.includes(key)) {
        problems.push(
            `URL parameter ${key}: unknown${suggest(key, [...GLOBAL_KEYS, ...URL_ONLY])}`);
      }
    }
    for (const [key, value] of params) {
      const dot = key.indexOf('.');
      if (dot <= 0) continue;
      const head = key.slice(0, dot);
      const sub = key.slice(dot + 1);
      if (Object.prototype.hasOwnProperty.call(NESTED, head)) {
        const kind = NESTED[head][sub];
        if (kind === 'number' || kind === 'boolean' || kind === 'string') {
          cfg[head][sub] = kind === 'number' ? Number(value) :
              kind === 'boolean'             ? value === '1' || value === 'true' :
                                               value;
        } else if (head === 'tts' && sub === 'types') {
          cfg.tts.types = {};
          for (const t of parseList(value)) {
            const [name, min] = t.split(':');
            cfg.tts.types[name] = min === undefined ? 0 : Number(min);
          }
        } else {
          problems.push(`URL parameter ${key}: unknown${suggest(sub, Object.keys(NESTED[head]))}`);
        }
        continue;
      }
      if (!ALERT_KEYS.includes(sub) || !/^[a-z]+$/.test(head)) {
        problems.push(`URL parameter ${key}: unknown`);
        continue;
      }
      if (!isObject(cfg.alerts[head])) cfg.alerts[head] = {};
      const a = cfg.alerts[head];
      if (sub === 'duration' || sub === 'volume') {
        const n = Number(value);
        if (value !== '' && Number.isFinite(n) && n >= 0) {
          a[sub] = n;
        } else {
          problems.push(`URL parameter ${key}=${value}: not a number of 0 or more, ignored`);
        }
      } else if (sub === 'phases') {
        a[sub] = parseList(value);
      } else {
        a[sub] = value;
      }
    }
    return cfg;
  }

  // Checks `cfg` in place: wrong values are repaired or put back to their defaults, and every
  // mistake is described in the array returned.
  function check(cfg) {
    const problems = [];
    for (const k of Object.keys(cfg)) {
      if (!GLOBAL_KEYS.includes(k))
        problems.push(`unknown key ${JSON.stringify(k)}${suggest(k, GLOBAL_KEYS)}`);
    }
    if (typeof cfg.types === 'string') {
      const list = parseList(cfg.types);
      problems.push(`"types" is a string, not a list: read as ${JSON.stringify(list)}`);
      cfg.types = list;
    } else if (!Array.isArray(cfg.types)) {
      problems.push('"types" is not a list of types: the default types are shown');
      cfg.types = DEFAULTS.types.slice();
    }
    cfg.types = cfg.types.filter((t) => {
      if (typeof t === 'string' && TYPES.includes(t)) return true;
      problems.push(`"types": unknown type ${JSON.stringify(t)}${suggest(t, TYPES)}`);
      return false;
    });
    for (const k of NUMBER_KEYS) {
      if (typeof cfg[k] !== 'number' || !Number.isFinite(cfg[k]) || cfg[k] < 0) {
        problems.push(`"${k}": ${JSON.stringify(cfg[k])} is not a number of 0 or more: ${
            DEFAULTS[k]} is used`);
        cfg[k] = DEFAULTS[k];
      }
    }
    if (cfg.imageHeight > 1) {
      problems.push(
          `"imageHeight": ${cfg.imageHeight} is more than 1 (the whole height): 1 is used`);
      cfg.imageHeight = 1;
    }
    for (const k of BOOLEAN_KEYS) {
      if (typeof cfg[k] !== 'boolean') {
        problems.push(
            `"${k}": ${JSON.stringify(cfg[k])} is not true or false: ${DEFAULTS[k]} is used`);
        cfg[k] = DEFAULTS[k];
      }
    }
    for (const k of STRING_KEYS) {
      if (typeof cfg[k] !== 'string') {
        problems.push(`"${k}": ${JSON.stringify(cfg[k])} is not a string: ${
            JSON.stringify(DEFAULTS[k])} is used`);
        cfg[k] = DEFAULTS[k];
      }
    }
    const words = cfg.position.trim().split(/[\s-]+/);
    if (words.length > 2 || !words.every((w) => VERTICAL.includes(w) || HORIZONTAL.includes(w))) {
      problems.push(`"position": ${
          JSON.stringify(cfg.position)}: use top, center or bottom and left, center or right`);
      cfg.position = DEFAULTS.position;
    }
    if (!['hide', 'badge'].includes(cfg.cheermotes)) {
      problems.push(`"cheermotes": ${JSON.stringify(cfg.cheermotes)}: use "hide" or "badge"`);
      cfg.cheermotes = DEFAULTS.cheermotes;
    }
    try {
      new Intl.PluralRules(cfg.language);
    } catch (e) {
      problems.push(`"language": ${JSON.stringify(cfg.language)}: ${e.message}: "en" is used`);
      cfg.language = 'en';
    }
    if (!cfg.emoteUrl.includes('{id}')) {
      problems.push(`"emoteUrl": ${JSON.stringify(cfg.emoteUrl)} has no {id}`);
    }
    for (const [name, keys] of Object.entries(NESTED)) {
      if (!isObject(cfg[name])) {
        problems.push(`"${name}" is not an object: the defaults are used`);
        cfg[name] = merge({}, DEFAULTS[name]);
      }
      for (const [k, v] of Object.entries(cfg[name])) {
        const kind = keys[k];
        if (kind === undefined) {
          problems.push(
              `"${name}": unknown key ${JSON.stringify(k)}${suggest(k, Object.keys(keys))}`);
        } else if (
            kind === 'object' ? !isObject(v) :
                                typeof v !== kind || (kind === 'number' && !(v >= 0))) {
          problems.push(`"${name}.${k}": ${JSON.stringify(v)} is not ${
              kind === 'object' ? 'an object' : `a ${kind}`}: the default is used`);
          cfg[name][k] = merge({}, {v: DEFAULTS[name][k]}).v;
        }
      }
    }
    for (const [t, min] of Object.entries(cfg.tts.types)) {
      if (!TYPES.includes(t))
        problems.push(`"tts.types": unknown type ${JSON.stringify(t)}${suggest(t, TYPES)}`);
      if (typeof min !== 'number' || !(min >= 0)) {
        problems.push(
            `"tts.types.${t}": ${JSON.stringify(min)} is not a minimum amount: 0 is used`);
        cfg.tts.types[t] = 0;
      }
    }
    if (!isObject(cfg.alerts)) {
      problems.push('"alerts" is not an object: built-in texts are used');
      cfg.alerts = {};
    }
    for (const [type, a] of Object.entries(cfg.alerts)) {
      const where = `alerts.${type}`;
      if (!TYPES.includes(type)) problems.push(`"${where}": unknown type${suggest(type, TYPES)}`);
      if (!isObject(a)) {
        problems.push(`"${where}" is not an object`);
        cfg.alerts[type] = {};
        continue;
      }
      for (const [k, v] of Object.entries(a)) {
        if (!ALERT_KEYS.includes(k)) {
          problems.push(`"${where}": unknown key ${JSON.stringify(k)}${suggest(k, ALERT_KEYS)}`);
        } else if ((k === 'duration' || k === 'volume') && !(typeof v === 'number' && v >= 0)) {
          problems.push(`"${where}.${k}": ${JSON.stringify(v)} is not a number of 0 or more`);
          delete a[k];
        } else if (k === 'variations') {
          a[k] = checkVariations(`${where}.variations`, v, problems);
        } else if (k === 'phases') {
          if (!Array.isArray(v)) {
            problems.push(`"${where}.phases" is not a list`);
            delete a[k];
          } else {
            for (const p of v) {
              if (!PHASES.includes(p))
                problems.push(`"${where}.phases": unknown phase ${JSON.stringify(p)}`);
            }
          }
        } else if (k !== 'duration' && k !== 'volume' && typeof v !== 'string') {
          problems.push(`"${where}.${k}": ${JSON.stringify(v)} is not a string`);
          delete a[k];
        } else if (TEMPLATE_KEYS.includes(k)) {
          for (const p of placeholdersOf(v)) {
            if (!PLACEHOLDERS.includes(p.name)) {
              problems.push(
                  `"${where}.${k}": unknown placeholder ${p.text}${suggest(p.name, PLACEHOLDERS)}`);
            }
          }
        }
      }
    }
    return problems;
  }

  // The variations of one type: a list of objects, each with a condition that parses and keys of
  // VARIATION_KEYS. A broken variation is left out (with a problem), so it never matches.
  function checkVariations(where, list, problems) {
    if (!Array.isArray(list)) {
      problems.push(`"${where}" is not a list`);
      return [];
    }
    const kept = [];
    list.forEach((v, i) => {
      const at = `${where}[${i}]`;
      if (!isObject(v)) {
        problems.push(`"${at}" is not an object: left out`);
        return;
      }
      const parsed = window.OverlayCondition.parse(v.condition);
      if (!parsed.ok) {
        problems.push(`"${at}.condition": ${JSON.stringify(v.condition)}: ${parsed.error}: left out`);
        return;
      }
      for (const [k, x] of Object.entries(v)) {
        if (!VARIATION_KEYS.includes(k)) {
          problems.push(`"${at}": unknown key ${JSON.stringify(k)}${suggest(k, VARIATION_KEYS)}`);
          delete v[k];
        } else if ((k === 'duration' || k === 'volume') && !(typeof x === 'number' && x >= 0)) {
          problems.push(`"${at}.${k}": ${JSON.stringify(x)} is not a number of 0 or more`);
          delete v[k];
        } else if (k !== 'duration' && k !== 'volume' && typeof x !== 'string') {
          problems.push(`"${at}.${k}": ${JSON.stringify(x)} is not a string`);
          delete v[k];
        } else if (k === 'text' || k === 'message') {
          for (const p of placeholdersOf(x)) {
            if (!PLACEHOLDERS.includes(p.name)) {
              problems.push(
                  `"${at}.${k}": unknown placeholder ${p.text}${suggest(p.name, PLACEHOLDERS)}`);
            }
          }
        }
      }
      kept.push(v);
    });
    return kept;
  }

  // Fetches a JSON file; resolves with {text, json} or {error}.
  async function fetchJson(url) {
    try {
      const res = await fetch(url, {cache: 'no-store'});
      if (!res.ok) return {error: `HTTP ${res.status}`};
      const text = await res.text();
      try {
        return {text, json: JSON.parse(text)};
      } catch (e) {
        return {text, error: `not JSON: ${e.message}`};
      }
    } catch (e) {
      return {error: e.message};
    }
  }

  // The URL of ?config=FILE when it is on the page's own origin, or a problem: a configuration
  // from anywhere else could change what the stream shows and make the page fetch from there.
  function extraUrl(value, location) {
    let url;
    try {
      url = new URL(value, location.href);
    } catch (e) {
      return {problem: `?config=${value}: not a URL`};
    }
    if (url.origin !== location.origin || url.origin === 'null') {
      return {problem: `?config=${value}: refused: not on this page's origin (${location.origin})`};
    }
    return {url: url.href};
  }

  async function load(params, location) {
    const problems = [];
    const texts = [];
    const cfg = merge({}, DEFAULTS);
    const files = [{name: 'config.json', url: new URL('config.json', location.href).href}];
    const extra = params.get('config');
    if (extra) {
      const r = extraUrl(extra, location);
      if (r.problem) {
        problems.push(r.problem);
      } else {
        files.push({name: extra, url: r.url});
      }
    }
    const fileErrors = [];
    for (const f of files) {
      const r = await fetchJson(f.url);
      texts.push(r.text === undefined ? `error: ${r.error}` : r.text);
      if (r.error) {
        fileErrors.push(`${f.name}: ${r.error}`);
      } else if (!isObject(r.json)) {
        fileErrors.push(`${f.name}: not a JSON object`);
      } else {
        merge(cfg, r.json);
      }
    }
    const fileProblems = check(cfg);
    applyParams(cfg, params, problems);
    // The URL's values are checked too; problems the files already had are not repeated.
    const all = [...fileErrors, ...problems, ...fileProblems];
    for (const p of check(cfg)) {
      if (!all.includes(p)) all.push(p);
    }
    return {config: cfg, problems: all, texts, files, fileErrors};
  }

  window.OverlayConfig =
      {DEFAULTS, TYPES, PLACEHOLDERS, isObject, merge, check, load, fetchJson, placeholdersOf};
})();
