#!/usr/bin/env bats
# twitch-pubsub: offline --input against the golden files, usage errors, and the live client
# against a fake PubSub server (tests/fakes/pubsub.py, TLS with a CA made here) and a fake
# id.twitch.tv (tests/fakes/twitch_id.py, where the token is validated): LISTEN with a nonce and
# the token, a RESPONSE of a foreign nonce ignored, ERR_BADAUTH, ERR_BADTOPIC narrowed down to
# its topic, ERR_SERVER retried, a withheld PONG, RECONNECT (an event both connections deliver
# written once), RECONNECT then a cut, a drop (gap events), AUTH_REVOKED, malformed messages, and
# more than 50 topics over two connections.

load helpers
bats_require_minimum_version 1.5.0

TOKEN=goodtoken0123456789

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  export TWITCH_TOKEN=$TOKEN
  unset TWITCH_CLIENT_ID XDG_CONFIG_HOME
  export HOME=$BATS_TEST_TMPDIR
  OUT=$BATS_TEST_TMPDIR/out.ndjson
  ERR=$BATS_TEST_TMPDIR/err.log
  FLOG=$BATS_TEST_TMPDIR/fake.log
}

teardown() {
  kill_ours ${PS_PID:-} ${FAKE_PID:-} ${ID_PID:-}
  true
}

# start_fakes SCENARIO [pubsub.py args...]: the fake id.twitch.tv (knowing $TOKEN) and the fake
# PubSub server; sets ID_PID, AUTH, FAKE_PID, URL.
start_fakes() {
  local scenario=$1
  shift
  : >"$BATS_TEST_TMPDIR/id.out"
  : >"$BATS_TEST_TMPDIR/fake.out"
  timeout 40 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --access-token "$TOKEN" \
    > "$BATS_TEST_TMPDIR/id.out" 2>&1 3>&- 7>&- &
  ID_PID=$!
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/id.out")
  [ -n "$port" ]
  AUTH=https://127.0.0.1:$port/oauth2
  timeout 40 "$PY" "$FAKES/pubsub.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$FLOG" --scenario "$scenario" \
    --good-token "$TOKEN" "$@" > "$BATS_TEST_TMPDIR/fake.out" 2>&1 3>&- 7>&- &
  FAKE_PID=$!
  port=$(listen_port "$BATS_TEST_TMPDIR/fake.out")
  [ -n "$port" ]
  URL=wss://127.0.0.1:$port
}

# start_pubsub [args...]: twitch-pubsub against the fakes in the background; sets PS_PID.
start_pubsub() {
  # --foreground: timeout(1) would otherwise pass our SIGTERM on to the child twice.
  timeout --foreground 30 "$BIN/twitch-pubsub" --url "$URL" --auth-url "$AUTH" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" > "$OUT" 2> "$ERR" 3>&- 7>&- &
  PS_PID=$!
}

# stop_pubsub: SIGTERM, then its exit status must be 0.
stop_pubsub() {
  kill -TERM "$PS_PID"
  local rc=0
  wait "$PS_PID" || rc=$?
  PS_PID=
  [ "$rc" -eq 0 ] || { echo "exit $rc" >&2; cat "$ERR" >&2; return 1; }
}

# run_pubsub [args...]: twitch-pubsub against the fakes in the foreground (it must end itself).
run_pubsub() {
  run timeout --foreground 30 "$BIN/twitch-pubsub" --url "$URL" --auth-url "$AUTH" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@"
}

# lines_at_least FILE N: FILE has N lines or more.
lines_at_least() {
  local n
  n=$(wc -l < "$1" 2>/dev/null)
  [ "${n:-0}" -ge "$2" ]
}

# matches_at_least FILE REGEX N: N lines of FILE or more match REGEX.
matches_at_least() {
  local n
  n=$(grep -cE "$2" "$1" 2>/dev/null)
  [ "${n:-0}" -ge "$3" ]
}

# without_at FILE: the records of FILE without their "at" (the time a bomb is read) nor errors.
without_at() {
  jq -c 'select(has("error") | not) | del(.at)' "$1"
}

@test "--help and --version; the man page says first that PubSub was retired" {
  run "$BIN/twitch-pubsub" --help
  assert_success
  assert_output --partial "--channel-id"
  assert_output --partial "--input"
  run "$BIN/twitch-pubsub" --version
  assert_success
  run grep -m1 -A2 '^# DESCRIPTION' "$ROOT/man/twitch-pubsub.1.scd"
  assert_output --partial "Twitch retired PubSub for third-party applications on 2025-04-14"
}

@test "usage errors: exit 2 with a message" {
  run "$BIN/twitch-pubsub"
  assert_failure 2
  assert_output --partial "twitch-pubsub: error: no --channel-id or --topic given"
  run "$BIN/twitch-pubsub" --input - --topic channel-bits-events-v2.1
  assert_failure 2
  assert_output --partial "give one or the other"
  run "$BIN/twitch-pubsub" --types sub --topic channel-bits-events-v2.1
  assert_failure 2
  assert_output --partial "--types: needs --channel-id"
  run "$BIN/twitch-pubsub" --channel-id 777000222 --types sub,follows
  assert_failure 2
  assert_output --partial 'type "follows": not one of sub, subgifts, bits, bitsbadge, points'
  run "$BIN/twitch-pubsub" --channel-id maplecrate
  assert_failure 2
  assert_output --partial 'channel id "maplecrate": not a number'
  run "$BIN/twitch-pubsub" --topic whispers
  assert_failure 2
  assert_output --partial "--topic 'whispers': not a PubSub topic"
  run env -u TWITCH_TOKEN HOME="$BATS_TEST_TMPDIR" "$BIN/twitch-pubsub" --channel-id 1
  assert_failure 2
  assert_output --partial "no token"
  run "$BIN/twitch-pubsub" --url http://example.com --channel-id 1 --auth-url http://127.0.0.1:9
  assert_failure
  run "$BIN/twitch-pubsub" --ping-interval 300 --channel-id 1
  assert_failure 2
}

@test "--input maps every golden capture (gift bombs grouped), without a network" {
  local name
  for name in sub gifts giftbomb bits points unknown; do
    run --separate-stderr "$BIN/twitch-pubsub" --input "$DATA/pubsub/$name.frames" --url ws://127.0.0.1:9
    assert_success
    printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/$name.out"
    diff <(without_at "$DATA/pubsub/$name.ndjson") <(without_at "$BATS_TEST_TMPDIR/$name.out")
  done
  run jq -r 'select(.type == "subgift") | .group // "none"' "$BATS_TEST_TMPDIR/giftbomb.out"
  assert_line --index 0 4ba2b1a0-22e5-4b7e-9c16-9f1e4a8b7c01
  assert_line --index 1 4ba2b1a0-22e5-4b7e-9c16-9f1e4a8b7c01
  assert_line --index 2 none
}

@test "--input: malformed frames are logged by line and counted; --raw; stdin" {
  run "$BIN/twitch-pubsub" --input "$DATA/pubsub/unknown.frames" -q
  assert_success
  refute_output --partial "skipped"
  run sh -c '"$0" --input "$1" 2>&1 >/dev/null' "$BIN/twitch-pubsub" "$DATA/pubsub/unknown.frames"
  assert_success
  assert_output --regexp 'unknown.frames: line [0-9]+: skipped: not JSON'
  assert_output --regexp 'frames skipped'
  run --separate-stderr "$BIN/twitch-pubsub" --raw --input - < "$DATA/pubsub/raw.frames"
  assert_success
  printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/raw.out"
  diff <(without_at "$DATA/pubsub/raw.ndjson") <(without_at "$BATS_TEST_TMPDIR/raw.out")
  run "$BIN/twitch-pubsub" --input "$BATS_TEST_TMPDIR/no-such-file"
  assert_failure 1
  assert_output --partial "cannot open"
}

@test "live: LISTEN with a nonce and the token; a foreign RESPONSE ignored; gift bombs grouped" {
  start_fakes events --frames "$DATA/pubsub/giftbomb.frames"
  start_pubsub --channel-id 777000222
  wait_for_line "$FLOG" 'sent [0-9]+ frames'
  wait_until 5 lines_at_least "$OUT" 7
  stop_pubsub
  diff <(without_at "$DATA/pubsub/giftbomb.ndjson") <(without_at "$OUT")
  run grep -c '"type":"LISTEN"' "$FLOG"
  assert_output 1
  run grep '"type":"LISTEN"' "$FLOG"
  assert_output --regexp '"nonce":"[A-Za-z0-9]{32}"'
  assert_output --partial '"auth_token":"good"'
  assert_output --partial '"channel-subscribe-events-v1.777000222","channel-sub-gifts-v1.777000222","channel-bits-events-v2.777000222","channel-bits-badge-unlocks.777000222","channel-points-channel-v1.777000222"'
  run grep -c 'connected' "$FLOG"
  assert_output 1
  refute_output --partial "$TOKEN"
  run cat "$ERR"
  assert_output --partial "listening to channel-subscribe-events-v1.777000222"
  refute_output --partial "ERR_BADAUTH"
  refute_output --partial "$TOKEN"
}

@test "live: ERR_BADAUTH ends with status 3 and no reconnect" {
  start_fakes idle --good-token someoneelse
  run_pubsub --channel-id 777000222 --types bits
  assert_failure 3
  assert_output --partial "ERR_BADAUTH: the token was refused or lacks the topic's scope"
  run grep -c connected "$FLOG"
  assert_output 1
}

@test "live: ERR_BADTOPIC names the topic, the others are listened to" {
  start_fakes idle --bad-topic channel-bits-events-v2.777000222
  start_pubsub --channel-id 777000222 --types sub,bits,points
  wait_for_line "$ERR" 'ERR_BADTOPIC: no such topic'
  wait_until 5 matches_at_least "$FLOG" 'listening to 1 topics' 2
  stop_pubsub
  run cat "$ERR"
  assert_output --partial "topic channel-bits-events-v2.777000222: ERR_BADTOPIC"
  refute_output --partial "topic channel-subscribe-events-v1.777000222: ERR_BADTOPIC"
}

@test "live: every topic refused: status 1" {
  start_fakes idle --bad-topic channel-bits-events-v2.777000222
  run_pubsub --topic channel-bits-events-v2.777000222
  assert_failure 1
  assert_output --partial "every topic was refused"
}

@test "live: ERR_SERVER is asked again after a backoff" {
  start_fakes server-error
  start_pubsub --channel-id 777000222 --types bits
  wait_for_line "$FLOG" 'sent B' 15
  wait_for_file "$OUT"
  stop_pubsub
  run jq -r .id "$OUT"
  assert_output b0000000-0000-4000-8000-00000000000b
  run cat "$ERR"
  assert_output --regexp 'ERR_SERVER: asking again in [0-9]+ ms'
}

@test "live: no PONG within --pong-timeout: reconnect and a gap event" {
  start_fakes silent
  start_pubsub --channel-id 777000222 --types bits --ping-interval 1 --pong-timeout 1
  wait_for_line "$FLOG" '^2! sent B' 15
  wait_until 5 lines_at_least "$OUT" 2
  stop_pubsub
  run grep -c '^1! PING ignored' "$FLOG"
  assert_output 1
  run jq -r '.type + " " + (.channel.id // "")' "$OUT"
  assert_line --index 0 "gap 777000222"
  assert_line --index 1 "cheer 777000222"
  run cat "$ERR"
  assert_output --partial "no PONG in time: the connection is dead"
}

@test "live: RECONNECT: a new connection listens, the old one is closed, an event both send once" {
  start_fakes reconnect
  start_pubsub --channel-id 777000222 --types bits -v
  wait_for_line "$FLOG" '^2! sent A and B'
  wait_for_line "$FLOG" '^1! closed'
  wait_until 5 lines_at_least "$OUT" 2
  stop_pubsub
  run jq -r .id "$OUT"
  assert_output "a0000000-0000-4000-8000-00000000000a
b0000000-0000-4000-8000-00000000000b"
  run grep -c '"type":"LISTEN"' "$FLOG"
  assert_output 2
  run grep -c '^twitch-pubsub: debug: < .*a0000000-0000-4000-8000-00000000000a' "$ERR"
  assert_output 2
}

@test "live: RECONNECT and a cut before the new connection listens: a gap" {
  start_fakes reconnect-close
  start_pubsub --channel-id 777000222 --types bits
  wait_for_line "$FLOG" '^2! sent B'
  wait_until 5 lines_at_least "$OUT" 2
  stop_pubsub
  run jq -r .type "$OUT"
  assert_output "gap
cheer"
}

@test "live: a drop: reconnect with backoff, a gap event from the last frame" {
  start_fakes drop
  start_pubsub --channel-id 777000222 --types sub,bits
  wait_for_line "$FLOG" '^2! sent B' 15
  wait_until 5 lines_at_least "$OUT" 2
  stop_pubsub
  run jq -r 'select(.type == "gap") | .channel.id' "$OUT"
  assert_output 777000222
  run jq -r 'select(.type == "gap") | (.from < .to)' "$OUT"
  assert_output true
  run cat "$ERR"
  assert_output --regexp 'reconnecting in [0-9]+ ms \(attempt 1\)'
}

@test "live: AUTH_REVOKED ends with status 3" {
  start_fakes revoked
  run_pubsub --channel-id 777000222 --types bits
  assert_failure 3
  assert_output --partial "the token was revoked"
}

@test "live: malformed inner messages are logged and counted, never fatal" {
  start_fakes malformed
  start_pubsub --channel-id 777000222 --types bits
  wait_for_line "$FLOG" 'sent 3 malformed and B'
  wait_for_file "$OUT"
  stop_pubsub
  run jq -r .id "$OUT"
  assert_output b0000000-0000-4000-8000-00000000000b
  run cat "$ERR"
  assert_output --partial "channel-bits-events-v2.777000222: message skipped (1 so far)"
  assert_output --partial "channel-bits-events-v2.777000222: message skipped (2 so far)"
  assert_output --partial "frame skipped: not JSON"
  assert_output --partial "3 malformed messages skipped"
}

@test "live: 60 topics: two connections of 50 and 10 topics" {
  local topics=() i
  for i in $(seq 1 60); do topics+=("channel-bits-events-v2.$((1000 + i))"); done
  start_fakes idle
  start_pubsub --topic "${topics[@]}"
  wait_until 10 matches_at_least "$FLOG" 'listening to' 2
  stop_pubsub
  run grep -o '^[0-9]! listening to [0-9]* topics' "$FLOG"
  assert_line --regexp '^[12]! listening to 50 topics$'
  assert_line --regexp '^[12]! listening to 10 topics$'
  run grep -c 'connected' "$FLOG"
  assert_output 2
}

@test "live: the reader of stdout goes away: status 0 at once" {
  start_fakes events --frames "$DATA/pubsub/giftbomb.frames"
  run bash -c 'set -o pipefail; timeout --foreground 20 "$0" --url "$1" --auth-url "$2" \
    --cacert "$3" --channel-id 777000222 2>/dev/null | head -n 1' "$BIN/twitch-pubsub" "$URL" \
    "$AUTH" "$BATS_FILE_TMPDIR/ca.pem"
  assert_success
  assert_output --partial '"type":"giftbomb"'
}

@test "live: a stalled reader of stdout: reading pauses, no PING is missed, no reconnect, no loss" {
  start_fakes flood --events 600
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  timeout --foreground 30 "$BIN/twitch-pubsub" --url "$URL" --auth-url "$AUTH" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --channel-id 777000222 --types bits --max-buffer 65536 \
    --ping-interval 1 --pong-timeout 3 > "$BATS_TEST_TMPDIR/fifo" 2> "$ERR" 3>&- 7>&- &
  PS_PID=$!
  exec 5< "$BATS_TEST_TMPDIR/fifo"  # a reader that reads nothing yet
  wait_for_line "$ERR" 'reading paused' 15
  sleep 5  # longer than --pong-timeout: a client that still PINGed now would reconnect
  cat <&5 > "$OUT" 3>&- 7>&- &
  local reader=$!
  exec 5<&-
  wait_for_line "$FLOG" 'sent all' 20
  wait_until 15 lines_at_least "$OUT" 600
  stop_pubsub
  wait "$reader"
  run jq -r .id "$OUT"
  assert_line --index 0 c0000000-0000-4000-8000-000000000000
  assert_line --index 599 c0000000-0000-4000-8000-000000000599 || { cat "$ERR"; false; }
  run jq -s 'length' "$OUT"
  assert_output 600
  run grep -c '! connected' "$FLOG"
  assert_output 1
  run cat "$ERR"
  assert_output --partial "reading resumed"
  refute_output --partial "the connection is dead"
}
