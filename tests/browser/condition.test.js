// condition.test.js: the parser of variation conditions (overlay/condition.js), in node alone:
// what holds, what does not, and what is refused rather than run.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {test} = require('node:test');
const vm = require('node:vm');
const h = require('./harness');

const sandbox = {window: {}};
vm.runInNewContext(fs.readFileSync(path.join(h.OVERLAY, 'condition.js'), 'utf8'), sandbox);
const {parse} = sandbox.window.OverlayCondition;

function holds(condition, values) {
  const c = parse(condition);
  assert.ok(c.ok, `${condition}: ${c.error}`);
  return c.test(values);
}

test('comparisons of the issue\'s thresholds', () => {
  assert.equal(holds('bits >= 1000', {bits: 1500}), true);
  assert.equal(holds('bits >= 1000', {bits: 100}), false);
  assert.equal(holds('months >= 12', {months: 12}), true);
  assert.equal(holds('tier == "3000"', {tier: '3000'}), true);
  assert.equal(holds('tier == "3000"', {tier: '1000'}), false);
  assert.equal(holds("tier == '3000'", {tier: '3000'}), true);
  assert.equal(holds('tier >= 2000', {tier: '3000'}), true);
  assert.equal(holds('tier >= 2000', {tier: 'prime'}), false);
  assert.equal(holds('count >= 10', {count: 10}), true);
  assert.equal(holds('viewers >= 100', {viewers: 99}), false);
  assert.equal(holds('viewers > 99 && viewers < 101', {viewers: 100}), true);
});

test('and, or, not, parentheses, fields alone, missing fields', () => {
  assert.equal(holds('bits >= 100 and (message or anonymous)', {bits: 100, message: 'hi'}), true);
  assert.equal(holds('bits >= 100 && (message || anonymous)', {bits: 100, message: ''}), false);
  assert.equal(holds('!gifted', {gifted: false}), true);
  assert.equal(holds('not gifted', {gifted: true}), false);
  assert.equal(holds('gifted == true', {gifted: true}), true);
  assert.equal(holds('bits >= 1', {}), false, 'a missing field compares false');
  assert.equal(holds('bits != 1', {}), false);
  assert.equal(holds('user == "Alice" || user == "Bob"', {user: 'Bob'}), true);
});

test('what does not parse is refused, never run', () => {
  for (const bad of ['', 'bits >=', 'bits >= 1000)', '(bits >= 1', 'bits = 1000', 'alert(1)',
                     'constructor == 1', 'bits >= 1; x', 'window.x', 'bits >= 1e3',
                     '('.repeat(30) + 'bits' + ')'.repeat(30), 'x'.repeat(600)]) {
    const c = parse(bad);
    assert.equal(c.ok, false, `${JSON.stringify(bad)} parsed`);
    assert.equal(typeof c.error, 'string');
  }
  assert.equal(parse(42).ok, false);
});
