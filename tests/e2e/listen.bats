#!/usr/bin/env bats
# Where servers listen: what the kernel bound for each form of ws-serve --listen, read from
# /proc/net/tcp{,6} (tests/listening), never from what the command logged; and every fake Twitch
# server of the tests on loopback only.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  T=$BATS_TEST_TMPDIR
}

teardown() {
  kill_ours ${SERVE_PID:-} ${FAKE_PID:-}
}

# serve ADDRESS [ARGS...]: ws-serve --listen ADDRESS in the background, stdin held open; sets
# SERVE_PID and PORT (as logged), stderr in $T/serve.log.
serve() {
  local address=$1
  shift
  : >"$T/serve.log"
  sleep 30 | timeout 30 "$BIN/ws-serve" --listen "$address" "$@" >/dev/null 2>"$T/serve.log" &
  SERVE_PID=$!
  PORT=$(listen_port "$T/serve.log")
  [ -n "$PORT" ]
}

# bound [PID]: the addresses the kernel has listening on $PORT for process PID (default
# SERVE_PID, ws-serve's `timeout`) or its children: a test beside this one may listen on the same
# port number at another address.
bound() {
  local p=${1:-$SERVE_PID}
  # shellcheck disable=SC2046  # the pids are words
  "$ROOT/tests/listening" "$PORT" "$p" $(pgrep -P "$p")
}

have_ipv6_loopback() { grep -qE '^0{31}1 .* lo$' /proc/net/if_inet6 2>/dev/null; }

@test "--listen 127.0.0.1: bound to 127.0.0.1 only, not reachable on another loopback address" {
  serve 127.0.0.1:0
  run bound
  assert_success
  assert_output "127.0.0.1"
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_success
  run ! curl -s --max-time 5 "http://127.0.0.2:$PORT/healthz"
  run grep -c 'every' "$T/serve.log"
  assert_output 0
}

@test "--listen [::1]: bound to ::1 only" {
  have_ipv6_loopback || skip "no IPv6 loopback"
  serve '[::1]:0'
  run bound
  assert_success
  assert_output "::1"
  run ! curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"
  run curl -s --max-time 5 "http://[::1]:$PORT/healthz"
  assert_success
}

@test "--listen localhost: resolved IPv4 first, bound to 127.0.0.1 and logged as such" {
  serve localhost:0
  run bound
  assert_output "127.0.0.1"
  run grep -E "^ws-serve: info: listening on 127\.0\.0\.1:$PORT$" "$T/serve.log"
  assert_success
}

@test "--listen 0.0.0.0: every IPv4 address, said once, with a warning when there is no token" {
  serve 0.0.0.0:0
  run bound
  assert_output "0.0.0.0"
  run grep -c "listening on 0.0.0.0:$PORT (every IPv4 address of this machine)" "$T/serve.log"
  assert_output 1
  run grep -c "warning: no token: whoever reaches this machine on port $PORT can read" \
    "$T/serve.log"
  assert_output 1
  run curl -s --max-time 5 "http://127.0.0.2:$PORT/healthz"
  assert_success
}

@test "--listen 0.0.0.0 with a token: no warning" {
  WS_SERVE_TOKEN=s3cret-token serve 0.0.0.0:0
  run grep -c "every IPv4 address" "$T/serve.log"
  assert_output 1
  run grep -c "warning" "$T/serve.log"
  assert_output 0
}

@test "--listen 0.0.0.0 with --room-tokens and no token: says the default room is open" {
  printf 'alice sekA\n' >"$T/rooms"
  serve 0.0.0.0:0 --room-key channel.login --room-tokens "$T/rooms"
  wait_for_line "$T/serve.log" 'room-tokens .*: 1 rooms'
  run grep -c "warning: the rooms need their tokens (--room-tokens), but the default room has none: whoever reaches this machine on port $PORT can read its events (those without a room) (set WS_SERVE_TOKEN" "$T/serve.log"
  assert_output 1
  run grep -c "no token" "$T/serve.log"
  assert_output 0
}

@test "--listen 0.0.0.0 with --room-tokens and a token: no warning" {
  printf 'alice sekA\n' >"$T/rooms"
  WS_SERVE_TOKEN=s3cret-token serve 0.0.0.0:0 --room-key channel.login --room-tokens "$T/rooms"
  wait_for_line "$T/serve.log" 'room-tokens .*: 1 rooms'
  run grep -c "warning" "$T/serve.log"
  assert_output 0
}

@test "--listen [::]: every IPv4 and IPv6 address, IPv4 clients included" {
  have_ipv6_loopback || skip "no IPv6 loopback"
  serve '[::]:0' --relay
  run bound
  assert_output "::"
  run grep -c "listening on \[::\]:$PORT (every IPv4 and IPv6 address of this machine)" \
    "$T/serve.log"
  assert_output 1
  run grep -c "can read the events and write to standard output" "$T/serve.log"
  assert_output 1
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_success
}

@test "the fake Twitch servers bind loopback only" {
  "$PY" "$FAKES/ws_server.py" >/dev/null 2>"$T/fake.log" &
  FAKE_PID=$!
  PORT=$(listen_port "$T/fake.log")
  run bound "$FAKE_PID"
  assert_output "127.0.0.1"
  kill "$FAKE_PID"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 1 \
    -subj "/CN=localhost" 2>/dev/null
  timeout 30 "$PY" "$FAKES/twitch_irc.py" --cert "$T/c.pem" --key "$T/k.pem" --log "$T/irc.log" \
    --scenario normal >"$T/irc.out" 2>&1 &
  FAKE_PID=$!
  PORT=$(listen_port "$T/irc.out")
  run bound "$FAKE_PID"
  assert_output "127.0.0.1"
}
