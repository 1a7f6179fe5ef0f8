#!/usr/bin/env bats
# twitch-auth against a fake id.twitch.tv over TLS (tests/fakes/twitch_id.py, with a CA made
# here): the device code flow (pending, slow down, denied, expired), refresh with rotation (a
# refresh token used twice refused), two refreshes at once, validate (and a 401), revoke, app
# tokens, list, 429 with Ratelimit-Reset, a 500 then success, the store's modes, and TLS verified.
# After every test, every token, refresh token, device code and secret the fake handed out is
# looked for in everything twitch-auth wrote other than `token`'s stdout: never found.

load helpers
load token-helpers
bats_require_minimum_version 1.5.0

CID=cid0123456789
CSECRET=csecret0123456789abcdef

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
  STORE=$XDG_CONFIG_HOME/twitch-servitor
  SECRETS=$BATS_TEST_TMPDIR/secrets
  LOGS=$BATS_TEST_TMPDIR/logs
  FLOG=$BATS_TEST_TMPDIR/fake.log
  unset TWITCH_TOKEN TWITCH_CLIENT_ID TWITCH_CLIENT_SECRET
  : > "$SECRETS"
  : > "$LOGS"
  : > "$FLOG"
}

teardown() {
  kill_ours ${FAKE_PID:-}
  no_secret_in_logs
}

# no_secret_in_logs: fails naming the first secret of $SECRETS found in $LOGS.
no_secret_in_logs() { no_secret_in "$LOGS"; }

# start_fake [args...]: the fake id.twitch.tv; sets FAKE_PID and AUTH.
start_fake() {
  : >"$BATS_TEST_TMPDIR/fake.out"
  timeout 60 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$FLOG" --secrets "$SECRETS" \
    --client-id "$CID" --client-secret "$CSECRET" "$@" > "$BATS_TEST_TMPDIR/fake.out" 2>&1 &
  FAKE_PID=$!
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/fake.out")
  [ -n "$port" ]
  AUTH=https://127.0.0.1:$port/oauth2
}

# ta SUBCOMMAND [args...]: twitch-auth against the fake. Its stderr (and its stdout, except
# token's) is kept in $LOGS, and passed on.
ta() {
  local sub=$1
  shift
  local out=$BATS_TEST_TMPDIR/last.out err=$BATS_TEST_TMPDIR/last.err rc=0
  timeout 40 "$BIN/twitch-auth" "$sub" --auth-url "$AUTH" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    "$@" > "$out" 2> "$err" || rc=$?
  cat "$err" >> "$LOGS"
  [ "$sub" = token ] || cat "$out" >> "$LOGS"
  cat "$out"
  cat "$err" >&2
  return $rc
}

mode_of() { stat -c %a "$1"; }

@test "login: the device code flow stores the token 0600 in a 0700 store and prints no token" {
  start_fake --pending 2
  run --separate-stderr ta login --client-id "$CID" --for chat -v
  assert_success
  [[ "$stderr" == *"open https://www.twitch.tv/activate?public=true&device-code=ABCD-EFGH and enter the code ABCD-EFGH"* ]]
  assert_output --regexp '^\{"kind":"user","login":"streamer","user_id":"141981764","client_id":"cid0123456789","scopes":\["chat:read"\],"expires_at":"[0-9T:.Z-]+","file":".*/twitch-servitor/streamer.json"\}$'
  run mode_of "$STORE"
  assert_output 700
  run mode_of "$STORE/streamer.json"
  assert_output 600
  run grep -c 'POST /oauth2/token urn:ietf:params:oauth:grant-type:device_code -> 400' "$FLOG"
  assert_output 2
  run grep -F 'device scopes=chat:read' "$FLOG"
  assert_success
  # The stored token works.
  run ta validate --login streamer
  assert_success
  assert_output --partial '"login":"streamer"'
}

@test "login: slow_down adds 5 seconds to the polling interval" {
  start_fake --device slow --pending 0 --interval 1
  run ta login --client-id "$CID"
  assert_success
  run grep -E '^poll 2 gap=' "$FLOG"
  assert_success
  gap=${output#poll 2 gap=}
  # interval 1 + 5 after slow_down
  run awk -v g="$gap" 'BEGIN { exit !(g >= 5.5) }'
  assert_success
  # --for's default: the EventSub alert scopes.
  run grep -F 'device scopes=bits:read channel:read:subscriptions' "$FLOG"
  assert_success
}

@test "login: access denied exits 3; an expired code exits 1 and says to run login again" {
  start_fake --device deny --pending 1
  run ta login --client-id "$CID"
  assert_failure 3
  assert_output --partial "twitch-auth: error: login: access denied at Twitch"
  [ ! -e "$STORE/streamer.json" ]
  kill "$FAKE_PID"
  start_fake --device expire --pending 1
  run ta login --client-id "$CID"
  assert_failure 1
  assert_output --partial "the code expired before it was entered; run twitch-auth login again"
}

@test "usage errors exit 2: no subcommand, no client id, --scopes with --for, no token named" {
  run "$BIN/twitch-auth"
  assert_failure 2
  run "$BIN/twitch-auth" login
  assert_failure 2
  assert_output --partial "--client-id (or TWITCH_CLIENT_ID): required"
  run "$BIN/twitch-auth" login --client-id x --scopes a --for chat
  assert_failure 2
  run "$BIN/twitch-auth" token
  assert_failure 2
  assert_output --partial "no token: give --login, --token-file or TWITCH_TOKEN"
  run "$BIN/twitch-auth" token --login ../etc
  assert_failure 2
  run "$BIN/twitch-auth" token --login a --token-file b
  assert_failure 2
}

@test "token: a fresh token is printed as stored, without asking Twitch" {
  start_fake
  seed streamer accseedfresh0001 refseedfresh0001 3600
  run --separate-stderr ta token
  assert_success
  assert_output accseedfresh0001
  run grep -c /oauth2/token "$FLOG"
  assert_output 0
}

@test "token: one that expires within 5 minutes is refreshed; the rotated refresh token is stored" {
  start_fake --refresh-token refseedrot0001
  seed streamer accseedrot0001 refseedrot0001 120
  run --separate-stderr ta token --login streamer -v
  assert_success
  new=$output
  [[ "$new" == acc* ]]
  [ "$new" != accseedrot0001 ]
  run grep -o '"refresh_token":"[^"]*"' "$STORE/streamer.json"
  assert_success
  refute_output --partial refseedrot0001
  run mode_of "$STORE/streamer.json"
  assert_output 600
  TWITCH_TOKEN=$new run ta validate
  assert_success
  # The next call needs no refresh.
  run --separate-stderr ta token --login streamer
  assert_output "$new"
  run grep -c 'refresh_token -> 200' "$FLOG"
  assert_output 1
}

@test "token: a refresh token used twice (or unknown) is refused: exit 3, run twitch-auth login" {
  start_fake --refresh-token refseedtwice0001
  seed streamer accseedtwice0001 refseedtwice0001 60
  cp "$STORE/streamer.json" "$BATS_TEST_TMPDIR/old.json"
  run --separate-stderr ta token
  assert_success
  cp "$BATS_TEST_TMPDIR/old.json" "$STORE/streamer.json"
  run ta token
  assert_failure 3
  assert_output --partial "Twitch refused the refresh token (POST $AUTH/token: HTTP 400: Invalid refresh token); run twitch-auth login (--login streamer)"
  run grep -F 'refresh token used twice' "$FLOG"
  assert_success
}

@test "token: two refreshes at once leave one valid store and print the same working token" {
  start_fake --refresh-token refseedrace0001 --token-delay-ms 700
  seed streamer accseedrace0001 refseedrace0001 30
  ta token > "$BATS_TEST_TMPDIR/a.out" &
  a=$!
  ta token > "$BATS_TEST_TMPDIR/b.out" &
  b=$!
  wait "$a"
  wait "$b"
  run cat "$BATS_TEST_TMPDIR/a.out"
  assert_output --regexp '^acc[0-9a-f]{24}$'
  run diff "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"
  assert_success
  run grep -c 'refresh_token -> 200' "$FLOG"
  assert_output 1
  run grep -F 'refresh token used twice' "$FLOG"
  assert_failure
  TWITCH_TOKEN=$(cat "$BATS_TEST_TMPDIR/a.out") run ta validate -q
  assert_success
  run --separate-stderr ta token
  assert_output "$(cat "$BATS_TEST_TMPDIR/a.out")"
}

@test "validate: login, user id, scopes and lifetime; -q prints nothing; a 401 exits 3" {
  start_fake --access-token accseedvalid0001
  printf 'accseedvalid0001\n' >> "$SECRETS"
  TWITCH_TOKEN=accseedvalid0001 run ta validate
  assert_success
  assert_output --regexp '^\{"login":"streamer","user_id":"141981764","client_id":"cid0123456789","scopes":\["chat:read"\],"expires_in":[0-9]+\}$'
  TWITCH_TOKEN=accseedvalid0001 run ta validate -q
  assert_success
  assert_output ""
  TWITCH_TOKEN=accunknown0001 run ta validate
  assert_failure 3
  assert_output --partial "TWITCH_TOKEN: the token is not valid (GET $AUTH/validate: HTTP 401: invalid access token)"
  # A bare token in a file, "oauth:" prefix and all, as twitch-irc takes it.
  printf 'oauth:accseedvalid0001\n' > "$BATS_TEST_TMPDIR/bare"
  run ta validate --token-file "$BATS_TEST_TMPDIR/bare"
  assert_success
}

@test "revoke: the token stops working and its store file is gone" {
  start_fake --access-token accseedrevoke0001
  seed streamer accseedrevoke0001 refseedrevoke0001 3600
  run ta revoke --login streamer
  assert_success
  [ ! -e "$STORE/streamer.json" ]
  TWITCH_TOKEN=accseedrevoke0001 run ta validate
  assert_failure 3
}

@test "list: one line per stored token without the tokens; an open store file is refused" {
  seed alice accseedlist0001 refseedlist0001 3600
  seed bob accseedlist0002 refseedlist0002 3600
  run "$BIN/twitch-auth" list
  assert_success
  printf '%s\n' "$output" >> "$LOGS"
  assert_line --index 0 --partial '"login":"alice"'
  assert_line --index 1 --partial '"login":"bob"'
  run "$BIN/twitch-auth" token
  assert_failure 2
  assert_output --partial "several logins are stored (alice, bob): give --login"
  chmod 644 "$STORE/bob.json"
  run "$BIN/twitch-auth" list
  assert_failure 1
  assert_output --partial "bob.json: readable by others (mode 0644); fix it with: chmod 600 $STORE/bob.json"
  run "$BIN/twitch-auth" token --login bob
  assert_failure 1
  assert_output --partial "chmod 600"
  chmod 755 "$STORE"
  run "$BIN/twitch-auth" token --login alice
  assert_failure 1
  assert_output --partial "open to others (mode 0755); fix it with: chmod 700 $STORE"
}

@test "app: client credentials stored as app-ID.json, kept while good, --force renews, a bad secret exits 3" {
  start_fake
  printf '%s\n' "$CSECRET" > "$BATS_TEST_TMPDIR/secret"
  run ta app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/secret"
  assert_success
  assert_output --regexp '^\{"kind":"app","client_id":"cid0123456789","scopes":\[\],"expires_at":"[^"]+","file":".*/app-cid0123456789.json"\}$'
  run mode_of "$STORE/app-$CID.json"
  assert_output 600
  run ta app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/secret"
  assert_success
  run grep -c 'client_credentials -> 200' "$FLOG"
  assert_output 1
  run ta app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/secret" --force
  assert_success
  run grep -c 'client_credentials -> 200' "$FLOG"
  assert_output 2
  run --separate-stderr ta token --app --client-id "$CID"
  assert_output --regexp '^app[0-9a-f]{24}$'
  printf 'wrongsecret0001\n' > "$BATS_TEST_TMPDIR/bad"
  printf 'wrongsecret0001\n' >> "$SECRETS"
  run ta app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/bad" --force
  assert_failure 3
  assert_output --partial "HTTP 403: invalid client secret"
}

@test "token --app: an app token that expires is renewed with the secret, and without it exit 1" {
  start_fake --expires-in 120
  printf '%s\n' "$CSECRET" > "$BATS_TEST_TMPDIR/secret"
  run ta app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/secret"
  assert_success
  first=$(grep -o '"access_token":"[^"]*"' "$STORE/app-$CID.json")
  run ta token --app --client-id "$CID"
  assert_failure 1
  assert_output --partial "the app token expires; run twitch-auth app again"
  run --separate-stderr ta token --app --client-id "$CID" --client-secret-file "$BATS_TEST_TMPDIR/secret"
  assert_success
  assert_output --regexp '^app[0-9a-f]{24}$'
  [ "\"access_token\":\"$output\"" != "$first" ]
  run grep -c "\"access_token\":\"$output\"" "$STORE/app-$CID.json"
  assert_output 1
  run grep -c 'client_credentials -> 200' "$FLOG"
  assert_output 2
}

@test "HTTP: a 429 waits for Ratelimit-Reset, a 500 is tried again, both then succeed" {
  start_fake --access-token accseedretry0001 --rate-limit-first 1
  printf 'accseedretry0001\n' >> "$SECRETS"
  TWITCH_TOKEN=accseedretry0001 run ta validate -v
  assert_success
  assert_output --partial "HTTP 429: Too Many Requests; trying again in"
  run grep -c 'GET /oauth2/validate' "$FLOG"
  assert_output 2
  kill "$FAKE_PID"
  : > "$FLOG"
  start_fake --access-token accseedretry0001 --fail-first 1
  TWITCH_TOKEN=accseedretry0001 run ta validate
  assert_success
  run grep -E -c 'GET /oauth2/validate -> (500|200)' "$FLOG"
  assert_output 2
}

@test "TLS is verified: without --cacert the fake's certificate is refused (exit 1), with --insecure not" {
  start_fake --access-token accseedtls0001
  printf 'accseedtls0001\n' >> "$SECRETS"
  TWITCH_TOKEN=accseedtls0001 run "$BIN/twitch-auth" validate --auth-url "$AUTH"
  printf '%s\n' "$output" >> "$LOGS"
  assert_failure 1
  assert_output --partial "GET $AUTH/validate: "
  assert_output --regexp "certificate|SSL"
  run grep -c validate "$FLOG"
  assert_output 0
  TWITCH_TOKEN=accseedtls0001 run "$BIN/twitch-auth" validate --auth-url "$AUTH" --insecure -q
  printf '%s\n' "$output" >> "$LOGS"
  assert_success
}
