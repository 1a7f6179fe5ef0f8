#!/usr/bin/env bats
# tests/secrets-check, which `make check` runs over everything the end-to-end suite logged: it
# finds the suite's secrets in logs, error streams and kept outputs, and only there. Its fixtures
# live outside the suite's kept directories (SERVITOR_TEST_LOGS), which it searches afterwards.

load helpers

setup() {
  D=$(mktemp -d /tmp/servitor-secrets-check.XXXXXX)
  mkdir -p "$D/logs/test/1"
  L=$D/logs/test/1
  printf '%s\n' 'WS_SERVE_TOKEN=s3cret-token' 'url=amqp://guest:guest@127.0.0.1:5672' \
    '"client_secret": "csecret0123456789abcdef"' >"$D/source.bats"
  echo "ws-serve: info: listening on 127.0.0.1:8080" >"$L/serve.log"
}

teardown() {
  rm -rf "$D"
}

check() { "$ROOT/tests/secrets-check" "$D/logs" "$D/source.bats"; }

@test "secrets-check: clean logs pass, and it says how much it searched" {
  run check
  assert_success
  assert_output --partial "3 secrets, 1 files searched, 0 found"
}

@test "secrets-check: a token, a client secret or a URL's password in a log or an error fails, unnamed" {
  echo "ws-serve: error: bad token s3cret-token" >>"$L/serve.log"
  run check
  assert_failure 1
  assert_output --partial "serve.log: a secret of 12 characters (s3...)"
  refute_output --partial "s3cret-token"
  echo 'amqp-pub: warning: amqp://guest:guest@127.0.0.1: closed' >"$L/pub.err"
  echo 'twitch-auth: error: csecret0123456789abcdef' >"$L/run-x1.output"
  run check
  assert_failure 1
  assert_output --partial "pub.err: a secret"
  assert_output --partial "run-x1.output: a secret"
}

@test "secrets-check: what a fake issued (its secrets file) is a secret too" {
  printf 'accfake0123456789\n' >"$L/secrets"
  echo "twitch-irc: info: token accfake0123456789 refreshed" >"$L/irc.err"
  run check
  assert_failure 1
  assert_output --partial "irc.err: a secret"
}

@test "secrets-check: data and the fakes' own logs are not what the commands said" {
  echo '{"token":"s3cret-token"}' >"$L/out.ndjson"
  echo 's3cret-token' >"$L/token-file"
  echo 'GET /?token=s3cret-token' >"$L/fake.log"
  run check
  assert_success
}

@test "secrets-check: an empty or missing directory is a usage error (exit 2)" {
  rm -rf "$D/logs"
  mkdir "$D/logs"
  run check
  assert_failure 2
  run "$ROOT/tests/secrets-check" "$D/none"
  assert_failure 2
}
