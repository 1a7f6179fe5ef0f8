#!/usr/bin/env bats
# The broker URL on the command line: amqp-pub and amqp-sub warn, once, when the URL given with
# --url carries a password (other users can read it with ps or in /proc); from AMQP_URL, and for
# RabbitMQ's default guest:guest, they say nothing.

load helpers
load amqp-helpers
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

@test "--url repeatable: a broker that is down is passed over for the next one" {
  unset AMQP_URL
  timeout 90 "$BIN/amqp-sub" --url "amqp://guest:guest@$DOWN" --url "$AMQP_TEST_URL" \
    -e "$T" -Q "$T-q" -c 5 >out 2>sub.err 3>&- &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  run timeout 30 "$BIN/amqp-pub" --url "amqp://guest:guest@$DOWN" --url "$AMQP_TEST_URL" -e "$T" \
    < <(events 5)
  assert_success
  assert_line --regexp "^amqp-pub: warning: amqp://guest@$DOWN/%2f: .*retrying in [0-9]+ ms"
  assert_line --regexp '^amqp-pub: info: connected to amqp://guest@127\.0\.0\.1:[0-9]+'
  wait_status "$sub"
  assert_success
  run diff <(events 5) out
  assert_success
  run grep -c "retrying" sub.err
  assert_output 1
}

@test "--binding-keys-file: binds only the keys in the file" {
  unset AMQP_URL
  printf 'alice.#\n\n  bob.chat  \n' >keys
  timeout 90 "$BIN/amqp-sub" --url "$AMQP_TEST_URL" -e "$T" -Q "$T-q" --binding-keys-file keys \
    -c 2 >out 2>sub.err 3>&- &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  run rmqctl -q list_bindings source_name destination_name routing_key
  assert_line --regexp "^$T	$T-q	alice\.#$"
  assert_line --regexp "^$T	$T-q	bob\.chat$"
  refute_line --regexp "^$T	$T-q	#$"
  printf '%s\n' '{"id":"1","type":"chat","channel":{"login":"carol"}}' \
    '{"id":"2","type":"cheer","channel":{"login":"alice"}}' \
    '{"id":"3","type":"cheer","channel":{"login":"bob"}}' \
    '{"id":"4","type":"chat","channel":{"login":"bob"}}' |
    timeout 30 "$BIN/amqp-pub" --url "$AMQP_TEST_URL" -e "$T"
  wait_status "$sub"
  assert_success
  run jq -r .id out
  assert_output $'2\n4'
  : >empty
  run -2 "$BIN/amqp-sub" --binding-keys-file empty
  assert_output --partial 'amqp-sub: error: --binding-keys-file empty: no binding key in it'
}

@test "AMQP_URL holds several URLs separated by spaces, tried in turn" {
  AMQP_URL="amqp://guest:guest@$DOWN $AMQP_TEST_URL" run timeout 30 "$BIN/amqp-pub" -e "$T" \
    < <(events 2)
  assert_success
  assert_line --regexp "^amqp-pub: warning: amqp://guest@$DOWN/%2f: "
  assert_line --regexp '^amqp-pub: info: connected to amqp://guest@127\.0\.0\.1:[0-9]+'
}
