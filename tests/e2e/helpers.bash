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

# listen_port LOGFILE: the port a command logged as "listening on HOST:PORT". Empty LOGFILE
# (`: >LOGFILE`) before starting the command when it may hold an earlier run's line: the
# command's own `>LOGFILE` truncates it only once the command has started, so the old line
# can be read first, and the file found empty a moment later.
listen_port() {
  wait_for_line "$1" 'listening on [^ ]+:[0-9]+' 10 || return 1
  grep -oE 'listening on [^ ]+:[0-9]+' "$1" | head -1 | sed -E 's/.*:([0-9]+)$/\1/'
}

# proc_stat PID: sets STATE and PPID from /proc/PID/stat; fails if PID names no process.
proc_stat() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }  # past the command's name, which may hold spaces and parentheses
  read -r STATE PPID_ _ <<<"$stat"
}

# ours PID [PARENT]: PID is still a child of PARENT, by default this test's shell (running, or
# ended and not yet reaped). Bash reaps a background process as soon as it ends, and the kernel
# then gives its PID to the next process started anywhere on the machine (pid_max is 32768 here),
# another suite's included: a PID kept after its process ended may name someone else's by
# teardown.
ours() {
  local STATE PPID_
  proc_stat "$1" && [ "$PPID_" = "${2:-$BASHPID}" ]
}

# leak_checking PID: PID is a sanitized command in its exit-time leak check: LeakSanitizer's
# tracer has every thread of it stopped (TracerPid). A signal then cuts the check, and the cut
# check leaves a report of its own ("Unable to get registers from thread N", or an empty log
# file) though nothing leaked.
leak_checking() {
  local key value
  while read -r key value; do
    [ "$key" = TracerPid: ] && { [ "$value" != 0 ]; return; }
  done 2>/dev/null <"/proc/$1/status"
  return 1
}

# spare_leak_check PID: waits, at most 30 s, for PID to end (or be a zombie) if it is in its
# leak check (above): the process is ending then, and the check's tracer is a child of it that
# kill_ours must not signal either.
spare_leak_check() {
  local n=600 STATE PPID_
  leak_checking "$1" || return 0
  while proc_stat "$1" && [ "$STATE" != Z ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
}

# kill_ours [-SIGNAL] PID...: sends SIGNAL (TERM) to each PID that is ours (above), and first to
# its children: a `timeout CMD` killed alone leaves CMD running with no one to end it. A
# sanitized command in its exit-time leak check is let end it first. Always true.
kill_ours() {
  local sig=-TERM p c
  case ${1:-} in -*) sig=$1; shift ;; esac
  for p in "$@"; do
    ours "$p" || continue
    spare_leak_check "$p"
    for c in $(pgrep -P "$p"); do
      spare_leak_check "$c"
      if ours "$c" "$p"; then kill "$sig" "$c" 2>/dev/null || true; fi
    done
    # Gone since it was looked at (a timeout whose command just ended) is what was wanted:
    # under errexit a failed kill would fail the test.
    if ours "$p"; then kill "$sig" "$p" 2>/dev/null || true; fi
  done
  return 0
}

# wait_pid PID [SECONDS]: waits for a background process to end; fails if it does not.
wait_pid() {
  local pid=$1 n=$(( ${2:-10} * 20 ))
  while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  ! kill -0 "$pid" 2>/dev/null
}

# wait_status PID: waits for PID, a background child of the test, and sets $status to its exit
# status for assert_success/assert_failure (and $output empty). (`run wait PID` cannot: run's subshell is not the
# process's parent, so it gets 255 while the process still runs.)
wait_status() {
  status=0
  output=""
  lines=()
  wait "$1" || status=$?
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

# For tests/secrets-check: what a `run` printed, kept in the test's directory when the command
# failed or was asked for --help, --version or -v (with --separate-stderr, bats keeps its stderr
# there itself, and stdout is the command's data). tests/e2e/run keeps every test's directory
# when SERVITOR_TEST_LOGS is set. (Outside Bats, as bench/eventsub loads this file, there is no
# `run` to wrap.)
if ! declare -F bats_run_unkept >/dev/null && declare -F run >/dev/null; then
  eval "bats_run_unkept() $(declare -f run | tail -n +2)"
fi
declare -F bats_run_unkept >/dev/null && run() {
  bats_run_unkept "$@"
  local rc=$? keep=
  if [ "${status:-0}" -ne 0 ]; then keep=1; fi
  case " $* " in *" --help "* | *" --version "* | *" -h "*) keep=1 ;; esac
  # -v says more on stderr; with --separate-stderr, $output is stdout: data (twitch-auth token).
  case " $* " in *" --separate-stderr "*) ;; *" -v "* | *" --verbose "*) keep=1 ;; esac
  if [ -n "${SERVITOR_TEST_LOGS:-}" ] && [ -n "${BATS_TEST_TMPDIR:-}" ] && [ -n "$keep" ]; then
    printf '%s\n' "$output" >"$(mktemp "$BATS_TEST_TMPDIR/run-XXXXXX.output")"
  fi
  return $rc
}

# browser_tests FILE...: tests/browser/FILE... in headless chromium (node --test, two files at a
# time, each with its own browser and ws-serve), screenshots in the test's own directory
# (SERVITOR_TEST_OUTPUT). Prints every result line, how long it took and, for each failure, its
# report, first; fails unless every test passed within 290 s (BATS_TEST_TIMEOUT is 300). $output
# is node's report. Skipped in a sanitized suite (SERVITOR_SANITIZED, set by the Makefile).
browser_tests() {
  [ -x /usr/bin/chromium ] || skip "no /usr/bin/chromium (scripts/install-deps installs it)"
  [ -z "${SERVITOR_SANITIZED:-}" ] ||
    skip "browser tests run in the unsanitized suite: the pages are the same there"
  [ -d "$ROOT/tests/node_modules/playwright-core" ] || {
    echo "tests/node_modules/playwright-core is missing: run scripts/install-deps" >&2
    return 1
  }
  export SERVITOR_TEST_OUTPUT=$BATS_TEST_TMPDIR/output
  local files=() f start=$SECONDS
  for f in "$@"; do files+=("$ROOT/tests/browser/$f"); done
  run timeout 290 node --test --test-concurrency=2 "${files[@]}"
  {
    # A failure's report: from its "not ok" line to the end of its YAML block.
    echo "$output" | awk '/^not ok /{p=1} p{print} p&&/^  \.\.\.$/{p=0}'
    echo "$output" | grep -E '^(not )?ok |^# (pass|fail)'
    echo "node --test $*: exit $status after $((SECONDS - start)) s$([ "$status" -eq 124 ] && echo ': timed out')"
  } >&2
  assert_success
  assert_output --partial "# fail 0"
}
