# Shared by the tests/faults/*.bats files: the e2e helpers (BIN, ROOT, FAKES, PY, wait_*,
# listen_port, make_test_ca, the killing `timeout`), and helpers for faults.
load ../e2e/helpers
# The e2e `timeout` wrapper (helpers.bash puts tests/faults/bin on PATH, which does not exist).
PATH=$ROOT/tests/e2e/bin:$PATH
# The RabbitMQ node of the run (AMQP_TEST_URL from .ci/run), or one of the file's own.
# shellcheck source=../e2e/amqp-helpers.bash
. "$ROOT/tests/e2e/amqp-helpers.bash"

# faults_setup_file: a test CA with a server certificate (make_test_ca) and a RabbitMQ node.
faults_setup_file() {
  make_test_ca "$BATS_FILE_TMPDIR"
  amqp_setup_file
}

faults_teardown_file() { amqp_teardown_file; }

# faults_setup: T is the test's directory; PIDS collects what faults_teardown kills.
faults_setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
}

faults_teardown() { kill_pids "${PIDS[@]}"; }

# need_root WHAT: skips the test unless it runs as root (mount, faketime of a root-only kind).
need_root() {
  [ "$(id -u)" = 0 ] || skip "needs root: $1"
}

# kill_pids PID...: SIGKILL (kill_ours, children first) and reap (quietly) each that is still
# ours. No SIGTERM: a command ending on it can be slow to end under a sanitizer, and the test
# has nothing more to learn from it.
kill_pids() {
  local p
  kill_ours -9 "$@"
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
