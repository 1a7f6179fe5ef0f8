#!/usr/bin/env bats
# Name resolution that fails and a server certificate that does not verify, for each default
# endpoint: twitch-irc (wss://irc-ws.chat.twitch.tv), twitch-auth (https://id.twitch.tv),
# amqp-pub and amqp-sub (amqps://), ws-cat (wss://). Each gives a clear error; the listeners retry
# a failed resolution as their man pages say (twitch-irc for ever, amqp-* for --retry-for, ws-cat
# with --reconnect), one-shot commands exit 1, and a certificate that does not verify ends every
# one of them with status 1, not retried (DESIGN.md, the man pages). The real hosts are used where
# they do not resolve (as without network); names under .invalid (RFC 6761) never resolve.

load faults-helpers
bats_require_minimum_version 1.5.0

setup_file() {
  faults_setup_file
  # A self-signed certificate for localhost: the right name, a signer nobody trusts.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$BATS_FILE_TMPDIR/self.key" \
    -out "$BATS_FILE_TMPDIR/self.pem" 2>/dev/null
}

teardown_file() { faults_teardown_file; }
setup() { faults_setup; }
teardown() { faults_teardown; }

# unresolvable HOST: succeeds if HOST does not resolve here.
unresolvable() { ! getent ahosts "$1" >/dev/null 2>&1; }

# runs_retrying SECONDS PATTERN CMD...: CMD is still running after SECONDS (timeout ends it, 124)
# and its stderr ($T/err) has at least two lines matching PATTERN (attempts).
runs_retrying() {
  local s=$1 pattern=$2
  shift 2
  local status=0
  timeout "$s" "$@" 2>"$T/err" || status=$?
  [ "$status" -eq 124 ] || { echo "status $status, not still running"; cat "$T/err"; false; }
  run grep -cE "$pattern" "$T/err"
  [ "$output" -ge 2 ] || { cat "$T/err"; false; }
}

@test "twitch-irc: an unresolvable server is retried with backoff, each attempt logged" {
  runs_retrying 4 'twitch-irc: warning: .*cannot resolve irc\.invalid' "$BIN/twitch-irc" \
    --url wss://irc.invalid maple
  if unresolvable irc-ws.chat.twitch.tv; then
    runs_retrying 4 'twitch-irc: warning: .*cannot resolve irc-ws\.chat\.twitch\.tv' \
      "$BIN/twitch-irc" maple
  fi
}

@test "twitch-irc: a server certificate that does not verify ends it at once, status 1" {
  timeout 60 "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/self.pem" \
    --key "$BATS_FILE_TMPDIR/self.key" --log "$T/fake.log" >"$T/fake.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/fake.out")
  run -1 timeout 20 "$BIN/twitch-irc" --url "wss://127.0.0.1:$port" maple
  assert_output --regexp 'twitch-irc: error: .*certificate'
}

@test "twitch-auth: id.twitch.tv unresolvable: 4 attempts (its man page), exit 1; a bad certificate exits 1" {
  run -1 env TWITCH_TOKEN=tokenfaults0001 timeout 20 "$BIN/twitch-auth" validate \
    --auth-url https://id.invalid/oauth2
  assert_output --regexp 'twitch-auth: error: .*Could not resolve host: id\.invalid \(after 4 attempts\)'
  if unresolvable id.twitch.tv; then
    run -1 env TWITCH_TOKEN=tokenfaults0001 timeout 20 "$BIN/twitch-auth" validate
    assert_output --regexp 'twitch-auth: error: .*Could not resolve host: id\.twitch\.tv \(after 4 attempts\)'
  fi
  timeout 60 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/self.pem" \
    --key "$BATS_FILE_TMPDIR/self.key" --log "$T/fake.log" >"$T/fake.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/fake.out")
  run -1 env TWITCH_TOKEN=tokenfaults0001 timeout 20 "$BIN/twitch-auth" validate \
    --auth-url "https://127.0.0.1:$port/oauth2"
  assert_output --regexp 'twitch-auth: error: .*certificate'
}

@test "amqp-pub, amqp-sub: an unresolvable broker is retried for --retry-for, then exit 1" {
  local c
  for c in amqp-pub amqp-sub; do
    SECONDS=0
    run -1 timeout 20 "$BIN/$c" --url amqps://guest:guest@broker.invalid --retry-for 2 <<<'{}'
    assert_output --regexp "$c: warning: .*broker\.invalid.*hostname lookup failed; retrying"
    assert_output --regexp "$c: error: .*broker\.invalid.*giving up after 2 s"
    [ "$SECONDS" -ge 2 ]
  done
}

@test "amqp-pub, amqp-sub: a broker certificate that does not verify: exit 1, not retried" {
  local url c
  url=$(sed -n 's/^AMQPS_TEST_URL=//p' "$AMQP_TEST_DIR/env")
  for c in amqp-pub amqp-sub; do
    run -1 timeout 20 "$BIN/$c" --url "$url" <<<'{}'
    assert_output --regexp "$c: error: .*cert(ificate)? verification failed"
    run grep -c 'retrying\|reconnecting in' <<<"$output"
    assert_output 0
  done
}

@test "ws-cat: an unresolvable wss:// server exits 1, with --reconnect it is retried" {
  run -1 timeout 20 "$BIN/ws-cat" wss://ws.invalid/
  assert_output --regexp 'ws-cat: error: .*cannot resolve ws\.invalid'
  runs_retrying 4 'ws-cat: warning: .*cannot resolve ws\.invalid' "$BIN/ws-cat" --reconnect \
    wss://ws.invalid/
}

@test "ws-cat: a wss:// certificate that does not verify exits 1, even with --reconnect" {
  mkfifo "$T/in"
  "$BIN/ws-serve" --listen 127.0.0.1:0 --tls-cert "$BATS_FILE_TMPDIR/self.pem" \
    --tls-key "$BATS_FILE_TMPDIR/self.key" <"$T/in" 2>"$T/serve.log" 3>&- 7>&- &
  PIDS+=($!)
  exec 8>"$T/in"
  local port
  port=$(listen_port "$T/serve.log")
  run -1 timeout 20 "$BIN/ws-cat" "wss://127.0.0.1:$port/" 8>&-
  assert_output --regexp 'ws-cat: error: .*certificate'
  run -1 timeout 20 "$BIN/ws-cat" --reconnect "wss://127.0.0.1:$port/" 8>&-
  assert_output --regexp 'ws-cat: error: .*certificate'
  exec 8>&-
}
