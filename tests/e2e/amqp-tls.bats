#!/usr/bin/env bats
# amqp-pub and amqp-sub over amqps:// against the TLS listener of a real RabbitMQ node
# (tests/rabbitmq): the broker's certificate verified with --cacert, and client certificates
# (--cert/--key), which the node verifies against its test CA when one is presented; a client
# without one is still accepted. DIR/tls holds client.pem/client.key (from the test CA) and
# rogue-client.pem/rogue-client.key (from a CA the node does not trust).

load helpers
load amqp-helpers
bats_require_minimum_version 1.5.0

setup_file() { amqp_setup_file; }
teardown_file() { amqp_teardown_file; }
setup() {
  amqp_setup
  [ -n "$AMQPS_TEST_URL" ] || skip "the node has no TLS listener"
  TLS=$AMQP_TEST_DIR/tls
  [ -r "$TLS/client.pem" ] || skip "the node has no client certificates (made when DIR is new)"
}
teardown() { amqp_teardown; }

# pub_tls ARGS...: amqp-pub of one line {"n":1} to queue $T-q over TLS, verifying the broker.
pub_tls() {
  echo '{"n":1}' | timeout 20 "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" --cacert "$AMQP_TEST_CACERT" \
    -e '' -k "$T-q" "$@"
}

# fails_with STATUS TEXT CMD...: CMD must exit STATUS, write nothing on stdout, and TEXT on stderr.
fails_with() {
  local want=$1 text=$2
  shift 2
  run --separate-stderr "$@"
  [ "$status" -eq "$want" ] && [ "$output" = "" ] && [[ "$stderr" == *"$text"* ]] ||
    { echo "exit $status, stdout '$output', stderr: $stderr"; return 1; }
}

declare_queue() { amqp-declare-queue --url "$AMQP_TEST_URL" -d -q "$T-q" >/dev/null; }

@test "amqps: verified with --cacert; an unknown CA is a failure (exit 1) unless --insecure" {
  timeout 90 "$BIN/amqp-sub" --url "$AMQPS_TEST_URL" --cacert "$AMQP_TEST_CACERT" -e '' \
    -Q "$T-q" --count 2 >out &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  echo '{"tls":1}' | timeout 20 "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" \
    --cacert "$AMQP_TEST_CACERT" -e '' -k "$T-q"
  echo '{"tls":2}' | timeout 20 "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" --insecure -e '' -k "$T-q"
  wait "$sub"
  [ "$(cat out)" = $'{"tls":1}\n{"tls":2}' ]
  fails_with 1 "verification failed" timeout 20 "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" -e '' \
    -k "$T-q" < <(echo '{"tls":3}')
  [[ "$stderr" != *"retrying"* ]]
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "client certificate: amqp-sub and amqp-pub present it, the broker sees it, lines arrive" {
  timeout 90 "$BIN/amqp-sub" --url "$AMQPS_TEST_URL" --cacert "$AMQP_TEST_CACERT" \
    --cert "$TLS/client.pem" --key "$TLS/client.key" -e '' -Q "$T-q" --count 2 >out 2>sub.err &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  # The broker holds the certificate of the consumer's connection.
  run rmqctl -q list_connections ssl peer_cert_subject
  [[ "$output" == *"true"*"CN=servitor-test-client"* ]]
  printf '%s\n' '{"n":1}' '{"n":2}' | timeout 20 "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" \
    --cacert "$AMQP_TEST_CACERT" --cert "$TLS/client.pem" --key "$TLS/client.key" -e '' \
    -k "$T-q" 2>pub.err
  wait "$sub"
  [ "$(cat out)" = $'{"n":1}\n{"n":2}' ]
  [ "$(queue_depth "$T-q")" = 0 ]
  grep -q 'connected to amqps://guest@localhost' pub.err
  if grep -q 'error\|warning' pub.err sub.err; then false; fi
}

@test "client certificate: amqp-pub to amqp-get (amqp-tools) over TLS" {
  declare_queue
  run --separate-stderr pub_tls --cert "$TLS/client.pem" --key "$TLS/client.key"
  [ "$status" -eq 0 ]
  [ "$output" = "" ]
  [[ "$stderr" == *"connected to amqps://"* ]]
  run timeout 20 amqp-get --url "$AMQP_TEST_URL" -q "$T-q"
  [ "$status" -eq 0 ]
  [ "$output" = '{"n":1}' ]
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "a certificate from an unknown CA: the broker refuses it, exit 1 at once, nothing published" {
  declare_queue
  local refused="TLS handshake: the broker refused the client certificate"
  fails_with 1 "$refused (tlsv1 alert unknown ca)" \
    pub_tls --cert "$TLS/rogue-client.pem" --key "$TLS/rogue-client.key" --retry-for 10
  [[ "$stderr" != *"giving up"* ]]
  [ "$(queue_depth "$T-q")" = 0 ]
  # amqp-sub likewise, without consuming anything.
  fails_with 1 "$refused" timeout 20 "$BIN/amqp-sub" --url "$AMQPS_TEST_URL" \
    --cacert "$AMQP_TEST_CACERT" --cert "$TLS/rogue-client.pem" --key "$TLS/rogue-client.key" \
    -e '' -Q "$T-q" --count 1 --retry-for 10
  # The same connection without a certificate is accepted: the refusal was the certificate's.
  run --separate-stderr pub_tls
  [ "$status" -eq 0 ]
  [ "$(queue_depth "$T-q")" = 1 ]
}

@test "--cert without --key: the key may be in the certificate's file; if not, usage error" {
  declare_queue
  fails_with 2 "--cert: $TLS/client.pem holds no private key: name its key file with --key" \
    pub_tls --cert "$TLS/client.pem"
  [ "$(queue_depth "$T-q")" = 0 ]
  cat "$TLS/client.pem" "$TLS/client.key" >both.pem
  run --separate-stderr pub_tls --cert both.pem
  [ "$status" -eq 0 ]
  [ "$(queue_depth "$T-q")" = 1 ]
  # The key before the certificate works as well.
  cat "$TLS/client.key" "$TLS/client.pem" >both.pem
  run --separate-stderr pub_tls --cert both.pem
  [ "$status" -eq 0 ]
  [ "$(queue_depth "$T-q")" = 2 ]
}

@test "--key without --cert: usage error, for amqp-pub and amqp-sub" {
  declare_queue
  fails_with 2 "--key requires --cert" pub_tls --key "$TLS/client.key"
  fails_with 2 "--key requires --cert" timeout 20 "$BIN/amqp-sub" --url "$AMQPS_TEST_URL" \
    --key "$TLS/client.key" -e '' -Q "$T-q" --count 1
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "a key that is not the certificate's: usage error (exit 2) before connecting" {
  declare_queue
  fails_with 2 \
    "--key: $TLS/rogue-client.key is not the private key of the certificate in $TLS/client.pem" \
    pub_tls --cert "$TLS/client.pem" --key "$TLS/rogue-client.key"
  [[ "$stderr" != *"connected"* && "$stderr" != *"retrying"* ]]
  # The same in one file.
  cat "$TLS/client.pem" "$TLS/rogue-client.key" >both.pem
  fails_with 2 "--cert: both.pem: the private key is not the certificate's" \
    timeout 20 "$BIN/amqp-sub" --url "$AMQPS_TEST_URL" --cert both.pem -e '' -Q "$T-q" --count 1
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "--cert and --key that are missing, swapped or encrypted: usage error (exit 2)" {
  declare_queue
  fails_with 2 "--cert: File does not exist: nonexistent.pem" \
    pub_tls --cert nonexistent.pem --key "$TLS/client.key"
  fails_with 2 "--key: File does not exist: nonexistent.key" \
    pub_tls --cert "$TLS/client.pem" --key nonexistent.key
  fails_with 2 "--cert: $TLS/client.key: no PEM certificate in it" \
    pub_tls --cert "$TLS/client.key" --key "$TLS/client.pem"
  # An encrypted key is refused, never a password prompt.
  openssl pkey -in "$TLS/client.key" -aes256 -passout pass:secret -out enc.key
  fails_with 2 "--key: enc.key: no unencrypted PEM private key in it" \
    pub_tls --cert "$TLS/client.pem" --key enc.key
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "an unreadable --cert: usage error (exit 2) naming the cause" {
  local dir
  dir=$(mktemp -d /tmp/servitor-tls.XXXXXX)
  chmod 755 "$dir"
  cp "$TLS/client.pem" "$TLS/client.key" "$dir"
  chmod 000 "$dir/client.pem"
  chmod 644 "$dir/client.key"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    # root reads anything: run as nobody.
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    "${as[@]}" test -x "$BIN/amqp-pub" || { rm -rf "$dir"; skip "nobody cannot run $BIN"; }
  fi
  local ok=0
  fails_with 2 "--cert: $dir/client.pem: Permission denied" timeout 20 "${as[@]}" \
    "$BIN/amqp-pub" --url "$AMQPS_TEST_URL" --cert "$dir/client.pem" --key "$dir/client.key" \
    -e '' -k "$T-q" </dev/null || ok=$?
  rm -rf "$dir"
  [ "$ok" -eq 0 ]
}
