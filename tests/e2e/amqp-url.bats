#!/usr/bin/env bats
# The broker URL on the command line: amqp-pub and amqp-sub warn, once, when the URL given with
# --url carries a password (other users can read it with ps or in /proc); from AMQP_URL, and for
# RabbitMQ's default guest:guest, they say nothing.

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

# warned_in TEXT: how many lines of TEXT are the warning.
warned_in() { grep -cF -- "$WARNING" <<<"$1" || true; }

# A broker that is not there (port 1): the commands give up after --retry-for, exit 1.
DOWN=127.0.0.1:1

@test "a password in --url: amqp-pub and amqp-sub warn once on stderr" {
  run timeout 20 "$BIN/amqp-pub" --url "amqp://bob:s3cret@$DOWN" --retry-for 0.3 </dev/null
  assert_failure 1
  assert_line "amqp-pub: $WARNING"
  run warned_in "$output"
  assert_output 1
  refute_output --partial s3cret
  run timeout 20 "$BIN/amqp-sub" --url="amqps://bob:s3cret@$DOWN" --retry-for 0.3
  assert_failure 1
  assert_line "amqp-sub: $WARNING"
  run warned_in "$output"
  assert_output 1
}

@test "the URL from AMQP_URL, the default guest:guest, or no password: no warning" {
  AMQP_URL="amqp://bob:s3cret@$DOWN" run timeout 20 "$BIN/amqp-pub" --retry-for 0.3 </dev/null
  assert_failure 1
  refute_output --partial 'warning: --url'
  run timeout 20 "$BIN/amqp-sub" --url "amqp://bob@$DOWN" --retry-for 0.3
  assert_failure 1
  refute_output --partial 'warning: --url'
  # The test node's URL, guest:guest, on the command line: it works, and warns of nothing.
  timeout 20 "$BIN/amqp-pub" --url "$AMQP_TEST_URL" -e "$T" <<<'{"type":"follow"}' 2>pub.err
  run grep -c -- 'warning' pub.err
  assert_output 0
  run grep -c -- 'connected to' pub.err
  assert_output 1
}
