#!/usr/bin/env bats
# scripts/servitor against other users of the machine and odd arguments: channel names checked
# before anything starts, the token kept out of every argv, a warning for a broker password on the
# command line, what the event stream accepts said at start, and ws-serve's log copied to a file
# only until the "listening on" line.

load helpers
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

SERVITOR=$ROOT/scripts/servitor

setup() {
  tmp=$BATS_TEST_TMPDIR
  pid=""
  export SERVITOR_BIN=$BIN
}

teardown() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$(pgrep -P "$pid" | head -1)" 2>/dev/null
    wait_pid "$pid" 10 || kill -KILL "$pid" 2>/dev/null
  fi
  true
}

# run_servitor ARGS...: servitor in the background, stdout in $tmp/out, stderr in $tmp/err; sets
# pid and url once it printed the URL.
run_servitor() {
  env --default-signal=INT timeout 60 "$SERVITOR" "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  wait_for_line "$tmp/out" '^http://' 30 || { cat "$tmp/err" >&2; return 1; }
  url=$(head -1 "$tmp/out")
}

@test "servitor: a channel that is not a Twitch name is a usage error before anything starts" {
  "$PY" -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
s.settimeout(5)
try:
    s.accept(); print("connected", flush=True)
except socket.timeout:
    pass
' >"$tmp/listener" &
  local listener=$!
  wait_for_file "$tmp/listener"
  local port
  port=$(head -1 "$tmp/listener")
  run --separate-stderr timeout 10 "$SERVITOR" -- "--url=ws://127.0.0.1:$port/" x
  assert_equal "$status" 2
  assert_output ""
  assert_equal "$stderr" "servitor: error: not a Twitch channel name: --url=ws://127.0.0.1:$port/
servitor: error: try 'servitor --help'"
  run --separate-stderr timeout 10 "$SERVITOR" 'bad;name'
  assert_equal "$status" 2
  kill "$listener"
  wait "$listener" 2>/dev/null || true
  run cat "$tmp/listener"
  refute_output --partial connected
}

@test "servitor: the token reaches the URL but no command line (jq reads it from its environment)" {
  mkdir "$tmp/spy"
  # A jq that records its arguments, then runs the real one.
  printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s"\nexec %s "$@"\n' "$tmp/jq-argv" "$(command -v jq)" \
    >"$tmp/spy/jq"
  chmod +x "$tmp/spy/jq"
  PATH=$tmp/spy:$PATH WS_SERVE_TOKEN='t0k/en s3cret' run_servitor --demo --listen 127.0.0.1:0
  assert_equal "$url" "${url%%\?*}?token=t0k%2Fen%20s3cret"
  run cat "$tmp/jq-argv"
  assert_success
  refute_output --partial s3cret
  run grep -c s3cret "$tmp/err"
  assert_output 0
}

@test "servitor: says what the event stream accepts" {
  run_servitor --demo --listen 127.0.0.1:0
  local hp=${url#http://}
  hp=${hp%/}
  run grep -c "takes browsers on this page's origin (http://$hp) and clients that are not browsers (OBS, ws-cat); pages of other sites are refused" "$tmp/err"
  assert_output 1
}

@test "servitor: a password in --broker's URL is warned about; --broker - with AMQP_URL is not" {
  run_servitor_broker() {
    env --default-signal=INT timeout 60 "$SERVITOR" --demo --listen 127.0.0.1:0 "$@" \
      >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    wait_for_line "$tmp/err" 'servitor: (info|warning|error)' 20
  }
  run_servitor_broker --broker amqp://guest:hunter2@127.0.0.1:1/
  run grep -c "warning: --broker: the URL's password can be read by every user" "$tmp/err"
  assert_output 1
  teardown
  AMQP_URL=amqp://guest:hunter2@127.0.0.1:1/ run_servitor_broker --broker -
  run grep -c "servitor: warning" "$tmp/err"
  assert_output 0
}

@test "servitor: ws-serve's log is copied to a file only until it listens; the terminal still sees it" {
  mkdir -m 700 "$tmp/t"
  TMPDIR=$tmp/t run_servitor --demo --listen 127.0.0.1:0 --interval 0.1
  local d
  d=$(echo "$tmp"/t/servitor.*)
  run stat -c %a "$d"
  assert_output 700
  local before
  before=$(wc -l <"$d/ws-serve.log")
  local i
  for i in $(seq 1 10); do
    timeout 10 "$BIN/ws-cat" --count 1 "ws://${url#http://}" >/dev/null
  done
  wait_for_line "$tmp/err" 'client 10: disconnected' || cat "$tmp/err"
  run wc -l "$d/ws-serve.log"
  assert_output "$before $d/ws-serve.log"
  kill -TERM "$(pgrep -P "$pid" | head -1)"
  wait_pid "$pid" 15
  run test -e "$d"
  assert_failure
}
