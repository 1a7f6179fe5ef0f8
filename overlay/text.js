// text.js: the words of an alert: templates with placeholders and plural forms, and a viewer's
// message with its emotes and cheermotes (the event's `fragments`, man/twitch-events.7).
//
// Contract (window.OverlayText):
// - fill(el, template, values, language) appends the template to `el`: {name} becomes the value,
//   {name|one form|other form} the form that the language's plural rules pick for the value, with
//   `#` standing for the value itself (named forms: {name|one:# bit|few:# bity|other:# bitů}).
//   Returns whether anything visible was added. Unknown placeholders stay as written.
// - A value is {text, viewer, nodes}: `viewer` marks text a viewer wrote (dir="auto", so a right-
//   to-left name or message is laid out as such); `nodes()` gives the DOM of a rich value (a
//   message with emote images) instead of its text.
// - messageValue(ev, options) is the {message} value of an event; spokenText(ev) the part of its
//   message worth reading aloud (no cheermotes, no emotes).
// Everything goes into the DOM as text nodes and elements made here, never as HTML.
(() => {
  'use strict';

  const RE = /\{([a-z]+)(\|[^{}]*)?\}/g;

  function pluralForm(forms, n, language) {
    const list = forms.split('|');
    const named = {};
    let positional = [];
    for (const f of list) {
      const m = /^(zero|one|two|few|many|other):(.*)$/s.exec(f);
      if (m) {
        named[m[1]] = m[2];
      } else {
        positional.push(f);
      }
    }
    let category = 'other';
    try {
      category = new Intl.PluralRules(language).select(n);
    } catch (e) {
      category = n === 1 ? 'one' : 'other';
    }
    if (Object.prototype.hasOwnProperty.call(named, category)) return named[category];
    if (positional.length === 0) positional = [named.other || ''];
    return category === 'one' ? positional[0] : positional[positional.length - 1];
  }

  function valueSpan(name, value) {
    const span = document.createElement('span');
    span.className = `v v-${name}`;
    if (value.viewer) span.dir = 'auto';
    if (value.nodes) {
      span.append(...value.nodes());
    } else {
      span.textContent = value.text;
    }
    return span;
  }

  function fill(el, template, values, language) {
    let last = 0;
    let m;
    RE.lastIndex = 0;
    while ((m = RE.exec(template)) !== null) {
      if (m.index > last) el.append(document.createTextNode(template.slice(last, m.index)));
      last = RE.lastIndex;
      const name = m[1];
      if (!Object.prototype.hasOwnProperty.call(values, name)) {
        el.append(document.createTextNode(m[0]));
        continue;
      }
      const value = values[name];
      if (m[2] === undefined) {
        el.append(valueSpan(name, value));
        continue;
      }
      // A plural form: nothing when the event lacks the number.
      const n = Number(value.text);
      if (value.text === '' || !Number.isFinite(n)) continue;
      const form = pluralForm(m[2].slice(1), n, language);
      const parts = form.split('#');
      parts.forEach((p, i) => {
        if (i > 0) el.append(valueSpan(name, value));
        if (p !== '') el.append(document.createTextNode(p));
      });
    }
    if (last < template.length) el.append(document.createTextNode(template.slice(last)));
    return el.textContent.trim() !== '' || el.querySelector('img') !== null;
  }

  // The event's fragments when they are usable: an array of parts whose texts give `message`.
  function fragmentsOf(ev) {
    const f = ev.fragments;
    if (!Array.isArray(f) || typeof ev.message !== 'string') return null;
    if (!f.every((p) => p !== null && typeof p === 'object' && typeof p.text === 'string')) {
      return null;
    }
    return f.map((p) => p.text).join('') === ev.message ? f : null;
  }

  // The parts of a message as they are shown: hidden cheermotes taken out along with the space
  // they leave, so "Cheer100 great stream" reads "great stream".
  function shownParts(ev, cheermotes) {
    const f = fragmentsOf(ev);
    if (f === null) return [{type: 'text', text: String(ev.message)}];
    const out = [];
    for (const p of f) {
      if (p.type === 'cheermote' && cheermotes !== 'badge') continue;
      const prev = out[out.length - 1];
      if (p.type !== 'text' && p.type !== 'emote' && p.type !== 'cheermote' &&
          p.type !== 'mention') {
        out.push({type: 'text', text: p.text});
      } else if (p.type === 'text' && prev && prev.type === 'text') {
        prev.text += p.text;
      } else {
        out.push(Object.assign({}, p));
      }
    }
    // Spaces left at the ends or doubled where a cheermote was taken out.
    for (const p of out) {
      if (p.type === 'text') p.text = p.text.replace(/\s{2,}/g, ' ');
    }
    if (out.length > 0 && out[0].type === 'text') out[0].text = out[0].text.replace(/^\s+/, '');
    const end = out[out.length - 1];
    if (end && end.type === 'text') end.text = end.text.replace(/\s+$/, '');
    return out.filter((p) => p.type !== 'text' || p.text !== '');
  }

  function emoteUrl(template, id) {
    return template.replace(/\{id\}/g, encodeURIComponent(id));
  }

  function messageValue(ev, options) {
    const text = typeof ev.message === 'string'         ? ev.message :
        ev.message === undefined || ev.message === null ? '' :
                                                          String(ev.message);
    if (fragmentsOf(ev) === null) return {text, viewer: true};
    const parts = shownParts(ev, options.cheermotes);
    return {
      text: parts.map((p) => (p.type === 'cheermote' ? String(p.bits) : p.text)).join(''),
      viewer: true,
      nodes() {
        return parts.map((p) => {
          if (p.type === 'emote' && (typeof p.id === 'string' || typeof p.id === 'number')) {
            const img = document.createElement('img');
            img.className = 'emote';
            img.alt = p.text;
            img.title = p.text;
            img.addEventListener('error', () => img.replaceWith(document.createTextNode(p.text)));
            img.src = emoteUrl(options.emoteUrl, String(p.id));
            return img;
          }
          if (p.type === 'cheermote') {
            const badge = document.createElement('span');
            badge.className = 'cheermote';
            badge.textContent = Number.isFinite(Number(p.bits)) ? String(p.bits) : p.text;
            return badge;
          }
          if (p.type === 'mention') {
            const span = document.createElement('span');
            span.className = 'mention';
            span.dir = 'auto';
            span.textContent = p.text;
            return span;
          }
          return document.createTextNode(p.text);
        });
      },
    };
  }

  function spokenText(ev) {
    if (typeof ev.message !== 'string') return '';
    if (fragmentsOf(ev) === null) return ev.message.trim();
    return shownParts(ev, 'hide')
        .filter((p) => p.type !== 'emote')
        .map((p) => p.text)
        .join('')
        .replace(/\s{2,}/g, ' ')
        .trim();
  }

  window.OverlayText = {fill, messageValue, spokenText, pluralForm};
})();
