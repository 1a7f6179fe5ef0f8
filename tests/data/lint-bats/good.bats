#!/usr/bin/env bats
# A sample for tests/lint-bats: nothing here is refused (see bad.bats).

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

# Helpers outside tests may guard with && (their callers check what they return).
helper() {
  [ -n "${1:-}" ] && echo "$1"
  ! true
}

@test "assertions that fail the test when they do not hold" {
  run --separate-stderr false
  assert_failure 1
  refute_output
  [[ "$stderr" == "" && -z "$output" ]]
  run ! false
  [ "$(echo a && echo b)" = $'a\nb' ]
  (( 1 && 1 ))
  [ 1 = 1 ] && [ 2 = 2 ] || { echo "not equal"; false; }
  grep -q x <<<'x' || { echo 'no x' >&2; false; }  # a comment && ! with no effect
  echo 'a && b' "! c"
}

@test "conditions may use && and !" {
  local n=3 x
  x=$(true)
  while ! [ "$n" -eq 0 ] && [ "$n" -gt 0 ]; do n=$((n - 1)); done
  until [ "$n" -eq 0 ] || ! false; do :; done
  if ! false && true; then :; elif [ 1 = 1 ] && true; then :; fi
  cat <<'PY' >/dev/null
! this is not a command && neither is this
PY
}
