#!/usr/bin/env bats
# The broker URL on the command line: amqp-pub and amqp-sub warn, once, when the URL given with
# --url carries a password (other users can read it with ps or in /proc); from AMQP_URL they
# say nothing.

load helpers
load amqp-helpers
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

setup_file() { amqp_setup_file; }
teardown_file() { amqp_teardown_file; }
setup() { amqp_setup; }
teardown() { amqp_teardown; }

WARNING='warning: --url: the password in the URL can be read by other users of this machine (ps, /proc); give the URL in AMQP_URL instead'

# warned FILE: how many lines of FILE are the warning.
warned() { grep -cF -- "$WARNING" "$1" || true; }

@test "a password in --url: amqp-pub and amqp-sub warn once on stderr and still work" {
  timeout 20 "$BIN/amqp-sub" --url="$AMQP_TEST_URL" -e "$T" -Q "$T-q" --count 1 >out 2>sub.err &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  timeout 20 "$BIN/amqp-pub" --url "$AMQP_TEST_URL" -e "$T" <<<'{"type":"follow"}' 2>pub.err
  wait "$sub"
  run cat out
  assert_output '{"type":"follow"}'
  run warned pub.err
  assert_output 1
  run warned sub.err
  assert_output 1
  run grep -F -- "$WARNING" pub.err sub.err
  assert_line "pub.err:amqp-pub: $WARNING"
  assert_line "sub.err:amqp-sub: $WARNING"
}

@test "the URL from AMQP_URL, or a --url without a password: no warning" {
  # amqp_setup exported AMQP_URL, the test node's URL with its password.
  timeout 20 "$BIN/amqp-pub" -e "$T" <<<'{"type":"follow"}' 2>env.err
  run grep -c -- 'warning' env.err
  assert_output 0
  # A URL without a password logs in with the default one (guest), and warns of nothing.
  timeout 20 "$BIN/amqp-pub" --url "amqp://guest@${AMQP_TEST_URL#*@}" -e "$T" \
    <<<'{"type":"follow"}' 2>nopass.err
  run grep -c -- 'warning' nopass.err
  assert_output 0
  run grep -c -- 'connected to' nopass.err
  assert_output 1
}
