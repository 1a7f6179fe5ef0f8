#!/usr/bin/env bats
# twitch-eventsub against a fake EventSub WebSocket server with the fake Helix in the same process
# (tests/fakes/eventsub_ws.py, tests/fakes/helix.py) and a fake id.twitch.tv that validates and
# refreshes the token (tests/fakes/twitch_id.py), all over TLS with a CA made here.

load helpers
bats_require_minimum_version 1.5.0

CID=cid0123456789
# Every subscription type of the golden files (tests/data/eventsub): 17 subscriptions.
EVERY_TYPE=(--types follow,sub,cheer,raid,redemption,hypetrain,notification,message
  --subscribe stream.online --subscribe channel.shoutout.receive
  --subscribe channel.charity_campaign.donate --subscribe channel.subscription.end)
ALL_SCOPES='"moderator:read:followers","channel:read:subscriptions","bits:read","channel:read:redemptions","channel:read:hype_train","user:read:chat"'

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
  unset TWITCH_TOKEN TWITCH_CLIENT_ID
  FLOG=$BATS_TEST_TMPDIR/fake.log
  OUT=$BATS_TEST_TMPDIR/out
  ERR=$BATS_TEST_TMPDIR/err
  : > "$FLOG"
  PIDS=()
}

teardown() {
  stop_all
}

# stop_all: ends every process the test started (by pid).
stop_all() {
  local p
  kill_ours "${PIDS[@]}"
  for p in "${PIDS[@]}"; do wait_pid "$p" 5 || kill_ours -9 "$p"; done
  PIDS=()
}

# store [SCOPES]: a stored login "maplecrate" (user id 777000222) with SCOPES (JSON strings).
store() {
  local d=$XDG_CONFIG_HOME/twitch-servitor exp
  mkdir -p "$d"
  chmod 700 "$d"
  exp=$(date -u -d "@$(( $(date +%s) + 14400 ))" +%Y-%m-%dT%H:%M:%S.000Z)
  printf '{"kind":"user","login":"maplecrate","user_id":"777000222","client_id":"%s","scopes":[%s],"expires_at":"%s","access_token":"tok-1","refresh_token":"ref-1"}\n' \
    "$CID" "${1:-$ALL_SCOPES}" "$exp" > "$d/maplecrate.json"
  chmod 600 "$d/maplecrate.json"
}

# start_fakes [eventsub_ws.py args...]: the fake id.twitch.tv, EventSub and Helix; sets AUTH,
# WS and API.
start_fakes() {
  : >"$BATS_TEST_TMPDIR/id.out"
  : >"$BATS_TEST_TMPDIR/es.out"
  "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --client-id "$CID" --user maplecrate:777000222 \
    --access-token tok-1 --refresh-token ref-1 > "$BATS_TEST_TMPDIR/id.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/id.out")
  [ -n "$port" ]
  AUTH=https://127.0.0.1:$port/oauth2
  "$PY" "$FAKES/eventsub_ws.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$FLOG" --lifetime 60 "$@" \
    > "$BATS_TEST_TMPDIR/es.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  port=$(listen_port "$BATS_TEST_TMPDIR/es.out")
  [ -n "$port" ]
  WS=wss://127.0.0.1:$port/ws
  port=$(grep -oE 'helix on [^ ]+:[0-9]+' "$BATS_TEST_TMPDIR/es.out" | sed -E 's/.*:([0-9]+)$/\1/')
  [ -n "$port" ]
  API=https://127.0.0.1:$port/helix
}

# es [args...]: twitch-eventsub against the fakes in the background (at $WS$QUERY), stdout in
# $OUT and stderr in $ERR; sets ES.
es() {
  "$BIN/twitch-eventsub" --login maplecrate --auth-url "$AUTH" --api-url "$API" --url "$WS${QUERY:-}" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" > "$OUT" 2> "$ERR" 3>&- 7>&- &
  ES=$!
  PIDS+=($ES)
}

# es_exits STATUS: twitch-eventsub ends on its own within 20 s, with STATUS.
es_exits() {
  wait_pid "$ES" 20 || { echo "twitch-eventsub still runs" >&2; return 1; }
  local rc=0
  wait "$ES" || rc=$?
  [ "$rc" -eq "$1" ] || { echo "exit status $rc, not $1" >&2; return 1; }
}

# stop_es: SIGTERM, then its status in $status.
stop_es() {
  kill -TERM "$ES"
  status=0
  wait "$ES" || status=$?
}

# expected_golden: the events of every golden EventSub file (its webhook form left out), less
# "at" (the fake sends the notifications with the current time), one compact line each, sorted.
golden_events() {
  local f
  for f in "$DATA"/eventsub/*.ndjson; do
    [ "$(basename "$f")" = webhook.ndjson ] && continue
    cat "$f"
  done | jq -cS 'del(.at)' | sort
}

@test "--help and --version; bad --types, --subscribe and --url are usage errors before any connection" {
  run "$BIN/twitch-eventsub" --help
  assert_success
  assert_output --partial '--channel'
  assert_output --partial '--subscribe'
  run "$BIN/twitch-eventsub" --version
  assert_success
  run "$BIN/twitch-eventsub" --types follow,nosuch --login maplecrate
  assert_failure 2
  assert_output --partial "nosuch"
  store
  run "$BIN/twitch-eventsub" --login maplecrate --subscribe 'stream.online:{"broken' \
    --auth-url https://127.0.0.1:1/oauth2
  assert_failure 2
}

@test "a scope the token lacks is named before connecting (status 3)" {
  store '"bits:read"'
  start_fakes
  run "$BIN/twitch-eventsub" --login maplecrate --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --types cheer,follow
  assert_failure 3
  assert_output --partial 'moderator:read:followers'
  run grep -c welcome "$FLOG"
  assert_output 0
}

@test "every supported notification type becomes its events, each once; a resend and a stale one are dropped and counted" {
  store
  start_fakes --scenario events --expect 17
  es "${EVERY_TYPE[@]}" -v
  wait_for_line "$FLOG" 'sent .* stale-0001' 20
  sleep 1
  stop_es
  assert_equal "$status" 0
  run diff <(golden_events) <(jq -cS 'del(.at)' "$OUT" | sort)
  assert_success
  run grep -F 'older than 10 minutes: dropped' "$ERR"
  assert_success
  run grep -E '1 duplicate messages and 1 older than 10 minutes dropped' "$ERR"
  assert_success
  run grep -c inbound "$FLOG"
  assert_output 0
}

@test "several messages in one TCP segment are each read" {
  store
  start_fakes --scenario burst --expect 17
  es "${EVERY_TYPE[@]}"
  wait_for_line "$FLOG" 'sent .* c1000009' 20
  sleep 1
  stop_es
  assert_equal "$status" 0
  run diff <(golden_events) <(jq -cS 'del(.at)' "$OUT" | sort)
  assert_success
}

@test "session_reconnect: the old socket delivers until the new welcome, then it is closed; nothing subscribed again, lost or written twice" {
  store
  start_fakes --scenario reconnect --reconnects 3
  es --types follow
  wait_for_line "$FLOG" 'handovers done' 30
  sleep 0.5
  stop_es
  assert_equal "$status" 0
  # One subscription, made once: the hand-overs moved it.
  run grep -c 'POST /helix/eventsub/subscriptions' "$FLOG"
  assert_output 1
  # Every numbered follow once, in order, none missing.
  local n
  numbered() { jq -r 'select(.id | startswith("n-")) | .user.login' "$OUT" | sed 's/viewer//'; }
  n=$(numbered | sort -n | tail -1)
  assert [ "$n" -gt 3 ]
  run diff <(seq 1 "$n") <(numbered)
  assert_success
  run grep -c '"type":"gap"' "$OUT"
  assert_output 0
  # The 3 old sockets were closed by the client (1000), none by the grace time (4004); the 4th
  # close is the last socket's, at SIGTERM.
  run grep -c 'closed .* code=1000 by=client' "$FLOG"
  assert_output 4
  run grep -c '^4004' "$FLOG"
  assert_output 0
  run grep -c 'reconnected (the subscriptions moved with it)' "$ERR"
  assert_output 3
}

@test "keepalive silence: a fresh session, every subscription created again, and a gap" {
  store
  start_fakes --scenario silence --min-keepalive 1
  QUERY='?keepalive_timeout_seconds=1' es --types follow,cheer
  wait_for_line "$FLOG" 'welcome sess-2' 20
  wait_for_line "$ERR" 'every subscription is in place' 20
  wait_until 10 grep -q '"type":"gap"' "$OUT"
  stop_es
  assert_equal "$status" 0
  run grep -F 'silent for longer than its keepalive' "$ERR"
  assert_success
  run grep -cE 'create .*sess-2' "$FLOG"
  assert_output 2
  run jq -r 'select(.type=="gap") | .source + " " + .channel.id' "$OUT"
  assert_output 'eventsub 777000222'
}

@test "a 409 from an orphaned subscription of a dead session: it is deleted and ours created again" {
  store
  start_fakes --scenario orphan --min-keepalive 1
  QUERY='?keepalive_timeout_seconds=1' es --types follow
  wait_for_line "$ERR" 'subscribed \(' 20
  wait_for_line "$ERR" 'the old subscription is deleted: subscribing again' 20
  wait_for_line "$ERR" 'every subscription is in place' 20
  stop_es
  assert_equal "$status" 0
  run grep -E 'deleting subscription .* bound to the dead session sess-1' "$ERR"
  assert_success
  run grep -E 'DELETE /helix/eventsub/subscriptions' "$FLOG"
  assert_success
}

@test "close codes: 4000, 4005, 4006 and 4002 bring a fresh session; 4001 says it is our bug" {
  store
  local code
  for code in 4000 4001 4002 4005 4006; do
    : > "$FLOG"
    start_fakes --scenario "close:$code"
    es --types follow
    wait_for_line "$FLOG" 'welcome sess-2' 20
    wait_for_line "$ERR" 'every subscription is in place' 20
    wait_until 10 grep -q '"type":"gap"' "$OUT"
    stop_es
    assert_equal "$status" 0
    run grep -F "($code)" "$ERR"
    assert_success
    stop_all
  done
  start_fakes --scenario close:4001
  es --types follow
  wait_for_line "$ERR" '4001' 20
  stop_es
  run grep -F 'a bug in twitch-eventsub' "$ERR"
  assert_success
}

@test "subscriptions too late: 4003, said to be our bug or a slow start" {
  store
  start_fakes --window 1 --create-faults 500,500,500,500
  es --types follow
  wait_for_line "$FLOG" '^4003' 20
  wait_for_line "$ERR" '4003' 10
  stop_es
  run grep -F 'our bug or a slow start' "$ERR"
  assert_success
}

@test "a revocation is logged with its reason; the last one ends it: 1, or 3 for authorization_revoked" {
  store
  start_fakes --scenario revoke:user_removed
  es --types follow
  es_exits 1
  run grep -F 'revoked by Twitch: user_removed' "$ERR"
  assert_success
  stop_all
  : > "$FLOG"
  start_fakes --scenario revoke:authorization_revoked
  es --types follow
  es_exits 3
}

@test "Helix 401: the token is refreshed once and the subscription made with the new one" {
  store
  start_fakes --create-faults 401
  es --types follow
  wait_for_line "$ERR" 'every subscription is in place' 20
  stop_es
  assert_equal "$status" 0
  run grep -F 'refreshing it' "$ERR"
  assert_success
  run grep -cE 'POST /helix/eventsub/subscriptions .*-> 202' "$FLOG"
  assert_output 1
}

@test "Helix 401 again after the refresh: status 3" {
  store
  start_fakes --create-faults 401,401
  es --types follow
  es_exits 3
  run grep -F 'again after a refresh' "$ERR"
  assert_success
}

@test "Helix 403: an error naming the scope, status 3" {
  store
  start_fakes --create-faults 403
  es --types cheer
  es_exits 3
  run grep -F 'lacks the scope bits:read' "$ERR"
  assert_success
}

@test "Helix 429 is honoured and 500 twice then success: retried with backoff, the missing ones named until back" {
  store
  start_fakes --create-faults 429,500,500
  es --types follow,cheer
  wait_for_line "$ERR" 'every subscription is in place \(2\)' 30
  stop_es
  assert_equal "$status" 0
  run grep -E 'not subscribed: .*missing: ' "$ERR"
  assert_success
  run grep -cE 'POST /helix/eventsub/subscriptions' "$FLOG"
  assert_output 5
  run grep -E 'subscribed again' "$ERR"
  assert_success
}

@test "a stop signal drains: status 0; it never sent a data frame" {
  store
  start_fakes
  es --types follow
  wait_for_line "$ERR" 'every subscription is in place' 20
  stop_es
  assert_equal "$status" 0
  wait_for_line "$FLOG" 'closed .* code=1000 by=client' 10
  run grep -c inbound "$FLOG"
  assert_output 0
}

@test "a stalled reader: over --max-buffer reading pauses at a message boundary, the session stays up, nothing is lost" {
  store
  start_fakes --scenario numbered --count 600
  local fifo=$BATS_TEST_TMPDIR/fifo
  mkfifo "$fifo"
  exec 5<>"$fifo"  # a reader that reads nothing: the pipe fills
  "$BIN/twitch-eventsub" --login maplecrate --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --types follow --max-buffer 4000 \
    > "$fifo" 2> "$ERR" 3>&- 5>&- 7>&- &
  ES=$!
  PIDS+=($ES)
  wait_for_line "$ERR" 'reading paused' 20
  sleep 1
  cat "$fifo" > "$OUT" 3>&- 5>&- 7>&- &
  PIDS+=($!)
  # Our own end closes once cat reads: before, the pipe would have no reader at all for a
  # moment, and twitch-eventsub would rightly take that for its reader gone (exit 0).
  wait_until 30 test -s "$OUT"
  exec 5>&-
  wait_until 60 bash -c "[ \$(grep -c '\"id\":\"n-' '$OUT') -ge 600 ]"
  stop_es
  assert_equal "$status" 0
  run diff <(seq 1 600) <(jq -r 'select(.id | startswith("n-")) | .user.login' "$OUT" | sed 's/viewer//')
  assert_success
  run grep -F 'reading resumed' "$ERR"
  assert_success
  run grep -c 'closed ' "$FLOG"
  assert_output 1
}

@test "a reconnect URL that fails (4007): a fresh session at --url, subscriptions made again, the old socket closed" {
  store
  start_fakes --scenario badreconnect
  es --types follow
  wait_for_line "$FLOG" 'welcome sess-2' 20
  wait_for_line "$FLOG" 'create channel.follow sess-2' 20
  wait_for_line "$FLOG" 'closed sess-1.* code=1000 by=client' 20
  stop_es
  assert_equal "$status" 0
  run grep -F 'invalid reconnect URL (4007)' "$ERR"
  assert_success
  run grep -c '^4007 no-such-session' "$FLOG"
  assert_output 1
}

# --- conduits (--conduit): the fake conduit API of tests/fakes/helix.py, app tokens ---

CHANNEL_USERS=(--user maplecrate:777000222 --user oakpixel:1002 --user rivertone:1003
  --user fernbyte:1004)

# app_token: the app token twitch-auth app stores for $CID (the fake id.twitch.tv's secret).
app_token() {
  printf 'csecret0123456789abcdef\n' > "$BATS_TEST_TMPDIR/csecret"
  run timeout 20 "$BIN/twitch-auth" app --auth-url "$AUTH" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/csecret" -q
  assert_success
}

# channels LOGIN...: a channels file of LOGINs (and a comment) in $CHANNELS.
channels() {
  CHANNELS=$BATS_TEST_TMPDIR/channels
  { echo '# the channels of this shard'; printf '%s\n' "$@"; } > "$CHANNELS"
}

# shard NAME [args...]: twitch-eventsub with the stored app token in the background, stdout in
# $BATS_TEST_TMPDIR/NAME.out and stderr in NAME.err; sets SHARD (its pid).
shard() {
  local name=$1
  shift
  "$BIN/twitch-eventsub" --client-id "$CID" --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" > "$BATS_TEST_TMPDIR/$name.out" \
    2> "$BATS_TEST_TMPDIR/$name.err" 3>&- 7>&- &
  SHARD=$!
  PIDS+=($SHARD)
}

# two_shards [FAKE-ARGS...]: the fakes (with FAKE-ARGS) and the app token; shard a makes a conduit
# of 2 shards for the 4 channels and takes shard 0, shard b takes shard 1 of it. Returns once
# both are attached and b has every subscription in place (the fake delivers as soon as a shard
# is attached, before the shard has read its answers). Sets A (a's pid), SHARD (b's) and ID.
two_shards() {
  start_fakes --conduit --expect 4 "$@" "${CHANNEL_USERS[@]}"
  app_token
  channels maplecrate oakpixel rivertone fernbyte
  shard a --conduit new --shard-count 2 --channels-file "$CHANNELS" --types follow
  A=$SHARD
  wait_for_line "$FLOG" 'conduit done .* shard=0' 20
  ID=$(grep -oE 'conduit [0-9a-f-]+: created' "$BATS_TEST_TMPDIR/a.err" | cut -d' ' -f2 | tr -d :)
  assert [ -n "$ID" ]
  shard b --conduit "$ID" --shard 1 --channels-file "$CHANNELS" --types follow
  wait_for_line "$BATS_TEST_TMPDIR/b.err" 'every subscription is in place \(4\)' 30
  wait_for_line "$FLOG" 'conduit done .* shard=1' 30
}

# count PATTERN FILE: the number of lines of FILE matching PATTERN (grep -E), on stdout.
count() {
  grep -cE "$1" "$2" || true
}

# sorted_logins FILE: the channel logins of FILE's events, sorted.
sorted_logins() {
  jq -r .channel.login "$1" | sort
}

# lines_at_least N PATTERN FILE: FILE has N or more lines matching PATTERN.
lines_at_least() {
  [ "$(count "$2" "$3")" -ge "$1" ]
}

@test "--conduit new: a conduit, shard 0 attached, the channels of a file subscribed on it; their events arrive" {
  start_fakes --conduit --expect 3 "${CHANNEL_USERS[@]}"
  app_token
  channels maplecrate oakpixel rivertone nosuchlogin
  shard a --conduit new --channels-file "$CHANNELS" --types follow
  wait_for_line "$FLOG" 'conduit done .* shard=0' 20
  # The fake delivers once the subscriptions exist: their answers may still be on the way.
  wait_for_line "$BATS_TEST_TMPDIR/a.err" 'every subscription is in place \(3\)' 30
  kill -TERM "$SHARD"
  wait_status "$SHARD"
  assert_equal "$status" 0
  run count '^create channel.follow conduit=' "$FLOG"
  assert_output 3
  run count '^attach .* shard=0 session=sess-1-' "$FLOG"
  assert_output 1
  run sorted_logins "$BATS_TEST_TMPDIR/a.out"
  assert_output "$(printf 'maplecrate\noakpixel\nrivertone')"
  run cat "$BATS_TEST_TMPDIR/a.err"
  assert_output --regexp 'conduit [0-9a-f-]+: created with 1 shards'
  assert_output --regexp 'shard 0 attached to session sess-1-'
  assert_output --partial 'channel nosuchlogin: no Twitch user has this login: skipped'
  assert_output --partial '0 of 3 subscriptions already on it; creating 3'
  assert_output --partial 'every subscription is in place (3)'
}

@test "--conduit ID --shard 1: a second process on the same conduit takes the subscriptions there as its own and gets its shard's events" {
  two_shards
  run count '^create channel.follow conduit=' "$FLOG"
  assert_output 4
  run count '^POST /helix/eventsub/subscriptions ' "$FLOG"
  assert_output 4
  run count "^attach $ID shard=1 " "$FLOG"
  assert_output 1
  # Twitch spreads the conduit's events: shard 1 gets every other subscription's.
  run count '"type":"follow"' "$BATS_TEST_TMPDIR/b.out"
  assert_output 2
  run count "^sent sess-2-.* shard=1 " "$FLOG"
  assert_output 2
  run cat "$BATS_TEST_TMPDIR/b.err"
  assert_output --partial "conduit $ID: 2 shards; this process is shard 1"
  assert_output --partial '4 of 4 subscriptions already on it; creating 0'
  kill -TERM "$A" "$SHARD"
  wait_status "$SHARD"
  assert_equal "$status" 0
}

@test "--conduit ID --shard 1: its listing failed, each subscription it creates is a 409, looked up and taken as the conduit's; none made twice" {
  # The first two lists fail: shard 0's (it creates the four) and shard 1's.
  two_shards --list-faults 2
  run count '^create channel.follow conduit=' "$FLOG"
  assert_output 4
  run count '^POST /helix/eventsub/subscriptions -> 409' "$FLOG"
  assert_output 4
  run count '"type":"follow"' "$BATS_TEST_TMPDIR/b.out"
  assert_output 2
  run cat "$BATS_TEST_TMPDIR/b.err"
  assert_output --partial "conduit $ID: listing its subscriptions failed"
  run count 'already bound to this conduit' "$BATS_TEST_TMPDIR/b.err"
  assert_output 4
  run count ': 409: it exists already; listing the subscriptions to see on which transport$' \
    "$BATS_TEST_TMPDIR/b.err"
  assert_output 4
  run ! grep -F 'bound to another session' "$BATS_TEST_TMPDIR/b.err"
  kill -TERM "$A" "$SHARD"
  wait_status "$SHARD"
  assert_equal "$status" 0
}

@test "--conduit: a dropped socket brings a fresh session, the shard attached again, no subscription created again" {
  start_fakes --conduit --scenario drop --expect 2 "${CHANNEL_USERS[@]}"
  app_token
  channels maplecrate oakpixel
  shard a --conduit new --channels-file "$CHANNELS" --types follow
  wait_until 30 lines_at_least 2 '^conduit done' "$FLOG"
  run count '^attach .* shard=0 session=sess-[12]-' "$FLOG"
  assert_output 2
  run count '^create ' "$FLOG"
  assert_output 2
  run count '^POST /helix/eventsub/subscriptions ' "$FLOG"
  assert_output 2
  run count '"type":"follow"' "$BATS_TEST_TMPDIR/a.out"
  assert_output 4
  run count '"type":"gap"' "$BATS_TEST_TMPDIR/a.out"
  assert_output 1
  run cat "$BATS_TEST_TMPDIR/a.err"
  assert_output --regexp 'shard 0 attached to session sess-2-'
  assert_output --partial 'its 2 subscriptions stay: none created again'
}

@test "--conduit with a user token is refused before anything is created (status 3)" {
  store
  start_fakes --conduit
  run "$BIN/twitch-eventsub" --login maplecrate --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --conduit new --types follow
  assert_failure 3
  assert_output --partial 'twitch-eventsub: error: --conduit: login maplecrate is a user token; conduits need an app token: run twitch-auth app'
  run count 'conduits' "$FLOG"
  assert_output 0
}

@test "--conduit: a --shard beyond the conduit's shard count (2), an unknown conduit, --shard without --conduit" {
  start_fakes --conduit --expect 1 "${CHANNEL_USERS[@]}"
  app_token
  channels maplecrate
  shard a --conduit new --shard-count 2 --channels-file "$CHANNELS" --types follow
  wait_for_line "$FLOG" 'conduit done .* shard=0' 20
  local id
  id=$(grep -oE 'conduit [0-9a-f-]+: created' "$BATS_TEST_TMPDIR/a.err" | cut -d' ' -f2 | tr -d :)
  run "$BIN/twitch-eventsub" --client-id "$CID" --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --conduit "$id" --shard 2
  assert_failure 2
  assert_output --partial "twitch-eventsub: error: --shard 2: conduit $id has 2 shards (ids 0 to 1)"
  run "$BIN/twitch-eventsub" --client-id "$CID" --auth-url "$AUTH" --api-url "$API" --url "$WS" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --conduit no-such-conduit
  assert_failure 1
  assert_output --partial "--conduit no-such-conduit: the client id has no such conduit (it has $id)"
  run "$BIN/twitch-eventsub" --conduit new --shard 3 --shard-count 2
  assert_failure 2
  assert_output --partial '--shard 3: over --shard-count 2 (shard ids are 0 to 1)'
  run "$BIN/twitch-eventsub" --shard 1
  assert_failure 2
  assert_output --partial '--channels-file, --shard and --shard-count go with --conduit'
  run count '^attach ' "$FLOG"
  assert_output 1
}
