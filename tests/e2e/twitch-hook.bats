#!/usr/bin/env bats
# twitch-hook end to end, driven by a client that signs its requests as Twitch does
# (tests/fakes/eventsub_webhook.py).

load helpers
bats_require_minimum_version 1.5.0

SECRET=s3cr3t-for-the-tests-0123456789

setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
}

teardown() {
  local p
  # TERM first: twitch-hook ends as it would under a service manager.
  kill_ours "${PIDS[@]}" ${HOOK_PID:-}
  for p in "${PIDS[@]}" ${HOOK_PID:-}; do wait_pid "$p" 10 || kill_ours -9 "$p"; done
}

# start_hook ARGS...: twitch-hook on a free port; stdout in $T/out, stderr in $T/log.
start_hook() {
  # Emptied here, not only by the background redirection: a restart would otherwise read the
  # previous run's port before the new process has truncated the log.
  : >"$T/log"
  TWITCH_HOOK_SECRET=$SECRET timeout 120 "$BIN/twitch-hook" --listen 127.0.0.1:0 "$@" \
    >"$T/out" 2>"$T/log" 3>&- 7>&- &
  HOOK_PID=$!
  PORT=$(listen_port "$T/log")
  [ -n "$PORT" ] && [ "$PORT" -ne 0 ]
}

# hook CMD ARGS...: the signing client against the server.
hook() { timeout 60 $PY "$FAKES/eventsub_webhook.py" "$@" --port "$PORT" --secret "$SECRET"; }

health() { curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"; }

# stop_hook: SIGTERM, and twitch-hook must exit 0.
stop_hook() {
  kill -TERM "$HOOK_PID"
  wait_pid "$HOOK_PID" 20
  wait "$HOOK_PID"
}

FOLLOW='{"subscription":{"id":"sub-1","type":"channel.follow","version":"2","status":"enabled","condition":{}},"event":{"user_id":"1","user_login":"ann","user_name":"Ann","broadcaster_user_id":"777","broadcaster_user_login":"maple","broadcaster_user_name":"Maple","followed_at":"2026-03-01T18:04:12.5Z"}}'

@test "twitch-hook: --help, --version, and a secret of 10 to 100 ASCII characters or exit 2" {
  run "$BIN/twitch-hook" --help
  assert_success
  assert_output --partial --secret-file
  run "$BIN/twitch-hook" --version
  assert_success
  run env -u TWITCH_HOOK_SECRET "$BIN/twitch-hook"
  assert_failure 2
  assert_output --partial "no secret"
  run env TWITCH_HOOK_SECRET=short "$BIN/twitch-hook"
  assert_failure 2
  assert_output --partial "10 to 100 characters"
  printf '%0101d\n' 0 >"$T/long"
  run env -u TWITCH_HOOK_SECRET "$BIN/twitch-hook" --secret-file "$T/long"
  assert_failure 2
  run env TWITCH_HOOK_SECRET="$(printf 'abc\tdefghijk')" "$BIN/twitch-hook"
  assert_failure 2
  assert_output --partial "ASCII"
}

@test "twitch-hook: the verification challenge is answered 200 text/plain with the bare challenge" {
  start_hook
  run hook post --type webhook_callback_verification --show-type \
    --body '{"challenge":"pogchamp-kappa-123","subscription":{"id":"s-9","type":"channel.follow","version":"2","status":"webhook_callback_verification_pending"}}'
  assert_success
  assert_line --index 0 --regexp '^text/plain'
  assert_line --index 1 '200 pogchamp-kappa-123'
  run grep -c 'subscription s-9 (channel.follow): verification answered' "$T/log"
  assert_output 1
  run hook post --type webhook_callback_verification --forge \
    --body '{"challenge":"pogchamp-kappa-123","subscription":{"id":"s-9","type":"channel.follow"}}'
  assert_output --regexp '^403 '
  stop_hook
  run cat "$T/out"
  assert_output ''
}

@test "twitch-hook: a signed notification is written once; forged, stale and future-dated ones are refused" {
  start_hook
  run hook post --id good-1 --body "$FOLLOW"
  assert_output '204 '
  run hook post --id forged-1 --body "$FOLLOW" --forge
  assert_output --regexp '^403 message forged-1: wrong signature'
  run hook post --id nosig-1 --body "$FOLLOW" --omit signature
  assert_output --regexp '^403 no Twitch-Eventsub-Message-Signature'
  run hook post --id stale-1 --body "$FOLLOW" --age 601
  assert_output --regexp '^403 .*more than 10 minutes old'
  run hook post --id future-1 --body "$FOLLOW" --age -601
  assert_output --regexp '^403 .*more than 10 minutes ahead'
  run hook post --id recent-1 --body "$FOLLOW" --age 590
  assert_output '204 '
  run hook post --id good-1 --body "$FOLLOW"
  assert_output '204 '
  run health
  assert_output --partial '"accepted":2,"duplicates":1'
  assert_output --partial '"signature":2,"timestamp":2'
  stop_hook
  run jq -c '[.id, .type, .source, .user.login]' "$T/out"
  assert_output "$(printf '%s\n' '["good-1","follow","webhook","ann"]' '["recent-1","follow","webhook","ann"]')"
  run grep -c 'refused (403)' "$T/log"
  assert_output 4
}

@test "twitch-hook: a 2xx keeps the connection open; a refusal says Connection: close and closes" {
  start_hook
  run hook post --show-connection --body "$FOLLOW"
  assert_success
  assert_line --index 0 'connection: (none)'
  assert_line --index 1 --regexp '^2[0-9][0-9] '
  run hook post --show-connection --forge --body "$FOLLOW"
  assert_line --index 0 'connection: close'
  assert_line --index 1 --regexp '^403 '
  run curl -s -i --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_success
  refute_output --regexp $'connection: close\r'
  run curl -s -i --max-time 5 "http://127.0.0.1:$PORT/elsewhere"
  assert_output --regexp $'connection: close\r'
  assert_output --partial 'not found'
  stop_hook
}

# Twitch's sender keeps its connections and sends one request at a time on each.
@test "twitch-hook: sequential POSTs on one keep-alive connection are each answered 2xx on it and written" {
  start_hook
  run hook keepalive --count 3 --prefix ka
  assert_success
  assert_output "$(printf '204 connection: (none)\n%.0s' 1 2 3)"
  run health
  assert_output --partial '"pipelined_closed":0'
  stop_hook
  run jq -r .id "$T/out"
  assert_output "$(printf '%s\n' ka-000001 ka-000002 ka-000003)"
}

@test "twitch-hook: every golden EventSub payload gives its expected events" {
  start_hook
  run hook golden "$DATA"/eventsub/*.json
  assert_success
  stop_hook
  # The timestamp is the delivery's own (now) and the source "webhook": "at" and "source" aside,
  # the events are the golden ones, in order.
  local f
  for f in "$DATA"/eventsub/*.json; do cat "${f%.json}.ndjson"; done |
    jq -c 'del(.at, .source)' >"$T/expected"
  jq -c 'del(.at, .source)' "$T/out" >"$T/got"
  run diff "$T/expected" "$T/got"
  assert_success
  run jq -r .source "$T/out"
  refute_output --partial eventsub
  [ "$(wc -l <"$T/got")" -gt 40 ]
}

@test "twitch-hook: missing headers and garbage are 400, an oversized body 413, no length 411, other methods 405, other paths 404" {
  start_hook
  run hook post --body "$FOLLOW" --omit message-id
  assert_output '400 no Twitch-Eventsub-Message-Id'
  run hook post --body "$FOLLOW" --omit message-timestamp
  assert_output '400 no Twitch-Eventsub-Message-Timestamp'
  run hook post --body "$FOLLOW" --omit message-type
  assert_output '400 no Twitch-Eventsub-Message-Type'
  run hook post --body 'not json {{{'
  assert_output --regexp '^400 message .*: body is not a JSON object'
  run hook post --body '{"subscription":{"type":"channel.follow"}}'
  assert_output --regexp '^400 '
  run hook big --length 2000000 --send 70000
  assert_output --regexp '^413 '
  run hook raw --data 'GARBAGE\r\n\r\n'
  run hook raw --data 'POST /eventsub HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'
  assert_output --regexp '^411 '
  refute_output --regexp '^2'
  run hook post --method GET --body ''
  assert_output --regexp '^405 '
  run hook post --path /other --body "$FOLLOW"
  assert_output --regexp '^404 '
  run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_output 200
  run health
  assert_output --partial '"malformed":6,"too_large":1,"method":1,"path":1'
  stop_hook
  run cat "$T/out"
  assert_output ''
}

@test "twitch-hook: a slow body is closed after --request-timeout, and the server goes on" {
  start_hook --request-timeout 1
  run hook slow --every 0.3
  assert_output --regexp '^closed after [12]$'
  run hook post --id after-slow --body "$FOLLOW"
  assert_output '204 '
  stop_hook
}

@test "twitch-hook: headers that never end are closed after --request-timeout" {
  start_hook --request-timeout 1
  run timeout 20 $PY -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
start = time.monotonic()
s.sendall(b"POST /eventsub HTTP/1.1\r\nHost: x\r\n")
s.settimeout(10)
print("closed" if s.recv(100) == b"" else "answered", round(time.monotonic() - start))
' "$PORT"
  assert_output --regexp '^closed [12]$'
  run hook post --id after-slow-headers --body "$FOLLOW"
  assert_output '204 '
  stop_hook
}

@test "twitch-hook: 200 connections at once are each answered, each event written once" {
  start_hook
  run hook many --count 200 --prefix many
  assert_output '204 200'
  stop_hook
  run sh -c "jq -r .id '$T/out' | sort -u | wc -l"
  assert_output 200
  run wc -l <"$T/out"
  assert_output 200
}

@test "twitch-hook: --max-connections bounds the connections open at once" {
  start_hook --max-connections 5
  run hook many --count 20 --prefix capped
  refute_output '204 20'
  assert_output --partial '204'
  run grep -c 'connection refused: --max-connections reached' "$T/log"
  assert_success
  stop_hook
}

@test "twitch-hook: stdout stalled: 503 until the queue drains, then 2xx, every event written once" {
  mkfifo "$T/pipe"
  # A reader that takes nothing until $T/go exists, behind a pipe made as small as Linux allows.
  timeout 60 $PY -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ
while not os.path.exists(sys.argv[2]): time.sleep(0.02)
with open(sys.argv[3], "wb") as out:
    while True:
        b = os.read(fd, 65536)
        if not b: break
        out.write(b)
' "$T/pipe" "$T/go" "$T/out.final" &
  PIDS+=($!)
  local reader=$!
  TWITCH_HOOK_SECRET=$SECRET timeout 120 "$BIN/twitch-hook" --listen 127.0.0.1:0 \
    --max-queue 2000 >"$T/pipe" 2>"$T/log" &
  HOOK_PID=$!
  PORT=$(listen_port "$T/log")
  hook sequence --count 60 --prefix stall --ready "$T/got503" >"$T/seq" &
  local seq=$!
  PIDS+=($seq)
  wait_for_file "$T/got503" 20
  run health
  assert_output --partial '"busy":'
  refute_output --partial '"busy":0'
  touch "$T/go"
  wait "$seq"
  run cat "$T/seq"
  assert_output --regexp '^sent 60 retries [1-9]'
  stop_hook
  wait "$reader"
  run sh -c "jq -r .id '$T/out.final' | sort | uniq -c | awk '\$1 != 1' | wc -l"
  assert_output 0
  run wc -l <"$T/out.final"
  assert_output 60
}

@test "twitch-hook: a revocation is answered 2xx and its reason logged" {
  start_hook
  run hook post --type revocation \
    --body '{"subscription":{"id":"s-7","type":"channel.cheer","version":"1","status":"authorization_revoked"}}'
  assert_output '204 '
  run grep 'subscription s-7 (channel.cheer) revoked: authorization_revoked' "$T/log"
  assert_success
  run health
  assert_output --partial '"revocations":1'
  stop_hook
  run cat "$T/out"
  assert_output ''
}

@test "twitch-hook: SIGTERM answers the request in flight, writes its event, refuses new ones, exits 0" {
  start_hook
  hook inflight --id in-flight-1 --ready "$T/ready" --go "$T/go" >"$T/inflight" &
  local client=$!
  PIDS+=($client)
  wait_for_file "$T/ready" 10
  # The client has sent part of its request; SIGTERM once twitch-hook has read its headers.
  wait_until 30 bash -c "curl -s --max-time 5 'http://127.0.0.1:$PORT/healthz' | grep -q '\"in_flight\":1'"
  kill -TERM "$HOOK_PID"
  wait_for_line "$T/log" 'stopping: 1 requests in flight' 10
  run hook post --id too-late --body "$FOLLOW"
  refute_output --regexp '^2'
  touch "$T/go"
  wait "$client"
  run cat "$T/inflight"
  assert_output '204 '
  wait_pid "$HOOK_PID" 10
  wait_status "$HOOK_PID"
  assert_success
  run jq -r .id "$T/out"
  assert_output 'in-flight-1'
}

@test "twitch-hook: a SIGTERM just before the loop waits, with nothing in flight, ends it at once" {
  # raise-in-poll.so: once $RAISE_AT exists, the next poll(2) raises SIGTERM just before it
  # waits (until then each wait ends within 50 ms), so the handler's wake-up is taken by that
  # very wait: the narrowest window of a real signal. Without a look at the end after the stop,
  # the loop waited again, for the next connection or lws's 30 s timer.
  cat >"$T/raise.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
int poll(struct pollfd *fds, nfds_t n, int timeout) {
  static int (*real)(struct pollfd *, nfds_t, int);
  static int raised;
  const char *at = getenv("RAISE_AT");
  if (!real) real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
  if (!raised && at && access(at, F_OK) == 0) {
    raised = 1;
    raise(SIGTERM);
  } else if (!raised && (timeout < 0 || timeout > 50)) {
    timeout = 50;  /* a wait ends every 50 ms until then, as if something had happened */
  }
  return real(fds, n, timeout);
}
C
  cc -shared -fPIC -o "$T/raise-in-poll.so" "$T/raise.c" -ldl 2>"$T/cc.err" ||
    skip "no cc for a preloaded library: $(cat "$T/cc.err")"
  : >"$T/log"
  # A sanitizer's runtime wants to be the first library; this one replaces poll(2) only.
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    LD_PRELOAD=$T/raise-in-poll.so RAISE_AT=$T/raise TWITCH_HOOK_SECRET=$SECRET \
    timeout 120 "$BIN/twitch-hook" --listen 127.0.0.1:0 >"$T/out" 2>"$T/log" &
  HOOK_PID=$!
  PORT=$(listen_port "$T/log")
  touch "$T/raise"
  wait_for_line "$T/log" 'signal 15: stopping: 0 requests in flight' 10
  wait_pid "$HOOK_PID" 5
  wait_status "$HOOK_PID"
  assert_success
}

@test "twitch-hook: --state-file keeps the message ids across a restart (mode 0600)" {
  start_hook --state-file "$T/state"
  run hook post --id kept-1 --body "$FOLLOW"
  assert_output '204 '
  stop_hook
  start_hook --state-file "$T/state"
  run stat -c %a "$T/state"
  assert_output 600
  run hook post --id kept-1 --body "$FOLLOW"
  assert_output '204 '
  run hook post --id kept-2 --body "$FOLLOW"
  assert_output '204 '
  run health
  assert_output --partial '"accepted":1,"duplicates":1'
  stop_hook
  run jq -r .id "$T/out"
  assert_output 'kept-2'
}

@test "twitch-hook: --tls-cert/--tls-key serve HTTPS; a plain request to it gets no answer" {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 1 \
    -subj /CN=127.0.0.1 2>/dev/null
  start_hook --tls-cert "$T/c.pem" --tls-key "$T/k.pem"
  run hook post --id over-tls --body "$FOLLOW" --tls "$T/c.pem"
  assert_output '204 '
  run hook post --id over-tls --body "$FOLLOW" --tls "$T/c.pem" --forge
  assert_output --regexp '^403 '
  run hook post --id plain --body "$FOLLOW"
  refute_output --regexp '^2'
  run env -u TWITCH_HOOK_SECRET "$BIN/twitch-hook" --tls-cert "$T/c.pem" --secret-file /dev/null
  assert_failure 2
  stop_hook
  run jq -r .id "$T/out"
  assert_output over-tls
}

# subscribe_fakes: a test CA, the fake id.twitch.tv with an app token stored by twitch-auth app,
# and the fake Helix (tests/fakes/helix.py) that sends the verification challenge to the
# callback over HTTPS, trusting that CA; sets AUTH and API.
subscribe_fakes() {
  make_test_ca "$T"
  export XDG_CONFIG_HOME=$T/cfg
  unset TWITCH_TOKEN
  : >"$T/id.out"
  : >"$T/helix.out"
  timeout 120 "$PY" "$FAKES/twitch_id.py" --cert "$T/server.pem" --key "$T/server.key" \
    --client-id cid0123456789 --client-secret csecret0123456789abcdef --access-token accuser0001 \
    >"$T/id.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  AUTH=https://127.0.0.1:$(listen_port "$T/id.out")/oauth2
  timeout 120 "$PY" "$FAKES/helix.py" --cert "$T/server.pem" --key "$T/server.key" \
    --client-id cid0123456789 --accept-prefix app=app --accept-prefix acc=user:141981764 \
    --user maplecrate:777000222:MapleCrate --callback-cafile "$T/ca.pem" --log "$T/helix.log" \
    "$@" >"$T/helix.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  API=https://127.0.0.1:$(listen_port "$T/helix.out")/helix
  printf 'csecret0123456789abcdef\n' >"$T/csecret"
  timeout 20 "$BIN/twitch-auth" app --auth-url "$AUTH" --cacert "$T/ca.pem" \
    --client-id cid0123456789 --client-secret-file "$T/csecret" -q >/dev/null
}

# stop_fakes: ends the fakes of subscribe_fakes (teardown would kill them with -9, noisily).
stop_fakes() {
  local p
  for p in "${PIDS[@]}"; do kill_ours "$p"; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

# enabled N: the fake Helix enabled N subscriptions after their challenge was answered.
enabled() { [ "$(grep -c ' -> enabled$' "$T/helix.log")" -eq "$1" ]; }

# free_port: a port that is free now (the callback URL must name the port before twitch-hook
# listens on it; tests/free-port).
free_port() {
  "$ROOT/tests/free-port"
}

@test "twitch-hook: --subscribe-for creates the default subscriptions once listening; each challenge is answered and the subscription enabled" {
  subscribe_fakes
  local port
  port=$(free_port)
  TWITCH_HOOK_SECRET=$SECRET timeout 120 "$BIN/twitch-hook" --listen "127.0.0.1:$port" \
    --tls-cert "$T/server.pem" --tls-key "$T/server.key" --subscribe-for maplecrate \
    --callback "https://127.0.0.1:$port/eventsub" --client-id cid0123456789 \
    --auth-url "$AUTH" --api-url "$API" --cacert "$T/ca.pem" >"$T/out" 2>"$T/log" 3>&- 7>&- &
  HOOK_PID=$!
  wait_for_line "$T/log" 'subscribed to every type for maplecrate' 20
  wait_until 10 enabled 8
  run grep -c 'verification answered' "$T/log"
  assert_output 8
  run grep -c '^POST /helix/eventsub/subscriptions -> 202$' "$T/helix.log"
  assert_output 8
  run grep -c 'failed' "$T/helix.log"
  assert_output 0
  # Listening came first, then the subscriptions; the condition names the broadcaster.
  run grep -n -m1 -E 'listening on|subscribing' "$T/log"
  assert_output --partial 'listening on'
  run env XDG_CONFIG_HOME="$T/cfg" "$BIN/twitch-subs" list --app --client-id cid0123456789 \
    --auth-url "$AUTH" --api-url "$API" --cacert "$T/ca.pem" --status enabled -q
  assert_success
  assert_equal "${#lines[@]}" 8
  assert_line --index 0 --partial '"type":"channel.follow","version":"2","condition":{"broadcaster_user_id":"777000222","moderator_user_id":"777000222"}'
  assert_line --index 0 --partial "\"callback\":\"https://127.0.0.1:$port/eventsub\""
  refute_output --partial "$SECRET"
  run grep -F "$SECRET" "$T/log"
  assert_failure
  stop_hook
  # A second run finds them there (409): fine, nothing missing.
  TWITCH_HOOK_SECRET=$SECRET timeout 120 "$BIN/twitch-hook" --listen "127.0.0.1:$port" \
    --tls-cert "$T/server.pem" --tls-key "$T/server.key" --subscribe-for maplecrate \
    --types follow,raid --callback "https://127.0.0.1:$port/eventsub" \
    --client-id cid0123456789 --auth-url "$AUTH" --api-url "$API" --cacert "$T/ca.pem" \
    >"$T/out" 2>"$T/log" 3>&- 7>&- &
  HOOK_PID=$!
  wait_for_line "$T/log" 'subscribed to every type for maplecrate' 20
  run grep -c 'subscribed channel.follow v2: exists already' "$T/log"
  assert_output 1
  run grep -c 'subscribed channel.raid v1: [0-9a-f-]* (webhook_callback_verification_pending)' "$T/log"
  assert_output 1
  stop_hook
  stop_fakes
}

@test "twitch-hook: --subscribe-for errors: a user token, an unknown channel, no callback (exit 2), a 403 names the scope and the server goes on" {
  subscribe_fakes --accept-prefix app=app+bits:read
  local common=(--auth-url "$AUTH" --api-url "$API" --cacert "$T/ca.pem" --listen 127.0.0.1:0)
  TWITCH_TOKEN=accuser0001 TWITCH_HOOK_SECRET=$SECRET run timeout 20 "$BIN/twitch-hook" \
    "${common[@]}" --subscribe-for maplecrate --callback https://h.example/eventsub
  assert_failure 2
  assert_output --partial "twitch-hook: error: --subscribe-for: TWITCH_TOKEN is a user token; webhook subscriptions need an app token"
  TWITCH_HOOK_SECRET=$SECRET run timeout 20 "$BIN/twitch-hook" "${common[@]}" \
    --subscribe-for nosuchuser --callback https://h.example/eventsub --client-id cid0123456789
  assert_failure 1
  assert_output --partial 'twitch-hook: error: --subscribe-for nosuchuser: GET /users: no Twitch user has the login "nosuchuser"'
  TWITCH_HOOK_SECRET=$SECRET run timeout 20 "$BIN/twitch-hook" "${common[@]}" \
    --subscribe-for maplecrate --client-id cid0123456789
  assert_failure 2
  assert_output "twitch-hook: error: --subscribe-for: needs --callback URL, the public address Twitch posts to"
  TWITCH_HOOK_SECRET=$SECRET run timeout 20 "$BIN/twitch-hook" "${common[@]}" --callback https://h/
  assert_failure 2
  assert_output "twitch-hook: error: --callback and --types go with --subscribe-for"
  TWITCH_HOOK_SECRET=$SECRET run timeout 20 "$BIN/twitch-hook" "${common[@]}" \
    --subscribe-for maplecrate --callback https://h/ --client-id cid0123456789 --types follow,nope
  assert_failure 2
  assert_output --partial 'twitch-hook: error: --types: unknown type "nope"'
  # The broadcaster granted bits:read only: follow gets 403, cheer is created; the server serves.
  TWITCH_HOOK_SECRET=$SECRET timeout 120 "$BIN/twitch-hook" "${common[@]}" \
    --subscribe-for maplecrate --types follow,cheer --callback https://127.0.0.1:1/eventsub \
    --client-id cid0123456789 >"$T/out" 2>"$T/log" 3>&- 7>&- &
  HOOK_PID=$!
  PORT=$(listen_port "$T/log")
  wait_for_line "$T/log" 'not subscribed for maplecrate: ' 20
  run grep -c 'error: subscribe channel.follow v2: POST .*: HTTP 403: subscription missing proper authorization; channel.follow needs the scope moderator:read:followers' "$T/log"
  assert_output 1
  run grep -c 'subscribed channel.cheer v1: ' "$T/log"
  assert_output 1
  run grep 'not subscribed for maplecrate: ' "$T/log"
  assert_output --partial 'not subscribed for maplecrate: channel.follow'
  run health
  assert_output --partial '"accepted"'
  stop_hook
  stop_fakes
}
