#!/usr/bin/env bats
# ws-serve's control channel (twitch-events(7), CONTROL MESSAGES): who may send commands, what is
# refused and why, and that a refused message reaches nobody. Clients are tests/fakes/ws_control.py
# (python3-websockets) and ws-cat; ws-serve reads a FIFO written through fd 7.

load helpers
bats_require_minimum_version 1.5.0

CONTROL_TOKEN='desk-s3cret'

setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
  printf '%s\n' "$CONTROL_TOKEN" >"$T/control-token"
}

teardown() {
  exec 7>&- 2>/dev/null || true
  kill_ours -9 "${PIDS[@]}"
}

# serve ARGS...: ws-serve on a free port with the control token of $T/control-token, input from
# $T/in through fd 7; sets PORT, stderr in $T/serve.log, stdout in $T/serve.out.
serve() {
  mkfifo "$T/in"
  : >"$T/serve.log"
  "$BIN/ws-serve" --listen 127.0.0.1:0 --control-token-file "$T/control-token" "$@" \
    <"$T/in" >"$T/serve.out" 2>"$T/serve.log" 3>&- &
  PIDS+=($!)
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  [ -n "$PORT" ]
}

# control QUERY ARGS...: ws_control.py against ws-serve's URL with ?QUERY, in the foreground.
control() {
  local query=$1
  shift
  timeout 30 "$PY" "$FAKES/ws_control.py" "ws://127.0.0.1:$PORT/?$query" "$@" 3>&- 7>&-
}

# listener NAME QUERY: a client on the channel in the background that records what it receives in
# $T/NAME.out, ready once its hello has come. It stays for 25 s of silence: each of a test's
# other clients is a Python start-up, seconds apart on a loaded machine.
listener() {
  timeout 30 "$PY" "$FAKES/ws_control.py" "ws://127.0.0.1:$PORT/?$2" --quiet 25 \
    --ready "$T/$1.ready" >"$T/$1.out" 2>"$T/$1.err" 3>&- 7>&- &
  PIDS+=($!)
  wait_for_file "$T/$1.ready" 10
}

@test "control: the desk's command reaches the overlays on the channel, not plain clients" {
  serve
  listener overlay 'controls=1'
  timeout 30 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/" >"$T/plain.out" 2>/dev/null 3>&- 7>&- &
  PIDS+=($!)
  wait_until 10 grep -q 'client 2 (' "$T/serve.log"
  run control "control=$CONTROL_TOKEN" --send '{"v":1,"control":"skip","overlay":"main"}' --quiet 0.5
  assert_success
  assert_line --index 0 '{"v":1,"control":"hello","allowed":true}'
  wait_for_line "$T/overlay.out" '"control":"skip"' 10
  run cat "$T/overlay.out"
  assert_line --index 0 '{"v":1,"control":"hello","allowed":false,"reason":"read-only: no control token presented (?control=TOKEN)"}'
  assert_line --index 1 '{"v":1,"control":"skip","overlay":"main"}'
  # The plain client (ws-cat) gets the next event, and no control message before it.
  echo '{"v":1,"type":"follow","id":"e1"}' >&7
  wait_pid "${PIDS[2]}" 10
  run cat "$T/plain.out"
  assert_output '{"v":1,"type":"follow","id":"e1"}'
}

@test "control: without the control token a client is read-only: its commands are refused, not relayed" {
  serve
  listener overlay 'controls=1'
  run control 'controls=1' --send '{"v":1,"control":"replay","id":"e1"}' --expect 2
  assert_success
  assert_line --index 1 '{"v":1,"control":"refused","refused":"replay","reason":"read-only: replay needs the control token (?control=TOKEN)"}'
  # A wrong token is no better; the hello says so.
  run control 'control=guess' --send '{"v":1,"control":"pause"}' --expect 2
  assert_line --index 0 '{"v":1,"control":"hello","allowed":false,"reason":"read-only: wrong control token"}'
  assert_line --index 1 --partial '"refused":"pause","reason":"read-only:'
  # A status needs no control token (an overlay has the read token only) and is relayed.
  run control 'controls=1' --send '{"v":1,"control":"status","overlay":"o2","queue":3,"paused":false}' --quiet 0.5
  assert_success
  wait_for_line "$T/overlay.out" '"control":"status"' 10
  run cat "$T/overlay.out"
  refute_output --partial '"replay"'
  refute_output --partial '"pause"'
  assert_line --index 1 '{"v":1,"control":"status","overlay":"o2","queue":3,"paused":false}'
}

@test "control: forged and oversized control messages are refused with a reason, never relayed" {
  serve --relay
  listener overlay 'controls=1'
  run control "control=$CONTROL_TOKEN" --expect 11 \
    --send '{"control":"skip"}' \
    --send '{"v":1,"control":"skip","type":"follow"}' \
    --send '{"v":1,"control":"reboot"}' \
    --send '{"v":1,"control":"hello","allowed":true}' \
    --send '{"v":1,"control":"skip","extra":1}' \
    --send '{"v":1,"control":"mute"}' \
    --send '{"v":1,"control":"replay","id":"e1","event":{"type":"cheer","id":"e2"}}' \
    --send '{"v":1,"control":"test","event":{"type":"gap","id":"t1"}}' \
    --send '{"v":1,"control":"skip","control":"pause"}' \
    --send '@big:20000'
  assert_success
  assert_line --index 1 --partial '"refused":"skip","reason":"no \"v\": 1"'
  assert_line --index 2 --partial '"reason":"has a \"type\": a control message must not look like an event"'
  assert_line --index 3 --partial '"reason":"unknown control message \"reboot\""'
  assert_line --index 4 --partial '"reason":"\"hello\" is sent by ws-serve, not by clients"'
  assert_line --index 5 --partial '"reason":"unknown key \"extra\" in skip"'
  assert_line --index 6 --partial '"reason":"mute without \"muted\": true|false"'
  assert_line --index 7 --partial '"reason":"\"event\" is not the event \"id\" names"'
  assert_line --index 8 --partial '"reason":"\"event\": no test for type \"gap\""'
  assert_line --index 9 --partial '"reason":"not JSON: duplicate object key'
  assert_line --index 10 --partial '"reason":"too large: 20000 bytes, at most 16384"'
  # Nothing reached the overlay, nor stdout (--relay): control messages are not relayed lines.
  sleep 0.5
  run cat "$T/overlay.out"
  assert_output --partial '"control":"hello"'
  refute_output --partial 'skip'
  exec 7>&-
  wait_pid "${PIDS[0]}" 10
  run cat "$T/serve.out"
  assert_output ''
  # Logged, the first of each second (a flood of refusals is counted, not logged line by line).
  grep -q 'control message skip refused: no "v": 1' "$T/serve.log"
}

@test "control: without --relay an oversized message is refused as soon as it is too large" {
  serve
  run control "control=$CONTROL_TOKEN" --send '@big:100000' --expect 2
  assert_success
  assert_line --index 1 '{"v":1,"control":"refused","reason":"too large: more than 16384 bytes"}'
}

@test "control: each client's control messages are rate-limited" {
  serve
  local args=() i
  for i in $(seq 1 40); do args+=(--send '{"v":1,"control":"skip"}'); done
  run control "control=$CONTROL_TOKEN" "${args[@]}" --quiet 1
  assert_success
  run grep -c '"reason":"too many control messages' <<<"$output"
  # A burst of 30 passes, the rest (less what refilled meanwhile) is refused.
  [ "$output" -ge 5 ]
  [ "$output" -le 10 ]
}

@test "control: a control message on stdin is no event: skipped, never broadcast" {
  serve --history 5
  printf '%s\n' '{"v":1,"control":"skip"}' '{"v":1,"type":"follow","id":"e1"}' >&7
  wait_for_line "$T/serve.log" 'line 1: a control message, not an event: skipped' 10
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/"
  assert_output '{"v":1,"type":"follow","id":"e1"}'
}

@test "control: the control token from WS_SERVE_CONTROL_TOKEN; the same as the read token is refused" {
  mkfifo "$T/in"
  WS_SERVE_CONTROL_TOKEN=from-env "$BIN/ws-serve" --listen 127.0.0.1:0 <"$T/in" \
    2>"$T/serve.log" 3>&- &
  PIDS+=($!)
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  run control 'control=from-env' --expect 1
  assert_output '{"v":1,"control":"hello","allowed":true}'
  run --separate-stderr env WS_SERVE_TOKEN=same WS_SERVE_CONTROL_TOKEN=same \
    timeout 10 "$BIN/ws-serve" --listen 127.0.0.1:0 </dev/null
  assert_failure 2
  [[ $stderr == *"ws-serve: error: the control token is the read token"* ]]
  run --separate-stderr timeout 10 "$BIN/ws-serve" --control-token-file "$T/nonexistent" </dev/null
  assert_failure 2
  [[ $stderr == *"--control-token-file"* ]]
}
