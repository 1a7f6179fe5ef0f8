#!/usr/bin/env bats
# The alert desk (overlay/desk) and the overlay it steers, in headless chromium against one
# ws-serve (tests/browser/desk.test.js), and the parser of the overlay's variation conditions
# (tests/browser/condition.test.js). The server side of the control channel, with plain clients,
# is tests/e2e/ws-serve-control.bats.

load helpers
bats_require_minimum_version 1.5.0

@test "desk: browser tests of the desk and the overlay's control handling and variations" {
  browser_tests desk.test.js condition.test.js
  assert_output --partial '# pass 12'
}
