#!/usr/bin/env bats
# ws-serve --room-key and --room-tokens end to end: each client gets its room's events only, its
# room's history and resume ring, and is let in by its room's token.

load helpers
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

load ws-serve-helpers

# ev ID [ROOM]: one event, in ROOM's channel (none: no channel at all).
ev() {
  if [ -n "${2:-}" ]; then
    printf '{"id":"%s","type":"chat","channel":{"login":"%s"}}\n' "$1" "$2"
  else
    printf '{"id":"%s","type":"gap"}\n' "$1"
  fi
}

ids() { jq -r .id "$1" | paste -sd' '; }

@test "ws-serve rooms: each client gets its room's events and history; no key: the default room" {
  start_serve --room-key channel.login --history 2
  { ev 1 alice; ev 2 bob; ev 3; ev 4 alice; ev 5 alice; ev 6 alice; } >&7
  wait_health '.lines_in == 6 and .rooms == 3'
  cat_client a "ws://127.0.0.1:$PORT/r/alice/"
  cat_client q "ws://127.0.0.1:$PORT/?room=alice"
  cat_client b "ws://127.0.0.1:$PORT/r/bob"
  cat_client d "ws://127.0.0.1:$PORT/"
  cat_client c "ws://127.0.0.1:$PORT/r/carol/"
  wait_health '.clients == 5 and .rooms == 4'
  { ev 7 alice; ev 8 bob; ev 9; ev 10 carol; } >&7
  finish_serve
  local p
  for p in "${PIDS[@]}"; do wait "$p"; done
  run ids "$T/a.out"
  assert_output '5 6 7'
  run ids "$T/q.out"
  assert_output '5 6 7'
  run ids "$T/b.out"
  assert_output '2 8'
  run ids "$T/d.out"
  assert_output '3 9'
  run ids "$T/c.out"
  assert_output '10'
}

@test "ws-serve rooms: a client resumes (?after=) from its own room's ring" {
  start_serve --room-key channel.login --retain 10
  { ev 1 alice; ev 2 bob; ev 3 alice; ev 4 bob; ev 5 alice; } >&7
  wait_health '.lines_in == 5'
  cat_client a "ws://127.0.0.1:$PORT/r/alice/?after=3"
  cat_client b "ws://127.0.0.1:$PORT/r/bob/?after=3"
  wait_health '.clients == 2'
  finish_serve
  wait "${PIDS[0]}"
  wait "${PIDS[1]}"
  run jq -c 'select(.control == "catchup") | [.found, .replayed]' "$T/a.out"
  assert_output '[true,1]'
  run jq -r 'select(.id) | .id' "$T/a.out"
  assert_output '5'
  # Id 3 is alice's: bob's ring does not hold it, so bob starts at the oldest it retains.
  run jq -c 'select(.control == "catchup") | [.found, .replayed]' "$T/b.out"
  assert_output '[false,2]'
}

@test "ws-serve rooms: the overlay page is served under /r/ROOM/" {
  start_serve --room-key channel.login
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/r/alice/"
  assert_output 200
  run cmp <(curl -s "http://127.0.0.1:$PORT/r/alice/overlay.js") \
    <(curl -s "http://127.0.0.1:$PORT/overlay.js")
  assert_success
  run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/r/al%20ice/"
  assert_output 404
  finish_serve
}

@test "ws-serve rooms: bad room names, two rooms, or a room without --room-key are refused" {
  start_serve --room-key channel.login
  run upgrade_status "http://127.0.0.1:$PORT/r/al%20ice/"
  assert_output 400
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?room=bob"
  assert_output 400
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?room=alice"
  assert_output 101
  finish_serve
  exec 7>&- 2>/dev/null || true
  rm -f "$T/in"
  start_serve
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/"
  assert_output 404
  run upgrade_status "http://127.0.0.1:$PORT/"
  assert_output 101
  finish_serve
}

@test "ws-serve rooms: --room-tokens: a room's own token only; SIGHUP reads it again, clients stay" {
  unset WS_SERVE_TOKEN
  printf '# room token\nalice sekA\n\nbob\tsekB\n' >"$T/rooms"
  start_serve --room-key channel.login --room-tokens "$T/rooms" --token sekD
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?token=sekA"
  assert_output 101
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?token=sekB"
  assert_output 401
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/" -H 'Authorization: Bearer sekA'
  assert_output 101
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?token=sekD"
  assert_output 401
  run upgrade_status "http://127.0.0.1:$PORT/r/carol/?token=sekD"
  assert_output 401
  run upgrade_status "http://127.0.0.1:$PORT/?token=sekD"
  assert_output 101
  run upgrade_status "http://127.0.0.1:$PORT/?token=sekA"
  assert_output 401
  cat_client a "ws://127.0.0.1:$PORT/r/alice/?token=sekA"
  wait_health '.clients == 1'
  printf 'alice sekA2\ncarol sekC\n' >"$T/rooms"
  kill -HUP "$SERVE_PID"
  wait_for_line "$T/serve.log" 'room-tokens .*: 2 rooms'
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?token=sekA"
  assert_output 401
  run upgrade_status "http://127.0.0.1:$PORT/r/alice/?token=sekA2"
  assert_output 101
  run upgrade_status "http://127.0.0.1:$PORT/r/carol/?token=sekC"
  assert_output 101
  run upgrade_status "http://127.0.0.1:$PORT/r/bob/?token=sekB"
  assert_output 401
  # A file that does not read keeps the tokens as they were.
  printf 'alice\n' >"$T/rooms"
  kill -HUP "$SERVE_PID"
  wait_for_line "$T/serve.log" 'error: --room-tokens .*line 1: not ROOM TOKEN'
  run upgrade_status "http://127.0.0.1:$PORT/r/carol/?token=sekC"
  assert_output 101
  ev 1 alice >&7
  finish_serve
  wait "${PIDS[0]}"
  run ids "$T/a.out"
  assert_output '1'
  run ! grep -E 'sekA|sekB|sekC|sekD' "$T/serve.log"
}

@test "ws-serve rooms: usage errors" {
  run -2 "$BIN/ws-serve" --room-tokens /dev/null </dev/null
  assert_output --partial 'ws-serve: error: --room-tokens needs --room-key'
  printf 'alice sekA\nalice sekB\n' >"$T/rooms"
  run -2 "$BIN/ws-serve" --listen 127.0.0.1:0 --room-key channel.login --room-tokens "$T/rooms" \
    </dev/null
  assert_output --partial "ws-serve: error: --room-tokens $T/rooms: line 2: room alice named twice"
  run -2 "$BIN/ws-serve" --listen 127.0.0.1:0 --room-key channel.login --room-tokens "$T/none" \
    </dev/null
  assert_output --partial "ws-serve: error: --room-tokens $T/none: No such file or directory"
}
