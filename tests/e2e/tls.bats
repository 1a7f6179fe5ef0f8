#!/usr/bin/env bats
# TLS everywhere: every server (ws-serve, twitch-hook) and every client (the shared WebSocket
# client through ws-cat, amqp-pub through rabbitmq-c, twitch-auth through libcurl) refuses TLS
# before 1.2 even where the system's OpenSSL configuration allows it (weak-openssl.cnf), and
# --insecure warns on every connection it leaves unverified, not only the first.

load helpers

setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
}

setup() {
  export OPENSSL_CONF=$BATS_TEST_DIRNAME/weak-openssl.cnf
  PIDS=()
}

teardown() {
  kill_ours "${PIDS[@]}"
  true
}

# start_old_tls: the fake that speaks only TLS 1.0/1.1; sets OLD_PORT, its log in $OLD_LOG.
start_old_tls() {
  OLD_LOG=$BATS_TEST_TMPDIR/fake-tls.out
  : >"$OLD_LOG"
  timeout 60 "$PY" "$FAKES/tls_old.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" >"$OLD_LOG" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  OLD_PORT=$(listen_port "$OLD_LOG")
  [ -n "$OLD_PORT" ]
}

# handshake VERSION PORT: an openssl client that speaks only VERSION (tls1_1, tls1_2).
handshake() {
  echo | timeout 10 openssl s_client -brief "-$1" -connect "127.0.0.1:$2" 2>&1
}

# tls12_only LOG: the server that logged its port in LOG refuses TLS 1.1 and serves TLS 1.2.
tls12_only() {
  local port
  port=$(listen_port "$1")
  run handshake tls1_1 "$port"
  refute_output --partial "CONNECTION ESTABLISHED"
  run handshake tls1_2 "$port"
  assert_output --partial "CONNECTION ESTABLISHED"
}

@test "ws-serve --tls-cert: TLS 1.1 refused, TLS 1.2 served" {
  "$BIN/ws-serve" --listen 127.0.0.1:0 --keep-open --tls-cert "$BATS_FILE_TMPDIR/server.pem" \
    --tls-key "$BATS_FILE_TMPDIR/server.key" </dev/null 2>"$BATS_TEST_TMPDIR/serve.log" 3>&- 7>&- &
  PIDS+=($!)
  tls12_only "$BATS_TEST_TMPDIR/serve.log"
}

@test "twitch-hook --tls-cert: TLS 1.1 refused, TLS 1.2 served" {
  TWITCH_HOOK_SECRET=s3cr3t-for-the-tests-0123456789 "$BIN/twitch-hook" --listen 127.0.0.1:0 \
    --tls-cert "$BATS_FILE_TMPDIR/server.pem" --tls-key "$BATS_FILE_TMPDIR/server.key" \
    >/dev/null 2>"$BATS_TEST_TMPDIR/hook.log" 3>&- 7>&- &
  PIDS+=($!)
  tls12_only "$BATS_TEST_TMPDIR/hook.log"
}

# old_tls_refused LOG N: the fake saw N connections at least, and none agreed to an old version;
# the command warned about --insecure once for each of them (the one being made when it was
# stopped aside).
old_tls_refused() {
  local tried warned
  tried=$(grep -c '^refused' "$OLD_LOG")
  [ "$tried" -ge "$2" ] || { echo "only $tried connections:" >&2; cat "$OLD_LOG" "$1" >&2; return 1; }
  run grep -c '^handshake' "$OLD_LOG"
  assert_output 0
  warned=$(grep -c 'warning: --insecure: connecting to .* without verifying its certificate' "$1")
  [ "$warned" -ge "$tried" ] && [ "$warned" -le $((tried + 1)) ] ||
    { echo "$warned warnings for $tried connections:" >&2; cat "$1" >&2; return 1; }
}

@test "ws-cat (the shared WebSocket client): TLS 1.1 refused; --insecure warns on the connection" {
  start_old_tls
  run timeout 6 "$BIN/ws-cat" --insecure "wss://127.0.0.1:$OLD_PORT/"
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/cat.err"
  # A certificate or TLS failure ends the shared client (exit 1): one connection.
  assert_failure 1
  old_tls_refused "$BATS_TEST_TMPDIR/cat.err" 1
}

@test "amqp-pub (rabbitmq-c): TLS 1.1 refused; --insecure warns on every connection" {
  start_old_tls
  run timeout 20 "$BIN/amqp-pub" --url "amqps://guest:guest@127.0.0.1:$OLD_PORT" --insecure \
    --retry-for 4 --connect-timeout 2 -e '' -k q </dev/null
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/pub.err"
  assert_failure
  old_tls_refused "$BATS_TEST_TMPDIR/pub.err" 2
}

@test "twitch-auth (libcurl): TLS 1.1 refused; --insecure warns on every request" {
  start_old_tls
  local i
  for i in 1 2; do
    TWITCH_TOKEN=accseedtls0001 run "$BIN/twitch-auth" validate --insecure \
      --auth-url "https://127.0.0.1:$OLD_PORT/oauth2"
    printf '%s\n' "$output" >>"$BATS_TEST_TMPDIR/auth.err"
    assert_failure 1
  done
  old_tls_refused "$BATS_TEST_TMPDIR/auth.err" 2
}
