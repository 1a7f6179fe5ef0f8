#!/usr/bin/env bats
# What the fuzz targets found in the commands' request paths, end to end (the parsers' findings
# are unit tests: tests/unit/fuzz_regressions_test.cc; each input is also in tests/fuzz/corpus).

load helpers

teardown() {
  kill_ours ${HOOK_PID:-}
  true
}

# cpu_ticks PID: user and system clock ticks the process used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# pipelined PORT BYTES: sends BYTES (with Python escapes) on one connection, reads until the
# server closes it (5 s at most) and prints the status codes of the answers, in order.
pipelined() {
  "$PY" - "$1" "$2" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(5)
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(" ".join(l.split()[1].decode() for l in data.split(b"\r\n") if l.startswith(b"HTTP/1.1 ")))
PYEOF
}

# idle PID: the process uses (next to) no CPU for 2 s.
idle() {
  local before after
  before=$(cpu_ticks "$1")
  sleep 2
  after=$(cpu_ticks "$1")
  [ $((after - before)) -lt 20 ] || { echo "$((after - before)) ticks in 2 s when idle" >&2; return 1; }
}

# hook_start: twitch-hook on a free port, its log in the test's directory; sets HOOK_PID, PORT.
hook_start() {
  : >"$BATS_TEST_TMPDIR/hook.log"
  TWITCH_HOOK_SECRET=s3cr3t-for-the-tests-0123456789 "$BIN/twitch-hook" --listen 127.0.0.1:0 \
    >/dev/null 2>"$BATS_TEST_TMPDIR/hook.log" 3>&- 7>&- &
  HOOK_PID=$!
  PORT=$(listen_port "$BATS_TEST_TMPDIR/hook.log")
}

# corpus/webhook/pipelined-post: a POST pipelined behind a GET on one keep-alive connection left
# twitch-hook spinning in libwebsockets 4.1.6 (100% CPU, for ever). The GET is answered 200 and
# keeps the connection; the POST behind it, which lws parsed from what it read before that
# answer, is not served: the connection is closed, and the server stays idle.
@test "twitch-hook: a POST pipelined behind a GET: the GET answered and the connection closed; no spin" {
  hook_start
  run pipelined "$PORT" 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST /eventsub HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}'
  assert_success
  assert_output "200"
  idle "$HOOK_PID"
  run curl -s "http://127.0.0.1:$PORT/healthz"
  assert_output --partial '"status":"ok"'
}

# corpus/webhook/pipelined-healthz-body: the GET answered 200 keeps its connection; the GET with a
# body behind it, which lws parsed from what it read before that answer, would spin lws 4.1.6 as
# the POST does. It is not served: the connection is closed, and counted.
@test "twitch-hook: a GET with a body pipelined behind a kept-alive answer: closed unanswered; no spin" {
  hook_start
  run pipelined "$PORT" 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde'
  assert_success
  assert_output "200"
  idle "$HOOK_PID"
  run curl -s "http://127.0.0.1:$PORT/healthz"
  assert_output --partial '"pipelined_closed":1'
}

# corpus/ws_frames/pipelined-post: the same spin in ws-serve, with a POST (405) pipelined behind a
# GET. A request with a body is now answered 405 and its connection closed.
@test "ws-serve: a POST pipelined behind a GET: the GET answered, the connection closed; no spin" {
  "$BIN/ws-serve" --listen 127.0.0.1:0 --keep-open </dev/null 2>"$BATS_TEST_TMPDIR/serve.log" \
    3>&- 7>&- &
  HOOK_PID=$!
  PORT=$(listen_port "$BATS_TEST_TMPDIR/serve.log")
  run pipelined "$PORT" 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'
  assert_success
  # The 405 is written just before the close: it may or may not reach the client first.
  assert_output --regexp '^200( 405)?$'
  idle "$HOOK_PID"
}
