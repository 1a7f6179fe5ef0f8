#!/usr/bin/env bats
# twitch-subs against a fake Helix (tests/fakes/helix.py) and a fake id.twitch.tv
# (tests/fakes/twitch_id.py, for validate and refresh), both over TLS with a CA made here: create
# for each transport, list with pagination and filters, delete by id and by status, and every
# outcome: 401 refreshed once then retried, 401 for good (exit 3), 403 naming the scope, 409, 429
# with Ratelimit-Reset, 500 then success, 500 for good, a webhook with a user token, usage errors;
# and the fake Helix used as a module, as the fake EventSub WebSocket server uses it.

load helpers
bats_require_minimum_version 1.5.0

CID=cid0123456789
CSECRET=csecret0123456789abcdef
USER_TOKEN=accseeduser0001
COND='{"broadcaster_user_id":"141981764","moderator_user_id":"141981764"}'

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
  STORE=$XDG_CONFIG_HOME/twitch-servitor
  unset TWITCH_TOKEN TWITCH_CLIENT_ID TWITCH_CLIENT_SECRET TWITCH_HOOK_SECRET
  HLOG=$BATS_TEST_TMPDIR/helix.log
  ILOG=$BATS_TEST_TMPDIR/id.log
  : > "$HLOG"
  : > "$ILOG"
  : >"$BATS_TEST_TMPDIR/id.out"
  timeout 120 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$ILOG" --client-id "$CID" \
    --client-secret "$CSECRET" --access-token "$USER_TOKEN" --refresh-token refseeduser0001 \
    > "$BATS_TEST_TMPDIR/id.out" 2>&1 3>&- 7>&- &
  ID_PID=$!
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/id.out")
  AUTH=https://127.0.0.1:$port/oauth2
}

teardown() {
  kill_ours ${ID_PID:-} ${HELIX_PID:-}
  return 0
}

# start_helix [args...]: the fake Helix, taking the fake id's user ("acc...") and app ("app...")
# tokens; sets HELIX_PID and API.
start_helix() {
  : >"$BATS_TEST_TMPDIR/helix.out"
  timeout 120 "$PY" "$FAKES/helix.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$HLOG" --client-id "$CID" \
    --user maplecrate:141981764:MapleCrate --accept-prefix acc=user:141981764 \
    --accept-prefix app=app "$@" > "$BATS_TEST_TMPDIR/helix.out" 2>&1 3>&- 7>&- &
  HELIX_PID=$!
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/helix.out")
  API=https://127.0.0.1:$port/helix
}

# subs SUBCOMMAND [args...]: twitch-subs against both fakes.
subs() {
  local sub=$1
  shift
  timeout 30 "$BIN/twitch-subs" "$sub" --auth-url "$AUTH" --api-url "$API" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@"
}

# seed_store: a stored user token whose refresh token the fake id knows.
seed_store() {
  mkdir -p "$STORE"
  chmod 700 "$STORE"
  local exp
  exp=$(date -u -d "@$(( $(date +%s) + 3600 ))" +%Y-%m-%dT%H:%M:%S.000Z)
  printf '{"kind":"user","login":"streamer","user_id":"141981764","client_id":"%s","scopes":[],"expires_at":"%s","access_token":"%s","refresh_token":"refseeduser0001"}\n' \
    "$CID" "$exp" "$USER_TOKEN" > "$STORE/streamer.json"
  chmod 600 "$STORE/streamer.json"
}

# app_token: an app token stored by twitch-auth app.
app_token() {
  printf '%s\n' "$CSECRET" > "$BATS_TEST_TMPDIR/csecret"
  timeout 20 "$BIN/twitch-auth" app --auth-url "$AUTH" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/csecret" -q > /dev/null
}

@test "--help, --version and usage errors exit 0 and 2" {
  run "$BIN/twitch-subs" --help
  assert_success
  assert_output --partial "list"
  run "$BIN/twitch-subs" --version
  assert_success
  run "$BIN/twitch-subs" create channel.follow --condition '{}'
  assert_failure 2
  assert_output "twitch-subs: error: create: give --session, --webhook or --conduit"
  run "$BIN/twitch-subs" create channel.follow --condition '{}' --session a --webhook https://x/
  assert_failure 2
  run "$BIN/twitch-subs" delete
  assert_failure 2
  assert_output "twitch-subs: error: delete: give subscription ids or --status"
  run "$BIN/twitch-subs" list --status enabled --type channel.follow
  assert_failure 2
  TWITCH_TOKEN=x run "$BIN/twitch-subs" create channel.follow --condition '[1]' --session s
  assert_failure 2
  assert_output --partial "twitch-subs: error: create: \"channel.follow:[1]\": the condition is not a JSON object"
  TWITCH_TOKEN=x run "$BIN/twitch-subs" create 'Channel.Follow' --condition '{}' --session s
  assert_failure 2
  run "$BIN/twitch-subs" list --api-url https://127.0.0.1:1/helix
  assert_failure 2
  assert_output --partial "no token: give --login, --token-file, --app or TWITCH_TOKEN"
}

@test "create over a websocket session prints the subscription; the same again is a 409" {
  start_helix
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.follow --condition "$COND" \
    --session AgoQsession1
  assert_success
  assert_output --regexp '^\{"id":"[0-9a-f-]{36}","status":"enabled","type":"channel.follow","version":"2","condition":\{"broadcaster_user_id":"141981764","moderator_user_id":"141981764"\},"created_at":"[^"]+","transport":\{"method":"websocket","session_id":"AgoQsession1","connected_at":"[^"]+"\},"cost":0\}$'
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.follow --condition "$COND" \
    --session AgoQsession2
  assert_failure 1
  assert_output ""
  assert_equal "$stderr" "twitch-subs: error: create channel.follow v2: POST $API/eventsub/subscriptions: HTTP 409: subscription already exists; a subscription to channel.follow v2 with this condition exists already"
}

@test "list follows the pagination cursor, filters, and tells the totals on stderr" {
  start_helix --page-size 2
  local t
  for t in channel.cheer channel.raid channel.follow channel.hype_train.begin channel.hype_train.end; do
    TWITCH_TOKEN=$USER_TOKEN run subs create "$t" --condition '{"broadcaster_user_id":"9"}' \
      --session S1 -q
    assert_success
  done
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list
  assert_success
  assert_equal "${#lines[@]}" 5
  assert_line --index 0 --partial '"type":"channel.cheer"'
  assert_line --index 4 --partial '"type":"channel.hype_train.end"'
  assert_equal "$stderr" "twitch-subs: info: total 5, total_cost 5, max_total_cost 10"
  run grep -c 'GET /helix/eventsub/subscriptions' "$HLOG"
  assert_output 3
  run grep -c 'after=cur-2' "$HLOG"
  assert_output 1
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list --type channel.raid
  assert_success
  assert_equal "${#lines[@]}" 1
  assert_line --partial '"type":"channel.raid"'
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list --status websocket_disconnected
  assert_success
  assert_output ""
}

@test "delete by id prints each deleted, an unknown id is an error (exit 1) and the others go on" {
  start_helix
  TWITCH_TOKEN=$USER_TOKEN run subs create channel.cheer --condition '{"broadcaster_user_id":"141981764"}' --session S1
  assert_success
  local id
  id=$(printf '%s' "$output" | grep -oE '"id":"[^"]+"' | head -1 | cut -d'"' -f4)
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs delete nosuchid "$id"
  assert_failure 1
  assert_output "{\"id\":\"$id\",\"deleted\":true}"
  assert_equal "$stderr" "twitch-subs: error: delete nosuchid: DELETE $API/eventsub/subscriptions?id=nosuchid: HTTP 404: subscription not found"
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list
  assert_output ""
}

@test "a 401 refreshes the stored token once and tries again; a bare token cannot be: exit 3" {
  start_helix --fail POST:/helix/eventsub/subscriptions:401:1
  seed_store
  run --separate-stderr subs create channel.cheer --condition '{"broadcaster_user_id":"141981764"}' \
    --session S1 --login streamer
  assert_success
  assert_output --partial '"status":"enabled"'
  run grep -c 'POST /oauth2/token refresh_token -> 200' "$ILOG"
  assert_output 1
  run grep -c 'POST /helix/eventsub/subscriptions -> ' "$HLOG"
  assert_output 2
  kill "$HELIX_PID"
  start_helix --fail POST:/helix/eventsub/subscriptions:401:5
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.cheer \
    --condition '{"broadcaster_user_id":"141981764"}' --session S1
  assert_failure 3
  assert_equal "$stderr" "twitch-subs: error: create channel.cheer v1: POST $API/eventsub/subscriptions: HTTP 401: Unauthorized; a websocket subscription needs a user token (twitch-auth login); refreshing the token failed: TWITCH_TOKEN: a bare token cannot be refreshed; store one with twitch-auth login"
}

@test "a 403 names the scope the type needs" {
  start_helix --accept-prefix acc=user:141981764+chat:read,bits:read
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.follow --condition "$COND" \
    --session S1
  assert_failure 1
  assert_equal "$stderr" "twitch-subs: error: create channel.follow v2: POST $API/eventsub/subscriptions: HTTP 403: subscription missing proper authorization; channel.follow needs the scope moderator:read:followers"
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.cheer \
    --condition '{"broadcaster_user_id":"141981764"}' --session S1
  assert_success
}

@test "429 waits for Ratelimit-Reset, 500 is retried; 500 for good is exit 1" {
  start_helix --fail GET:/helix/eventsub/subscriptions:429:1 --fail GET:/helix/users:500:1
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list
  assert_success
  run grep -c 'GET /helix/eventsub/subscriptions -> 429' "$HLOG"
  assert_output 1
  run grep -c 'GET /helix/eventsub/subscriptions -> 200' "$HLOG"
  assert_output 1
  kill "$HELIX_PID"
  start_helix --fail GET:/helix/eventsub/subscriptions:500:1
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list
  assert_success
  kill "$HELIX_PID"
  start_helix --fail GET:/helix/eventsub/subscriptions:500:20
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs list
  assert_failure 1
  assert_equal "${#stderr_lines[@]}" 4
  assert_equal "${stderr_lines[3]}" "twitch-subs: error: list: GET $API/eventsub/subscriptions: HTTP 500: Internal Server Error (after 4 attempts)"
}

@test "a webhook needs an app token: a user token is refused before asking Twitch (exit 2)" {
  start_helix
  printf 'hooksecret0123456789\n' > "$BATS_TEST_TMPDIR/secret"
  TWITCH_TOKEN=$USER_TOKEN run --separate-stderr subs create channel.cheer \
    --condition '{"broadcaster_user_id":"141981764"}' --webhook https://hooks.example/eventsub \
    --secret-file "$BATS_TEST_TMPDIR/secret"
  assert_failure 2
  assert_equal "$stderr" "twitch-subs: error: create: TWITCH_TOKEN is a user token; a webhook subscription needs an app token: run twitch-auth app, then give --app"
  run grep -c 'POST /helix' "$HLOG"
  assert_output 0
  printf 'short\n' > "$BATS_TEST_TMPDIR/short"
  run subs create channel.cheer --condition '{}' --webhook https://h/ --secret-file "$BATS_TEST_TMPDIR/short" --app --client-id "$CID"
  assert_failure 2
  assert_output "twitch-subs: error: create: the webhook secret must be 10 to 100 characters (--secret-file or TWITCH_HOOK_SECRET)"
}

@test "a webhook with the app token is pending, fails verification with no callback up, and delete --status removes it" {
  start_helix
  app_token
  printf 'hooksecret0123456789\n' > "$BATS_TEST_TMPDIR/secret"
  run --separate-stderr subs create channel.cheer --condition '{"broadcaster_user_id":"141981764"}' \
    --webhook https://127.0.0.1:1/eventsub --secret-file "$BATS_TEST_TMPDIR/secret" --app \
    --client-id "$CID"
  assert_success
  assert_output --partial '"status":"webhook_callback_verification_pending"'
  assert_output --partial '"transport":{"method":"webhook","callback":"https://127.0.0.1:1/eventsub"}'
  refute_output --partial hooksecret
  wait_for_line "$HLOG" '^verify .* -> failed'
  run --separate-stderr subs list --app --client-id "$CID" --status webhook_callback_verification_failed
  assert_success
  assert_equal "${#lines[@]}" 1
  assert_equal "$stderr" "twitch-subs: info: total 1, total_cost 0, max_total_cost 10000"
  run --separate-stderr subs delete --status webhook_callback_verification_failed --app --client-id "$CID"
  assert_success
  assert_output --regexp '^\{"id":"[0-9a-f-]{36}","deleted":true\}$'
  run --separate-stderr subs list --app --client-id "$CID"
  assert_output ""
  # The app token for a websocket session: refused likewise.
  run --separate-stderr subs create channel.cheer --condition '{"broadcaster_user_id":"1"}' --session S --app --client-id "$CID"
  assert_failure 2
  assert_equal "$stderr" "twitch-subs: error: create: $STORE/app-$CID.json is an app token; a websocket subscription needs a user token: run twitch-auth login, then give --login"
}

@test "the fake Helix is importable: sessions, hooks, an orphan's 409, faults, a session's death" {
  cat > "$BATS_TEST_TMPDIR/use.py" <<'PY'
import json, ssl, sys, urllib.error, urllib.request
sys.path.insert(0, sys.argv[1])
from helix import FakeHelix
h = FakeHelix()
h.add_token("tok", kind="user", user_id="5")
created = []
h.on_create = created.append
port = h.start(sys.argv[2], sys.argv[3])
h.add_session("S1")
ctx = ssl.create_default_context(cafile=sys.argv[4])
def call(method, path, body=None):
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer tok", "Client-Id": h.client_id})
    try:
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
def sub(type_, cond, session):
    return {"type": type_, "version": "1", "condition": cond,
            "transport": {"method": "websocket", "session_id": session}}
P = "/helix/eventsub/subscriptions"
print(call("POST", P, sub("channel.cheer", {"broadcaster_user_id": "5"}, "S1")))
print(call("POST", P, sub("channel.raid", {"to_broadcaster_user_id": "5"}, "gone")))
print(len(h.subscriptions_of("S1")), len(created))
oid = h.add_orphan("channel.subscribe", "1", {"broadcaster_user_id": "5"}, "dead", owner="5")
print(call("POST", P, sub("channel.subscribe", {"broadcaster_user_id": "5"}, "S1")))
h.fail("GET", P, 500, count=1)
print(call("GET", P), call("GET", P), call("DELETE", P + "?id=" + oid))
h.disconnect_session("S1")
print(" ".join(s["status"] for s in h.subscriptions_of("S1")))
h.stop()
PY
  run timeout 30 "$PY" "$BATS_TEST_TMPDIR/use.py" "$FAKES" "$BATS_FILE_TMPDIR/server.pem" \
    "$BATS_FILE_TMPDIR/server.key" "$BATS_FILE_TMPDIR/ca.pem"
  assert_success
  assert_output "202
400
1 1
409
500 200 204
websocket_disconnected"
}
