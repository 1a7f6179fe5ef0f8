#!/usr/bin/env bats
# A sample for tests/lint-bats: each line marked "refused" asserts something false, yet every test
# but the second passes under Bats (see good.bats for what is fine). tests/e2e/lint-bats.bats runs
# both and expects lint-bats to name exactly the marked lines.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

@test "an AND-list and a negation, not last" {
  run false
  [ "$status" -eq 0 ] && [ -z "$output" ]  # refused
  ! true  # refused
  true
}

@test "on the last line an AND-list works, until a line is appended" {
  [[ a == x ]] && [[ b == y ]]  # refused
}

@test "inside a loop, in a then branch, after a semicolon, across a line break" {
  for i in 1 2; do
    [ "$i" = 0 ] && true  # refused
  done
  if true; then ! true; fi  # refused
  true; ! true  # refused
  [ 1 = 2 ] \
    && true  # refused (reported on the line above)
  ! (( 1 ))  # refused
  true
}

@test "a rescue that cannot fail, a piped run, a masked status" {
  [ 1 = 2 ] && true || true  # refused
  run -0 false | cat  # refused
  local x=$(false)  # refused
  true
}
