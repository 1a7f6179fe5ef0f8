#!/usr/bin/env bats
# The wall clock jumps an hour forward and then two hours back while commands run: their timers
# (ping intervals, pong, silence and request timeouts) use the monotonic clock, so none fires
# early and none never fires. The jump is libfaketime's (Debian's faketime package), preloaded
# with FAKETIME_DONT_FAKE_MONOTONIC=1: only CLOCK_REALTIME (and time(2), gettimeofday(2)) moves,
# as when an administrator or a bad NTP server sets the clock.

load faults-helpers
bats_require_minimum_version 1.5.0

LIBFAKETIME=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
SECRET=s3cr3t-for-the-tests-0123456789

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  [ -f "$LIBFAKETIME" ] || skip "no $LIBFAKETIME (Debian package faketime)"
  T=$BATS_TEST_TMPDIR
  PIDS=()
  CLOCK=$T/clock
  echo "+0" >"$CLOCK"
}

teardown() {
  kill_pids "${PIDS[@]}"
}

# faked CMD...: CMD with the wall clock that $CLOCK says (an offset such as +1h), read again at
# every call. (A build with ASan wants its runtime first among the libraries: the preload comes
# first here, which is harmless for this test.) It execs CMD, so call it in a subshell only
# (`$(faked ...)`, `run faked`, `faked ... &`): in the background its PID is CMD's own, which
# the teardown can then end (the subshell's, killed, left CMD running).
faked() {
  LD_PRELOAD=$LIBFAKETIME FAKETIME_TIMESTAMP_FILE=$CLOCK FAKETIME_NO_CACHE=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1 \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 exec "$@"
}

# jump OFFSET: sets the faked wall clock to OFFSET from the real one.
jump() { echo "$1" >"$CLOCK"; }

@test "the jump itself: the faked wall clock moves (for the commands too), the monotonic clock does not" {
  local real faked_s
  real=$(date +%s)
  jump +1h
  faked_s=$(faked date +%s)
  [ $((faked_s - real)) -ge 3590 ]
  [ $((faked_s - real)) -le 3610 ]
  # The commands see it too: twitch-trigger stamps its event with the wall clock.
  run faked "$BIN/twitch-trigger" raid
  assert_success
  local at
  at=$(jq -r .at <<<"$output")
  [ $(( $(date -d "$at" +%s) - real )) -ge 3590 ]
  jump -1h
  faked_s=$(faked date +%s)
  [ $((real - faked_s)) -ge 3590 ]
  # CLOCK_MONOTONIC is the real one (the system's uptime).
  run faked $PY -c 'import time; print(abs(time.monotonic() - float(open("/proc/uptime").read().split()[0])) < 5)'
  assert_output True
}

@test "twitch-irc: PINGs every --ping-interval and no reconnect across both jumps" {
  timeout 60 "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$T/fake.log" --scenario events \
    >"$T/fake.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/fake.out")
  faked "$BIN/twitch-irc" --url "wss://127.0.0.1:$port" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    --ping-interval 1 --pong-timeout 2 -v maple >"$T/out" 2>"$T/err" 3>&- 7>&- &
  PIDS+=($!)
  wait_for_line "$T/fake.log" '^1! all joined' 10
  sleep 3
  local before after
  before=$(grep -c '^1> PING' "$T/fake.log")
  jump +1h
  sleep 3
  after=$(grep -c '^1> PING' "$T/fake.log")
  echo "# PINGs in the 3 s after the jump forward: $((after - before))" >&3
  [ $((after - before)) -ge 2 ]
  [ $((after - before)) -le 4 ]
  jump -1h
  sleep 3
  before=$after
  after=$(grep -c '^1> PING' "$T/fake.log")
  echo "# PINGs in the 3 s after the jump back: $((after - before))" >&3
  [ $((after - before)) -ge 2 ]
  [ $((after - before)) -le 4 ]
  run grep -c '! connected' "$T/fake.log"
  assert_output 1
  run grep -c '"type":"gap"' "$T/out"
  assert_output 0
}

@test "ws-cat --timeout: a silence timeout fires neither at a jump forward nor never after one back" {
  $PY "$FAKES/ws_server.py" every:0.5,16 >"$T/ws.out" 2>"$T/ws.log" 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/ws.log")
  faked "$BIN/ws-cat" --timeout 2 "ws://127.0.0.1:$port/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  local cat=$!
  PIDS+=($cat)
  sleep 1
  jump +1h
  sleep 1
  jump -1h
  wait_pid "$cat" 20
  wait_status "$cat"
  assert_success
  run wc -l <"$T/out"
  assert_output 16
  # A server that goes silent: the timeout fires after 2 s of silence, jump back or not.
  $PY "$FAKES/ws_server.py" hold >"$T/hold.out" 2>"$T/hold.log" 3>&- 7>&- &
  PIDS+=($!)
  port=$(listen_port "$T/hold.log")
  jump +0
  faked "$BIN/ws-cat" --timeout 2 "ws://127.0.0.1:$port/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  cat=$!
  PIDS+=($cat)
  local start=$SECONDS
  sleep 0.5
  jump -2h
  wait_pid "$cat" 15
  wait_status "$cat"
  assert_failure 1
  echo "# silence timeout of 2 s fired after $((SECONDS - start)) s" >&3
  [ $((SECONDS - start)) -ge 1 ]
  [ $((SECONDS - start)) -le 4 ]
}

@test "twitch-hook --request-timeout: a slow request is closed on time across a jump either way" {
  TWITCH_HOOK_SECRET=$SECRET faked "$BIN/twitch-hook" --listen 127.0.0.1:0 --request-timeout 2 \
    >"$T/out" 2>"$T/log" 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/log")
  local offset
  for offset in +1h -2h; do
    jump +0
    timeout 20 $PY "$FAKES/eventsub_webhook.py" slow --every 0.3 --port "$port" \
      --secret "$SECRET" >"$T/slow" 3>&- 7>&- &
    local slow=$!
    PIDS+=($slow)
    sleep 0.6
    jump "$offset"
    wait "$slow" || true
    echo "# jump $offset: $(cat "$T/slow")" >&3
    run cat "$T/slow"
    assert_output --regexp '^closed after [23]$'
  done
}
