#!/usr/bin/env bats
# scripts/servitor against other users of the machine and odd arguments: channel names checked
# before anything starts, the token kept out of every argv, a warning for a broker password on the
# command line, what the event stream accepts said at start, and ws-serve's log copied to a file
# only until the "listening on" line.

load helpers
bats_require_minimum_version 1.5.0

SERVITOR=$ROOT/scripts/servitor

setup() {
  tmp=$BATS_TEST_TMPDIR
  pid=""
  fakes=()
  export SERVITOR_BIN=$BIN
}

teardown() {
  if [ -n "$pid" ] && ours "$pid"; then
    kill -TERM "$(pgrep -P "$pid" | head -1)" 2>/dev/null
    wait_pid "$pid" 10 || kill_ours -KILL "$pid"
  fi
  kill_ours "${fakes[@]}"
}

# run_servitor ARGS...: servitor in the background, stdout in $tmp/out, stderr in $tmp/err; sets
# pid and url once it printed the URL.
run_servitor() {
  : >"$tmp/out"  # emptied first, in case a test starts it twice (see run_servitor_broker)
  : >"$tmp/err"
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
    # Emptied first: the second run would otherwise find the first one's lines before its own
    # redirection has truncated the file.
    : >"$tmp/out"
    : >"$tmp/err"
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

# eventsub_bin DIR: a bin directory where twitch-auth and twitch-eventsub are the real ones
# pointed at the fakes ($AUTH, $API, $WS, the CA in $tmp), ws-serve the real one, and twitch-irc
# a stand-in that records that it ran.
eventsub_bin() {
  local dir=$1
  mkdir -p "$dir"
  ln -s "$BIN/ws-serve" "$dir/ws-serve"
  printf '#!/bin/sh\nexec "%s" "$@" --auth-url "%s" --cacert "%s"\n' \
    "$BIN/twitch-auth" "$AUTH" "$tmp/ca.pem" >"$dir/twitch-auth"
  printf '#!/bin/sh\nexec "%s" "$@" --auth-url "%s" --api-url "%s" --url "%s" --cacert "%s"\n' \
    "$BIN/twitch-eventsub" "$AUTH" "$API" "$WS" "$tmp/ca.pem" >"$dir/twitch-eventsub"
  printf '#!/bin/sh\necho "$@" >"%s/twitch-irc.args"\nexec sleep 30\n' "$dir" >"$dir/twitch-irc"
  chmod +x "$dir"/twitch-*
}

# eventsub_fakes [ARGS...]: id.twitch.tv (ARGS passed on), EventSub and Helix fakes over TLS;
# sets AUTH, API and WS.
eventsub_fakes() {
  make_test_ca "$tmp"
  : >"$tmp/es.log"
  : >"$tmp/id.out"
  : >"$tmp/es.out"
  "$PY" "$FAKES/twitch_id.py" --cert "$tmp/server.pem" --key "$tmp/server.key" \
    --user maplecrate:777000222 --access-token tok-1 "$@" >"$tmp/id.out" 2>&1 3>&- 7>&- &
  fakes+=($!)
  AUTH=https://127.0.0.1:$(listen_port "$tmp/id.out")/oauth2
  "$PY" "$FAKES/eventsub_ws.py" --cert "$tmp/server.pem" --key "$tmp/server.key" \
    --scenario events --expect 8 --log "$tmp/es.log" >"$tmp/es.out" 2>&1 3>&- 7>&- &
  fakes+=($!)
  WS=wss://127.0.0.1:$(listen_port "$tmp/es.out")/ws
  API=https://127.0.0.1:$(grep -oE 'helix on [^ ]+:[0-9]+' "$tmp/es.out" | sed -E 's/.*:([0-9]+)$/\1/')/helix
}

@test "servitor CHANNEL with a stored login: twitch-eventsub alone, each alert reaches the overlay once" {
  eventsub_fakes
  export XDG_CONFIG_HOME=$tmp/cfg
  mkdir -p -m 700 "$tmp/cfg/twitch-servitor"
  printf '{"kind":"user","login":"maplecrate","user_id":"777000222","client_id":"cid0123456789","scopes":["moderator:read:followers","bits:read","channel:read:redemptions","channel:read:hype_train","user:read:chat"],"expires_at":"%s","access_token":"tok-1","refresh_token":"r"}\n' \
    "$(date -u -d '+4 hours' +%Y-%m-%dT%H:%M:%S.000Z)" >"$tmp/cfg/twitch-servitor/maplecrate.json"
  chmod 600 "$tmp/cfg/twitch-servitor/maplecrate.json"
  eventsub_bin "$tmp/bin"
  SERVITOR_BIN=$tmp/bin run_servitor --listen 127.0.0.1:0 maplecrate
  timeout 20 "$BIN/ws-cat" "ws://${url#http://}" >"$tmp/events" 2>/dev/null 3>&- 7>&- &
  local cat=$!
  wait_for_line "$tmp/es.log" 'sent .* stale-0001' 30
  sleep 1
  kill "$cat"
  run grep -F 'a stored Twitch token: twitch-eventsub alone' "$tmp/err"
  assert_success
  assert [ ! -e "$tmp/bin/twitch-irc.args" ]
  # Every alert of the default types once: follows, chat notices, cheers, redemptions, trains.
  run jq -r 'select(.source == "eventsub") | .id' "$tmp/events"
  assert [ "${#lines[@]}" -gt 30 ]
  run bash -c "jq -r .id '$tmp/events' | sort | uniq -d"
  assert_output ""
  run jq -r 'select(.type == "follow") | .user.login' "$tmp/events"
  assert_output snowdrift_99
}

@test "servitor CHANNEL without a stored login: twitch-irc, and it says that follows need twitch-auth" {
  eventsub_fakes
  export XDG_CONFIG_HOME=$tmp/empty
  eventsub_bin "$tmp/bin"
  SERVITOR_BIN=$tmp/bin run_servitor --listen 127.0.0.1:0 maplecrate
  wait_for_file "$tmp/bin/twitch-irc.args"
  run cat "$tmp/bin/twitch-irc.args"
  assert_output -- "-- maplecrate"
  run grep -F "need 'twitch-auth login --for eventsub'" "$tmp/err"
  assert_success
  run grep -c welcome "$tmp/es.log"
  assert_output 0
}

# A token that was given but does not work stops servitor before anything starts: no anonymous
# twitch-irc, no URL, the reason and the two ways out said.
@test "servitor: TWITCH_TOKEN that Twitch refuses: stops with status 3, no anonymous twitch-irc" {
  eventsub_fakes
  export XDG_CONFIG_HOME=$tmp/empty
  eventsub_bin "$tmp/bin"
  TWITCH_TOKEN=not-a-token SERVITOR_BIN=$tmp/bin run -3 --separate-stderr timeout 60 \
    "$SERVITOR" --listen 127.0.0.1:0 maplecrate
  assert_output ""
  assert [ ! -e "$tmp/bin/twitch-irc.args" ]
  [[ "$stderr" == *"servitor: error: TWITCH_TOKEN does not work (twitch-auth exit status 3): not starting, rather than run twitch-irc anonymously"* ]]
  [[ "$stderr" == *"twitch-auth login --for eventsub"*"unset TWITCH_TOKEN"* ]]
  [[ "$stderr" == *"invalid access token"* ]]
  [[ "$stderr" != *not-a-token* ]]
}

# store_login EXPIRES ACCESS REFRESH: a stored login of maplecrate in $tmp/cfg (XDG_CONFIG_HOME).
store_login() {
  export XDG_CONFIG_HOME=$tmp/cfg
  mkdir -p -m 700 "$tmp/cfg/twitch-servitor"
  local store=$tmp/cfg/twitch-servitor/maplecrate.json
  printf '{"kind":"user","login":"maplecrate","user_id":"777000222","client_id":"cid0123456789","scopes":["moderator:read:followers","bits:read","channel:read:redemptions","channel:read:hype_train","user:read:chat"],"expires_at":"%s","access_token":"%s","refresh_token":"%s"}\n' \
    "$(date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z)" "$2" "$3" >"$store"
  chmod 600 "$store"
}

@test "servitor: a stored login that Twitch refuses: stops with status 3, no anonymous twitch-irc" {
  eventsub_fakes
  store_login '+4 hours' revoked-at-twitch r
  eventsub_bin "$tmp/bin"
  SERVITOR_BIN=$tmp/bin run -3 --separate-stderr timeout 60 "$SERVITOR" --listen 127.0.0.1:0 maplecrate
  assert_output ""
  assert [ ! -e "$tmp/bin/twitch-irc.args" ]
  [[ "$stderr" == *"servitor: error: the stored Twitch login does not work (twitch-auth exit status 3)"* ]]
  [[ "$stderr" != *revoked-at-twitch* ]]
}

@test "servitor: a stored login whose access token expired is refreshed, not taken for a failure" {
  eventsub_fakes --refresh-token ref-stored
  store_login '-1 hour' expired-tok ref-stored
  eventsub_bin "$tmp/bin"
  SERVITOR_BIN=$tmp/bin run_servitor --listen 127.0.0.1:0 maplecrate
  run grep -F 'a stored Twitch token: twitch-eventsub alone' "$tmp/err"
  assert_success
  assert [ ! -e "$tmp/bin/twitch-irc.args" ]
}
