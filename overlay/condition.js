// condition.js: the conditions of alert variations (`bits >= 1000`, `tier == "3000"`,
// `months >= 12 && streak >= 6`), parsed by a small recursive-descent parser into a tree that is
// evaluated against an event's values. Nothing is ever handed to eval or Function: a condition
// can only compare the fields named in FIELDS with numbers and strings.
//
// Grammar:
//   or      := and ( ("||" | "or") and )*
//   and     := unary ( ("&&" | "and") unary )*
//   unary   := ("!" | "not") unary | "(" or ")" | compare
//   compare := operand ( ("==" | "!=" | ">=" | "<=" | ">" | "<") operand )?
//   operand := number | "string" | 'string' | true | false | field
// A lone operand is true when its value is truthy (`gifted`, `message`). Comparing a number with
// a string compares them as numbers when the string is one ("3000" >= 2000), else as strings.
//
// Contract (window.OverlayCondition):
// - parse(text) returns {ok: true, test(values)} or {ok: false, error}; never throws.
//   `values` maps a field name to its value (undefined when the event lacks it: every comparison
//   with it is false).
// - FIELDS: the names a condition may use.
(() => {
  'use strict';

  const FIELDS = [
    'bits', 'months', 'streak', 'tier', 'count', 'total', 'viewers', 'level', 'cost', 'phase',
    'gifted', 'anonymous', 'user', 'message', 'reward', 'recipient', 'goal'
  ];
  const MAX_LENGTH = 500;
  const MAX_DEPTH = 20;

  function tokenize(text) {
    const tokens = [];
    const re =
        /\s*(?:(\d+(?:\.\d+)?)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(==|!=|>=|<=|&&|\|\||[<>!()])|([A-Za-z_][A-Za-z0-9_]*))/y;
    let pos = 0;
    while (pos < text.length) {
      if (/^\s*$/.test(text.slice(pos))) break;
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m === null) throw new Error(`unexpected ${JSON.stringify(text.slice(pos).trim()[0])}`);
      pos = re.lastIndex;
      if (m[1] !== undefined) tokens.push({kind: 'value', value: Number(m[1])});
      else if (m[2] !== undefined) tokens.push({kind: 'value', value: m[2].replace(/\\(.)/g, '$1')});
      else if (m[3] !== undefined) tokens.push({kind: 'value', value: m[3].replace(/\\(.)/g, '$1')});
      else if (m[4] !== undefined) tokens.push({kind: 'op', value: m[4]});
      else tokens.push({kind: 'word', value: m[5]});
    }
    return tokens;
  }

  function parseTokens(tokens) {
    let i = 0;
    let depth = 0;
    const peek = () => tokens[i];
    const isOp = (...ops) => peek() !== undefined &&
        ((peek().kind === 'op' && ops.includes(peek().value)) ||
         (peek().kind === 'word' && ops.includes(peek().value)));

    function or() {
      let left = and();
      while (isOp('||', 'or')) {
        i++;
        const l = left;
        const r = and();
        left = (v) => l(v) || r(v);
      }
      return left;
    }
    function and() {
      let left = unary();
      while (isOp('&&', 'and')) {
        i++;
        const l = left;
        const r = unary();
        left = (v) => l(v) && r(v);
      }
      return left;
    }
    function unary() {
      if (++depth > MAX_DEPTH) throw new Error('nested too deeply');
      try {
        if (isOp('!', 'not')) {
          i++;
          const inner = unary();
          return (v) => !inner(v);
        }
        if (isOp('(')) {
          i++;
          const inner = or();
          if (!isOp(')')) throw new Error('missing ")"');
          i++;
          return inner;
        }
        return compare();
      } finally {
        depth--;
      }
    }
    function operand() {
      const t = peek();
      if (t === undefined) throw new Error('ends too early');
      i++;
      if (t.kind === 'value') return () => t.value;
      if (t.kind === 'word' && (t.value === 'true' || t.value === 'false')) {
        const b = t.value === 'true';
        return () => b;
      }
      if (t.kind === 'word') {
        if (!FIELDS.includes(t.value)) throw new Error(`unknown field "${t.value}"`);
        return (v) => v[t.value];
      }
      throw new Error(`unexpected "${t.value}"`);
    }
    function compare() {
      const left = operand();
      if (!isOp('==', '!=', '>=', '<=', '>', '<')) return (v) => truthy(left(v));
      const op = tokens[i++].value;
      const right = operand();
      return (v) => compareValues(left(v), op, right(v));
    }
    const tree = or();
    if (i < tokens.length) throw new Error(`unexpected "${tokens[i].value}"`);
    return tree;
  }

  function truthy(x) {
    return x !== undefined && x !== null && x !== false && x !== 0 && x !== '';
  }

  function compareValues(a, op, b) {
    if (a === undefined || a === null || b === undefined || b === null) return false;
    let x = a;
    let y = b;
    const numeric = (s) => typeof s === 'number' || (typeof s === 'string' && s.trim() !== '' &&
                                                     Number.isFinite(Number(s)));
    if (typeof a === 'number' || typeof b === 'number') {
      if (!numeric(a) || !numeric(b)) return op === '!=';  // "prime" is no amount
      x = Number(a);
      y = Number(b);
    } else if (typeof a === 'boolean' || typeof b === 'boolean') {
      if (op !== '==' && op !== '!=') return false;
    } else {
      x = String(a);
      y = String(b);
    }
    switch (op) {
      case '==':
        return x === y;
      case '!=':
        return x !== y;
      case '>=':
        return x >= y;
      case '<=':
        return x <= y;
      case '>':
        return x > y;
      default:
        return x < y;
    }
  }

  function parse(text) {
    if (typeof text !== 'string' || text.trim() === '') return {ok: false, error: 'empty'};
    if (text.length > MAX_LENGTH) return {ok: false, error: `longer than ${MAX_LENGTH} characters`};
    try {
      const tree = parseTokens(tokenize(text));
      return {
        ok: true,
        test(values) {
          try {
            return tree(values || {}) === true;
          } catch (e) {
            return false;
          }
        }
      };
    } catch (e) {
      return {ok: false, error: e.message};
    }
  }

  window.OverlayCondition = {parse, FIELDS};
})();
