#!/usr/bin/env bats
# Standard output on /dev/full (every write fails with ENOSPC) and on a pipe whose reader has
# gone (EPIPE), for every command: a clear error and exit 1 for the first, exit 0 for the second
# where the man page says a closed downstream is a clean end; never a hang (every run is bounded
# by timeout, whose 124 or 137 fails the test).

load faults-helpers
bats_require_minimum_version 1.5.0

SECRET=s3cr3t-for-the-tests-0123456789

setup_file() { faults_setup_file; }
teardown_file() { faults_teardown_file; }
setup() { faults_setup; }
teardown() { faults_teardown; }

# full CMD...: CMD with stdout on /dev/full and stderr in $T/err, within 30 s.
full() { timeout 30 "$@" >/dev/full 2>"$T/err"; }

# closed CMD...: CMD with stdout on a pipe already closed by its reader, within 30 s.
closed() { timeout 30 "$ROOT/tests/faults/closed-stdout" "$@" 2>"$T/err"; }

# assert_enospc NAME: $T/err says, as NAME's error, that standard output is full.
assert_enospc() {
  run grep -E "^$1: error: .*No space left on device" "$T/err"
  assert_success
}

@test "--help and --version of every command: /dev/full exits 1 saying so, a closed pipe 0" {
  local n=0 c
  for c in "$ROOT"/cmd/*.cc; do
    c=$(basename "$c" .cc)
    for opt in --help --version; do
      run -1 full "$BIN/$c" "$opt"
      assert_enospc "$c"
      run -0 closed "$BIN/$c" "$opt"
    done
    n=$((n + 1))
  done
  [ "$n" -ge 8 ]
}

@test "twitch-trigger: /dev/full exits 1 saying so; a closed pipe ends even an endless run, 0" {
  run -1 full "$BIN/twitch-trigger" raid
  assert_enospc twitch-trigger
  run -1 full "$BIN/twitch-trigger" --repeat 0 --interval 0.05 --random
  assert_enospc twitch-trigger
  run -0 closed "$BIN/twitch-trigger" --repeat 0 --interval 0.05 --random
}

@test "twitch-irc --input: /dev/full exits 1 saying so, a closed pipe 0" {
  printf '%s\r\n' "@badge-info=;badges=;color=;display-name=HarborLights;emotes=;id=fault-input-1;login=harborlights;mod=0;msg-id=raid;msg-param-viewerCount=3;room-id=7;subscriber=0;system-msg=x;tmi-sent-ts=1767225900678;user-id=46;user-type= :tmi.twitch.tv USERNOTICE #maple" >"$T/in.irc"
  run -1 full "$BIN/twitch-irc" --input "$T/in.irc"
  assert_enospc twitch-irc
  run -0 closed "$BIN/twitch-irc" --input "$T/in.irc"
}

# start_irc_fake SCENARIO: the fake Twitch IRC server; sets URL.
start_irc_fake() {
  timeout 60 "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$T/fake.log" --scenario "$1" \
    >"$T/fake.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/fake.out")
  [ -n "$port" ]
  URL=wss://127.0.0.1:$port
}

@test "twitch-irc live: /dev/full exits 1 saying so, a closed pipe 0" {
  start_irc_fake flood
  run -1 full "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" maple
  assert_enospc twitch-irc
  run -0 closed "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" maple
}

@test "ws-cat: /dev/full exits 1 saying so, a closed pipe 0" {
  $PY "$FAKES/ws_server.py" every:0.1,200 >"$T/ws.out" 2>"$T/ws.log" 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/ws.log")
  [ -n "$port" ]
  run -1 full "$BIN/ws-cat" "ws://127.0.0.1:$port/"
  assert_enospc ws-cat
  run -0 closed "$BIN/ws-cat" "ws://127.0.0.1:$port/"
}

@test "amqp-sub: /dev/full exits 1 saying so, a closed pipe 0; both leave the messages queued" {
  amqp_setup
  Q=$T
  T=$BATS_TEST_TMPDIR
  amqp-declare-queue --url "$AMQP_URL" -d -q "$Q-q" >/dev/null
  events 3 | timeout 30 "$BIN/amqp-pub" -e '' -k "$Q-q" 2>"$T/pub.err"
  run -1 full "$BIN/amqp-sub" -e '' -Q "$Q-q"
  assert_enospc amqp-sub
  run -0 closed "$BIN/amqp-sub" -e '' -Q "$Q-q"
  # Still queued, all three (read back without rabbitmqctl, whose start-up is slow).
  run -0 timeout 30 "$BIN/amqp-sub" -q -e '' -Q "$Q-q" --count 3
  run jq -r .id <<<"$output"
  assert_output "$(printf '1\n2\n3')"
}

@test "amqp-pub writes nothing on stdout: /dev/full and a closed pipe change nothing" {
  amqp_setup
  Q=$T
  T=$BATS_TEST_TMPDIR
  amqp-declare-queue --url "$AMQP_URL" -d -q "$Q-q" >/dev/null
  events 2 | full "$BIN/amqp-pub" -e '' -k "$Q-q"
  events 2 3 | closed "$BIN/amqp-pub" -e '' -k "$Q-q"
  run -0 timeout 30 "$BIN/amqp-sub" -q -e '' -Q "$Q-q" --count 4
  run jq -r .id <<<"$output"
  assert_output "$(printf '1\n2\n3\n4')"
}

# seed_token: a token store with a token for "streamer" good for an hour; sets XDG_CONFIG_HOME.
seed_token() {
  export XDG_CONFIG_HOME=$T/cfg
  local store=$XDG_CONFIG_HOME/twitch-servitor exp
  mkdir -p "$store"
  chmod 700 "$store"
  exp=$(date -u -d "@$(( $(date +%s) + 3600 ))" +%Y-%m-%dT%H:%M:%S.000Z)
  printf '{"kind":"user","login":"streamer","user_id":"1","client_id":"cid0123456789","scopes":[],"expires_at":"%s","access_token":"accfaultstdout01","refresh_token":"reffaultstdout01"}\n' \
    "$exp" >"$store/streamer.json"
  chmod 600 "$store/streamer.json"
}

@test "twitch-auth token and list: /dev/full exits 1 saying so, a closed pipe 0" {
  seed_token
  run -1 full "$BIN/twitch-auth" token --login streamer
  assert_enospc twitch-auth
  run -0 closed "$BIN/twitch-auth" token --login streamer
  run -1 full "$BIN/twitch-auth" list
  assert_enospc twitch-auth
  run -0 closed "$BIN/twitch-auth" list
}

FOLLOW='{"subscription":{"id":"sub-1","type":"channel.follow","version":"2","status":"enabled","condition":{}},"event":{"user_id":"1","user_login":"ann","user_name":"Ann","broadcaster_user_id":"777","broadcaster_user_login":"maple","broadcaster_user_name":"Maple","followed_at":"2026-03-01T18:04:12.5Z"}}'

# hook_with_stdout MODE: twitch-hook with stdout on /dev/full (MODE full) or a closed pipe
# (closed); posts one notification, then waits for it to end. Sets HOOK_STATUS.
hook_with_stdout() {
  local mode=$1
  TWITCH_HOOK_SECRET=$SECRET $mode "$BIN/twitch-hook" --listen 127.0.0.1:0 2>"$T/err" 3>&- 7>&- &
  local pid=$!
  PIDS+=($pid)
  local port
  port=$(listen_port "$T/err")
  [ -n "$port" ]
  timeout 20 $PY "$FAKES/eventsub_webhook.py" post --id "fault-$mode-1" --body "$FOLLOW" \
    --port "$port" --secret "$SECRET" >"$T/post" 2>&1 || true
  HOOK_STATUS=0
  wait_pid "$pid" 20
  wait "$pid" || HOOK_STATUS=$?
}

@test "twitch-hook: /dev/full exits 1 saying so; a closed pipe exits 1 (its man page: events lost)" {
  hook_with_stdout full
  [ "$HOOK_STATUS" -eq 1 ]
  assert_enospc twitch-hook
  hook_with_stdout closed
  [ "$HOOK_STATUS" -eq 1 ]
  run grep -E '^twitch-hook: (warning|error): stdout: the reader went away' "$T/err"
  assert_success
}

# start_relay MODE: ws-serve --relay with stdout on /dev/full (full) or a closed pipe (closed),
# its standard input held open on fd 8; one client sends a line. Sets SERVE_PID and PORT.
start_relay() {
  rm -f "$T/in"
  mkfifo "$T/in"
  $1 "$BIN/ws-serve" --listen 127.0.0.1:0 --relay --drain-timeout 2 <"$T/in" 2>"$T/err" 3>&- 7>&- &
  SERVE_PID=$!
  PIDS+=($SERVE_PID)
  exec 8>"$T/in"
  PORT=$(listen_port "$T/err")
  [ -n "$PORT" ]
  echo relayed | timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" 3>&- 7>&- 8>&-
}

@test "ws-serve --relay: /dev/full exits 1 at once, saying so (its man page)" {
  start_relay full
  wait_pid "$SERVE_PID" 10
  wait_status "$SERVE_PID"
  assert_failure 1
  assert_enospc ws-serve
  exec 8>&-
}

@test "ws-serve --relay: a closed pipe stops relaying only; broadcasting goes on, then exit 0" {
  start_relay closed
  timeout 10 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/" >"$T/got" 2>"$T/cat.err" 3>&- 7>&- 8>&- &
  local cat=$!
  PIDS+=($cat)
  wait_for_line "$T/err" 'client 2 .*: connected' 10
  echo '{"v":1,"type":"chat","id":"after-relay"}' >&8
  wait_pid "$cat" 10
  run cat "$T/got"
  assert_output --partial after-relay
  exec 8>&-
  wait_pid "$SERVE_PID" 10
  wait_status "$SERVE_PID"
  assert_success
}
