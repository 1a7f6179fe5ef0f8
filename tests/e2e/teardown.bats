#!/usr/bin/env bats
# kill_ours, which every teardown ends its processes with (helpers.bash): it signals only the
# test's own processes and their children, and never a sanitized one in its exit-time leak check,
# whose cut check would be a sanitizer report of its own.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
  # slow-exit: builds a large reachable heap and exits 0, so LeakSanitizer's check at its exit
  # takes long enough to be seen, and finds nothing.
  cat >"$BATS_FILE_TMPDIR/slow-exit.c" <<'C'
#include <stdlib.h>
struct node { struct node *next; char pad[24]; };
static struct node *head;
int main(void) {
  for (int i = 0; i < 3000000; i++) {
    struct node *n = malloc(sizeof *n);
    if (!n) return 2;
    n->next = head;
    head = n;
  }
  return 0;
}
C
  cc -fsanitize=address -o "$BATS_FILE_TMPDIR/slow-exit" "$BATS_FILE_TMPDIR/slow-exit.c" \
    2>"$BATS_FILE_TMPDIR/cc.err" || true
}

setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
}

teardown() {
  unset -f kill  # the last test stands a failing kill in for the real one
  kill_ours -9 "${PIDS[@]}"
}

@test "kill_ours -9 lets a sanitized process end its exit-time leak check first" {
  [ -x "$BATS_FILE_TMPDIR/slow-exit" ] || skip "no cc with -fsanitize=address: $(cat "$BATS_FILE_TMPDIR/cc.err")"
  ASAN_OPTIONS=log_path=$T/asan:detect_leaks=1 "$BATS_FILE_TMPDIR/slow-exit" &
  local p=$!
  PIDS+=("$p")
  wait_until 60 leak_checking "$p"
  kill_ours -9 "$p"
  wait_status "$p"
  assert_success
  run ! compgen -G "$T/asan.*"
}

@test "kill_ours ends a timeout's command with it" {
  timeout 60 sleep 50 &
  local p=$!
  PIDS+=("$p")
  wait_until 10 pgrep -x -P "$p" sleep
  local c
  c=$(pgrep -x -P "$p" sleep)
  kill_ours -9 "$p"
  wait_status "$p"
  assert_equal "$status" 137
  wait_until 10 bash -c "! kill -0 $c 2>/dev/null"
}

@test "kill_ours leaves a process that is not the test's own" {
  bash -c 'sleep 50 & echo $! >"$0"; wait' "$T/grandchild" &
  PIDS+=("$!")
  wait_for_file "$T/grandchild"
  local g
  g=$(cat "$T/grandchild")
  kill_ours -9 "$g"
  sleep 0.2
  run kill -0 "$g"
  assert_success
  kill -9 "$g"
}

@test "kill_ours is true when its process is gone by the time it signals it" {
  # The race: a timeout whose command ends on the signal is reaped between kill_ours's look and
  # its kill, which then fails; under errexit that failed the test (twitch-hook's stop_fakes).
  sleep 50 &
  local p=$!
  PIDS+=("$p")
  kill() { return 1; }
  kill_ours "$p"
  unset -f kill
}
