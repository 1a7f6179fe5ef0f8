#!/usr/bin/env bats
# tests/lint-bats, the check `make check` runs over tests/e2e/*.bats: on the samples in
# tests/data/lint-bats it names every line that cannot fail a test, and nothing else.

load helpers
bats_require_minimum_version 1.5.0

SAMPLES=$ROOT/tests/data/lint-bats

@test "lint-bats: names each line of the bad sample that cannot fail, with why, and exits 1" {
  run --separate-stderr "$ROOT/tests/lint-bats" "$SAMPLES/bad.bats"
  assert_failure 1
  refute_output
  local want got
  want=$(grep -n '# refused' "$SAMPLES/bad.bats" | cut -d: -f1 | grep -vx 28)
  want+=$'\n27'  # the continued line is reported where it starts
  got=$(sed -E 's/^lint-bats: error: [^:]+:([0-9]+): .*/\1/' <<<"$stderr")
  assert_equal "$(sort -n <<<"$got")" "$(sort -n <<<"$want")"
  [[ "$stderr" == *"bad.bats:12: \`a && b\` never fails a test when a fails"* ]]
  [[ "$stderr" == *"bad.bats:13: \`! cmd\` never fails a test"* ]]
  [[ "$stderr" == *"bad.bats:34: \`a && b || true\` never fails a test"* ]]
  [[ "$stderr" == *"bad.bats:35: \`run cmd | ...\`"* ]]
  [[ "$stderr" == *"bad.bats:36: \`local x=\$(cmd)\` hides cmd's status"* ]]
}

@test "lint-bats: the bad sample's refused lines really pass under Bats; only the last-line one fails" {
  run bats --tap "$SAMPLES/bad.bats"
  assert_failure 1
  assert_line 'ok 1 an AND-list and a negation, not last'
  assert_line --regexp '^not ok 2 '
  assert_line --regexp '^ok 3 '
  assert_line --regexp '^ok 4 '
}

@test "lint-bats: the good sample and every end-to-end test file pass" {
  run "$ROOT/tests/lint-bats" "$SAMPLES/good.bats" "$ROOT"/tests/e2e/*.bats
  assert_success
  refute_output
}

@test "lint-bats: a missing file is exit 2 with a message; no file is a usage error" {
  run --separate-stderr "$ROOT/tests/lint-bats" "$BATS_TEST_TMPDIR/none.bats"
  assert_failure 2
  [[ "$stderr" == "lint-bats: error: $BATS_TEST_TMPDIR/none.bats: No such file or directory" ]]
  run --separate-stderr "$ROOT/tests/lint-bats"
  assert_failure 2
  [[ "$stderr" == *"Usage: lint-bats FILE..."* ]]
}
