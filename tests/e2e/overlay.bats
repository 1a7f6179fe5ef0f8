#!/usr/bin/env bats
# The overlay in a real browser (tests/browser, node --test) and scripts/servitor, the main job in
# one command: the URL it prints, the page served, events flowing, and every part stopped by Ctrl-C.

load helpers
bats_require_minimum_version 1.5.0

SERVITOR=$ROOT/scripts/servitor

setup() {
  tmp=$(mktemp -d)
  pid=""
  rmq=""
}

teardown() {
  if [ -n "$pid" ] && ours "$pid"; then
    kill_ours -TERM "$pid"
    wait_pid "$pid" 10 || kill_ours -KILL "$pid"
  fi
  kill_ours ${blocker:-}
  [ -n "${rmq:-}" ] && timeout 60 "$ROOT/tests/rabbitmq" stop "$rmq" >/dev/null 2>&1
  rm -rf "$tmp"
}

# run_servitor ARGS...: starts servitor in the background with SIGINT at its default action (a
# background job of a script starts with SIGINT ignored, which bash cannot trap), stdout in
# $tmp/out and stderr in $tmp/err; sets pid and url (once it printed the URL).
run_servitor() {
  env --default-signal=INT timeout 60 "$SERVITOR" "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  wait_for_line "$tmp/out" '^http://' 30 || { cat "$tmp/err" >&2; ps -ef --forest >&2; return 1; }
  url=$(head -1 "$tmp/out")
}

# parts: the pids of the pipeline parts: `timeout` is $pid, the script its child, the parts the
# script's children.
parts() {
  pgrep -P "$(pgrep -P "$pid" | head -1)"
}

# gone PID...: fails, naming it, if any of the processes still runs.
gone() {
  local c
  for c in "$@"; do
    if kill -0 "$c" 2>/dev/null; then
      echo "process $c ($(cat "/proc/$c/comm" 2>/dev/null)) still runs" >&2
      return 1
    fi
  done
}

# stop_servitor SIGNAL: signals the script (not `timeout`), waits; sets status.
stop_servitor() {
  local script
  script=$(pgrep -P "$pid" | head -1)
  kill "-$1" "$script"
  wait_pid "$pid" 15
  wait "$pid"
  status=$?
}

# The browser tests in three groups, each within one test's time (BATS_TEST_TIMEOUT).
@test "overlay in chromium: the queue and its rules, its theme, pages of other origins" {
  browser_tests overlay.test.js cross-origin.test.js
  [ -s "$SERVITOR_TEST_OUTPUT/theme-1-cheer.png" ]
}

@test "overlay in chromium: the streamer's view: sizes, words, pacing, sounds, speech, mistakes" {
  browser_tests streamer-layout.test.js streamer.test.js
  [ -s "$SERVITOR_TEST_OUTPUT/size-800x600-cheer.png" ]
}

@test "overlay in chromium: resume after reloads and restarts, rooms, what another site can do" {
  browser_tests resume.test.js rooms.test.js security.test.js
}

@test "every tests/browser/*.test.js runs in one of the groups (here and in desk.bats)" {
  local f missing=()
  for f in "$ROOT"/tests/browser/*.test.js; do
    grep -qE "browser_tests .*\b$(basename "$f")\b" "$BATS_TEST_FILENAME" "$ROOT/tests/e2e/desk.bats" ||
      missing+=("$(basename "$f")")
  done
  [ ${#missing[@]} -eq 0 ] || { echo "not run by any test: ${missing[*]}" >&2; return 1; }
}

@test "servitor: --help and --version exit 0; usage errors exit 2 with nothing on stdout" {
  run --separate-stderr timeout 10 "$SERVITOR" --help
  [ "$status" -eq 0 ]
  for o in --demo --interval --repeat --broker --listen --root --no-build --quiet --version; do
    [[ $output == *"$o"* ]] || { echo "--help lacks $o" >&2; return 1; }
  done
  run --separate-stderr timeout 10 "$SERVITOR" --version
  [ "$status" -eq 0 ]
  [[ $output =~ ^servitor\ [0-9] ]]
  run --separate-stderr timeout 10 "$SERVITOR"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ $stderr == *"servitor: error: no CHANNEL"* ]]
  run --separate-stderr timeout 10 "$SERVITOR" --demo --bogus
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ $stderr == *"--bogus: unknown option"* ]]
  run --separate-stderr timeout 10 "$SERVITOR" --demo --interval soon
  [ "$status" -eq 2 ]
}

@test "servitor --demo: prints the URL, serves the page, events flow; SIGINT stops every part" {
  export SERVITOR_BIN=$BIN
  run_servitor --demo --listen 127.0.0.1:0 --interval 0.1
  [[ $url =~ ^http://127\.0\.0\.1:[0-9]+/$ ]]
  wait_for_line "$tmp/out" '/desk/' 10
  [ "$(wc -l <"$tmp/out")" -eq 2 ]
  # The desk's URL, on the same server, with a control token ws-serve accepts.
  local desk
  desk=$(sed -n 2p "$tmp/out")
  [[ $desk =~ ^${url}desk/\?control=[A-Za-z0-9_-]{24}$ ]]
  timeout 10 curl -fsS "$desk" | grep -q 'src="desk.js"'
  run timeout 10 "$PY" "$FAKES/ws_control.py" "ws://${desk#http://}" --expect 1
  assert_output '{"v":1,"control":"hello","allowed":true}'
  # The page and its pieces, from ws-serve.
  timeout 10 curl -fsS "$url" >"$tmp/page"
  grep -q 'src="overlay.js"' "$tmp/page"
  timeout 10 curl -fsS "${url}config.json" | jq -e '.alerts.cheer.text' >/dev/null
  # Events on the stream, valid schema v1 from the demo source.
  timeout 15 "$BIN/ws-cat" --count 5 "ws://${url#http://}" >"$tmp/events"
  [ "$(wc -l <"$tmp/events")" -eq 5 ]
  jq -e -s 'all(.[]; .v == 1 and .source == "trigger" and (.id | length) > 0)' "$tmp/events"
  # Every part runs, and is gone after one SIGINT, which ends the script with status 0.
  local children
  children=$(parts)
  [ "$(echo "$children" | wc -w)" -ge 3 ]
  stop_servitor INT
  [ "$status" -eq 0 ]
  gone $children
  run ! timeout 5 curl -fsS "$url"
  grep -q 'servitor: info: stopping' "$tmp/err"
}

@test "servitor: SIGTERM stops it too; the demo ending leaves the page up" {
  export SERVITOR_BIN=$BIN
  run_servitor --demo --listen 127.0.0.1:0 --interval 0 --repeat 3 -q
  sleep 1
  kill -0 "$pid"  # still serving after the 3 sample events
  timeout 10 curl -fsS "$url" >/dev/null
  local children
  children=$(parts)
  stop_servitor TERM
  [ "$status" -eq 0 ]
  gone $children
  [ ! -s "$tmp/err" ]
}

@test "servitor: a part that fails stops the rest, exit 1" {
  export SERVITOR_BIN=$BIN
  # Something already listens on the port ws-serve is asked for.
  "$PY" -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$tmp/port" &
  blocker=$!
  wait_for_file "$tmp/port" 10
  # An interval of this test's own, so that pgrep finds no other test's twitch-trigger (another
  # suite, or another file, may run a demo at the same time).
  local interval=0.1$((RANDOM % 9000 + 1000))
  run --separate-stderr timeout 30 env --default-signal=INT "$SERVITOR" --demo --interval "$interval" \
    --listen "127.0.0.1:$(cat "$tmp/port")"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *"servitor: error:"* ]]
  run ! pgrep -f "twitch-trigger --random --repeat 0 --interval $interval\$"
}

# stub_bin DIR: a bin directory with the real ws-serve and stand-ins for the Twitch listeners,
# which record their arguments in DIR and print one event every 0.1 s (bounded) until stopped.
stub_bin() {
  local dir=$1 name
  mkdir -p "$dir"
  ln -s "$BIN/ws-serve" "$dir/ws-serve"
  for name in twitch-irc twitch-eventsub; do
    cat >"$dir/$name" <<EOF
#!/bin/bash
trap 'exit 0' TERM
echo "\$@" >"$dir/$name.args"
for i in \$(seq 1 600); do
  printf '{"v":1,"type":"follow","id":"$name-%d","source":"irc","at":"2026-03-01T18:04:12.551Z","user":{"login":"u"}}\n' "\$i"
  sleep 0.1
done
EOF
    chmod +x "$dir/$name"
  done
}

@test "servitor CHANNEL: twitch-irc alone without twitch-auth" {
  stub_bin "$tmp/bin"
  export SERVITOR_BIN=$tmp/bin
  run_servitor --listen 127.0.0.1:0 chan_one chan_two
  timeout 15 "$BIN/ws-cat" --count 3 "ws://${url#http://}" >"$tmp/events"
  [ "$(jq -r '.id' "$tmp/events" | grep -c '^twitch-irc-')" -eq 3 ]
  run cat "$tmp/bin/twitch-irc.args"
  assert_output "-- chan_one chan_two"
  [ ! -e "$tmp/bin/twitch-eventsub.args" ]
  grep -q 'no stored Twitch token' "$tmp/err"
  local children
  children=$(parts)
  stop_servitor INT
  [ "$status" -eq 0 ]
  gone $children
}

@test "servitor CHANNEL: with a token stored by twitch-auth, twitch-eventsub runs instead of twitch-irc" {
  stub_bin "$tmp/bin"
  # A stored token: twitch-auth token prints it, validate succeeds (servitor asks both).
  printf '#!/bin/sh\ncase $1 in token) echo tok-stub ;; validate) ;; *) exit 1 ;; esac\n' >"$tmp/bin/twitch-auth"
  chmod +x "$tmp/bin/twitch-auth"
  export SERVITOR_BIN=$tmp/bin
  run_servitor --listen 127.0.0.1:0 chan_one
  timeout 15 "$BIN/ws-cat" --count 20 "ws://${url#http://}" >"$tmp/events"
  run jq -r '.id' "$tmp/events"
  assert_line --regexp '^twitch-eventsub-'
  refute_line --regexp '^twitch-irc-'
  run cat "$tmp/bin/twitch-eventsub.args"
  assert_output "--channel chan_one"
  assert [ ! -e "$tmp/bin/twitch-irc.args" ]
  grep -q 'a stored Twitch token: twitch-eventsub alone' "$tmp/err"
  local children
  children=$(parts)
  [ "$(echo "$children" | wc -w)" -ge 3 ]
  stop_servitor INT
  [ "$status" -eq 0 ]
  gone $children
}

@test "servitor CHANNEL: twitch-irc failing ends servitor with status 1" {
  mkdir -p "$tmp/bin"
  ln -s "$BIN/ws-serve" "$tmp/bin/ws-serve"
  printf '#!/bin/sh\nsleep 1\necho "twitch-irc: error: login refused" >&2\nexit 3\n' >"$tmp/bin/twitch-irc"
  chmod +x "$tmp/bin/twitch-irc"
  SERVITOR_BIN=$tmp/bin run --separate-stderr timeout 30 env --default-signal=INT "$SERVITOR" \
    --listen 127.0.0.1:0 somechannel
  [ "$status" -eq 1 ]
  [[ $output =~ ^http:// ]]
  # The cause first, though ws-serve ended too (the end of its input).
  [ "$(grep -m1 'servitor: error:' <<<"$stderr")" = "servitor: error: twitch-irc ended (exit status 3)" ]
}

@test "servitor --broker: the stream goes through RabbitMQ (amqp-pub, amqp-sub) to ws-serve" {
  [ -x "$ROOT/tests/rabbitmq" ] || skip "no tests/rabbitmq"
  if [ ! -x "$BIN/amqp-pub" ] || [ ! -x "$BIN/amqp-sub" ]; then skip "amqp-pub or amqp-sub not built"; fi
  chmod 755 "$tmp"  # the node runs as the rabbitmq user
  rmq=$tmp/rabbitmq
  timeout 90 "$ROOT/tests/rabbitmq" start "$rmq" >"$tmp/rmq.env"
  . "$tmp/rmq.env"
  export SERVITOR_BIN=$BIN
  run_servitor --demo --broker "$AMQP_TEST_URL" --listen 127.0.0.1:0 --interval 0.2
  timeout 20 "$BIN/ws-cat" "ws://${url#http://}" >"$tmp/events" 2>/dev/null &
  local cat_pid=$!
  wait_for_file "$tmp/events" 15
  # A line published straight into the broker reaches the stream: ws-serve reads amqp-sub.
  timeout 10 amqp-publish --url="$AMQP_TEST_URL" -e twitch -r testchannel.follow \
    -b '{"v":1,"type":"follow","id":"via-broker","source":"trigger","at":"2026-03-01T18:04:12.551Z"}'
  wait_for_line "$tmp/events" '"id":"via-broker"' 10
  jq -s -e 'map(select(.source == "trigger" and .id != "via-broker")) | length > 0' "$tmp/events"
  kill "$cat_pid" 2>/dev/null || true
  grep -q 'amqp-sub: info: connected' "$tmp/err"
  local children
  children=$(parts)
  [ "$(echo "$children" | wc -w)" -ge 5 ]
  stop_servitor INT
  [ "$status" -eq 0 ]
  gone $children
}

# fake_checkout DIR MAKE_STATUS: a copy of servitor in a tree whose install-deps and Makefile
# are stand-ins: they record that they ran, print noise, and make "builds" build/bin from $BIN.
fake_checkout() {
  local dir=$1 make_status=$2
  mkdir -p "$dir/scripts"
  cp "$SERVITOR" "$dir/scripts/servitor"
  ln -s "$ROOT/overlay" "$dir/overlay"
  printf '#!/bin/sh\necho ran >"%s/deps.ran"\necho "install-deps noise"\n' "$dir" >"$dir/scripts/install-deps"
  chmod +x "$dir/scripts/install-deps"
  cat >"$dir/Makefile" <<EOF
all:
	@echo ran >"$dir/make.ran"
	@echo "make noise"
	@mkdir -p build/bin && ln -sf "$BIN/ws-serve" "$BIN/twitch-trigger" build/bin/
	@exit $make_status
EOF
}

@test "servitor: installs and builds quietly first, unless SERVITOR_BIN is set; a failed build exits 1" {
  unset SERVITOR_BIN
  fake_checkout "$tmp/tree" 0
  SERVITOR=$tmp/tree/scripts/servitor
  run_servitor --demo --listen 127.0.0.1:0
  [ -e "$tmp/tree/deps.ran" ]
  [ -e "$tmp/tree/make.ran" ]
  run ! grep -q noise "$tmp/out" "$tmp/err"
  timeout 10 curl -fsS "$url" >/dev/null
  stop_servitor INT
  [ "$status" -eq 0 ]

  # With SERVITOR_BIN, nothing is installed or built.
  rm "$tmp/tree/deps.ran" "$tmp/tree/make.ran"
  SERVITOR_BIN=$BIN run_servitor --demo --listen 127.0.0.1:0
  stop_servitor INT
  [ "$status" -eq 0 ]
  [ ! -e "$tmp/tree/deps.ran" ]
  [ ! -e "$tmp/tree/make.ran" ]

  # A failing build: its log's tail on stderr, exit 1, nothing on stdout.
  fake_checkout "$tmp/broken" 1
  run --separate-stderr timeout 30 "$tmp/broken/scripts/servitor" --demo --listen 127.0.0.1:0
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ $stderr == *"make noise"* ]]
  [[ $stderr == *"servitor: error: install or build failed"* ]]
}

@test "servitor: with WS_SERVE_TOKEN the printed URL carries it, and the stream needs it" {
  export SERVITOR_BIN=$BIN WS_SERVE_TOKEN='s3cret token&more'
  run_servitor --demo --listen 127.0.0.1:0 --interval 0.1
  [[ $url =~ ^http://127\.0\.0\.1:[0-9]+/\?token=s3cret%20token%26more$ ]]
  wait_for_line "$tmp/out" '/desk/' 10
  [[ $(sed -n 2p "$tmp/out") =~ ^http://127\.0\.0\.1:[0-9]+/desk/\?token=s3cret%20token%26more\&control=[A-Za-z0-9_-]{24}$ ]]
  timeout 15 "$BIN/ws-cat" --count 2 "ws://${url#http://}" >"$tmp/events"
  [ "$(wc -l <"$tmp/events")" -eq 2 ]
  # Without the token: refused (not a timeout: status 124 would be a hang).
  # (ws-cat would take the token from WS_SERVE_TOKEN: not here.)
  run env -u WS_SERVE_TOKEN timeout 10 "$BIN/ws-cat" --count 1 \
    "ws://$(sed -E 's|^http://([^/]+)/.*|\1|' <<<"$url")/"
  assert_failure 3
  stop_servitor INT
  [ "$status" -eq 0 ]
}
