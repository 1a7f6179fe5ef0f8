# Shared by every Bats file: where the commands are, and small helpers. Load with `load helpers`.

# bats-assert's assertions (assert_success, assert_failure N, assert_output, refute_output, ...):
# unlike `a && b` or `! cmd` on a line that is not a test's last, each fails the test.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

BIN=${SERVITOR_BIN:-$BATS_TEST_DIRNAME/../../build/bin}
ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
DATA=$ROOT/tests/data
FAKES=$ROOT/tests/fakes
# Debian's python3 has python3-websockets; the python3 on PATH may be another build.
PY=/usr/bin/python3

# wait_for_file FILE [SECONDS]: waits until FILE exists and is not empty.
wait_for_file() {
  local f=$1 n=$(( ${2:-10} * 20 ))
  while [ ! -s "$f" ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  [ -s "$f" ]
}

# wait_for_line FILE REGEX [SECONDS]: waits until a line of FILE matches REGEX.
wait_for_line() {
  local f=$1 re=$2 n=$(( ${3:-10} * 20 ))
  while ! grep -qE "$re" "$f" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  grep -qE "$re" "$f" 2>/dev/null
}

# wait_until SECONDS COMMAND...: waits until COMMAND succeeds; fails if it does not in SECONDS.
wait_until() {
  local n=$(( $1 * 20 ))
  shift
  until "$@"; do
    [ $n -gt 0 ] || return 1
    sleep 0.05
    n=$((n - 1))
  done
}

# listen_port LOGFILE: the port a command logged as "listening on HOST:PORT".
listen_port() {
  wait_for_line "$1" 'listening on [^ ]+:[0-9]+' 10 || return 1
  grep -oE 'listening on [^ ]+:[0-9]+' "$1" | head -1 | sed -E 's/.*:([0-9]+)$/\1/'
}

# wait_pid PID [SECONDS]: waits for a background process to end; fails if it does not.
wait_pid() {
  local pid=$1 n=$(( ${2:-10} * 20 ))
  while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  ! kill -0 "$pid" 2>/dev/null
}

# Every `timeout` in the tests also kills (SIGKILL) 5 seconds after its signal: a command that does
# not end on SIGTERM (a bug, or a sanitizer's exit-time check caught by the group signal) fails its
# test instead of hanging the suite. A script on PATH, not a function, so that `timeout ... &`
# leaves the timeout process itself in $!.
PATH=$BATS_TEST_DIRNAME/bin:$PATH

# make_test_ca DIR: a test CA (DIR/ca.pem) and a server certificate it signed for localhost and
# 127.0.0.1 (DIR/server.pem, DIR/server.key), for fakes that speak TLS.
make_test_ca() {
  local d=$1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
    -subj "/CN=twitch-servitor test CA" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=localhost" 2>/dev/null || return 1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.pem" -days 2 -extfile "$d/ext.cnf" 2>/dev/null
}
