#!/usr/bin/env bats
# The token store on a full and on a read-only file system (a size-limited tmpfs mounted over the
# store's directory; needs root): a token that must be refreshed is not refreshed, since its
# rotated successor could not be stored, so the stored token stays as it was and still works
# (its refresh token unspent: once the file system is fixed, the refresh succeeds); `twitch-auth
# token` says why and exits 1. A token that needs no refresh is printed as usual.

load faults-helpers
bats_require_minimum_version 1.5.0

CID=cid0123456789

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  need_root "mounting a tmpfs"
  T=$BATS_TEST_TMPDIR
  export XDG_CONFIG_HOME=$T/cfg
  STORE=$XDG_CONFIG_HOME/twitch-servitor
  mkdir -p "$XDG_CONFIG_HOME"
  mount -t tmpfs -o size=256k,mode=700 servitor-faults "$XDG_CONFIG_HOME"
  MOUNTED=1
  mkdir -m 700 "$STORE"
  unset TWITCH_TOKEN TWITCH_CLIENT_ID TWITCH_CLIENT_SECRET
  timeout 60 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$T/fake.log" --client-id "$CID" \
    --refresh-token refstorefull0001 --access-token accstorekept0001 >"$T/fake.out" 2>&1 3>&- 7>&- &
  FAKE_PID=$!
  local port
  port=$(listen_port "$T/fake.out")
  [ -n "$port" ]
  AUTH=https://127.0.0.1:$port/oauth2
}

teardown() {
  kill_ours ${FAKE_PID:-}
  if [ -n "${MOUNTED:-}" ]; then
    umount "$XDG_CONFIG_HOME" || umount -l "$XDG_CONFIG_HOME"
  fi
  true
}

# seed LOGIN ACCESS REFRESH SECONDS: a store file whose token expires in SECONDS.
seed() {
  local exp
  exp=$(date -u -d "@$(( $(date +%s) + $4 ))" +%Y-%m-%dT%H:%M:%S.000Z)
  printf '{"kind":"user","login":"%s","user_id":"141981764","client_id":"%s","scopes":["chat:read"],"expires_at":"%s","access_token":"%s","refresh_token":"%s"}\n' \
    "$1" "$CID" "$exp" "$2" "$3" >"$STORE/$1.json"
  chmod 600 "$STORE/$1.json"
}

ta() {
  timeout 40 "$BIN/twitch-auth" "$1" --auth-url "$AUTH" --cacert "$BATS_FILE_TMPDIR/ca.pem" "${@:2}"
}

# fill: fills the tmpfs to the last block.
fill() {
  dd if=/dev/zero of="$XDG_CONFIG_HOME/fill" bs=4k 2>/dev/null || true
  run ! dd if=/dev/zero of="$XDG_CONFIG_HOME/fill2" bs=4k count=1
}

# refreshes: how many refreshes the fake answered.
refreshes() { touch "$T/fake.log"; grep -c 'refresh_token -> 200' "$T/fake.log" || true; }

# check_refused WHY: `twitch-auth token` fails saying WHY and that the stored token is unchanged;
# the file is as it was ($T/before.json), and Twitch was not asked for a refresh.
check_refused() {
  run --separate-stderr ta token --login streamer
  assert_failure 1
  assert_output ''
  [[ "$stderr" == *"twitch-auth: error: "*"cannot refresh the token"*"$1"*"the stored token is unchanged"* ]]
  cmp "$T/before.json" "$STORE/streamer.json"
  run refreshes
  assert_output 0
}

@test "a full file system: no refresh asked for, the stored token unchanged and still refreshable" {
  seed streamer accstorekept0001 refstorefull0001 120
  # A token that needs no refresh is printed as usual.
  seed other accstoreother001 refstoreother01 3600
  cp "$STORE/streamer.json" "$T/before.json"
  fill
  check_refused "No space left on device"
  run --separate-stderr ta token --login other
  assert_success
  assert_output accstoreother001
  # The old access token is still what Twitch accepts.
  TWITCH_TOKEN=accstorekept0001 run ta validate -q
  assert_success
  rm "$XDG_CONFIG_HOME/fill"
  run --separate-stderr ta token --login streamer
  assert_success
  refute_output accstorekept0001
  run refreshes
  assert_output 1
}

@test "a read-only file system: no refresh asked for, the stored token unchanged and still refreshable" {
  seed streamer accstorekept0001 refstorefull0001 120
  cp "$STORE/streamer.json" "$T/before.json"
  mount -o remount,ro "$XDG_CONFIG_HOME"
  check_refused "Read-only file system"
  TWITCH_TOKEN=accstorekept0001 run ta validate -q
  assert_success
  mount -o remount,rw "$XDG_CONFIG_HOME"
  run --separate-stderr ta token --login streamer
  assert_success
  refute_output accstorekept0001
}
