# Shared by the ws-serve Bats files: a ws-serve on a free port reading a FIFO that the test
# writes through fd 7, and clients of it. Load with `load ws-serve-helpers` after `load helpers`.

setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
}

teardown() {
  exec 7>&- 2>/dev/null || true
  kill_ours -9 "${PIDS[@]}" ${SERVE_PID:-}
}

# start_serve ARGS...: ws-serve on a free port reading $T/in (write lines with `>&7`, end the
# input with `exec 7>&-`). Sets SERVE_PID and PORT; stderr in $T/serve.log, stdout in $T/serve.out.
start_serve() {
  mkfifo "$T/in"
  : >"$T/serve.log"
  "$BIN/ws-serve" --listen 127.0.0.1:0 "$@" <"$T/in" >"$T/serve.out" 2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  [ -n "$PORT" ] && [ "$PORT" -ne 0 ]
}

health() { curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"; }

# wait_health JQ_EXPR [SECONDS]: waits until /healthz satisfies the jq expression.
wait_health() {
  local n=$(( ${2:-10} * 10 ))
  while ! health | jq -e "$1" >/dev/null 2>&1 && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  health | jq -e "$1" >/dev/null
}

# cat_client NAME ARGS...: a ws-cat in the background, output in $T/NAME.out and .err.
cat_client() {
  local name=$1; shift
  timeout 30 "$BIN/ws-cat" "$@" >"$T/$name.out" 2>"$T/$name.err" 3>&- 7>&- &
  PIDS+=($!)
}

# py_clients ARGS...: the Python clients in the background; summary in $T/py.out.
py_clients() {
  timeout 120 $PY "$FAKES/ws_clients.py" "ws://127.0.0.1:$PORT/" --ready "$T/ready" "$@" \
    >"$T/py.out" 2>"$T/py.err" 3>&- 7>&- &
  PY_PID=$!
  wait_for_file "$T/ready" 30
}

# finish_serve: ends the input and expects ws-serve to drain and exit 0.
finish_serve() {
  exec 7>&-
  wait_pid "$SERVE_PID" "${1:-20}"
  wait "$SERVE_PID"
}

# upgrade_status URL [CURL ARGS...]: the HTTP status of a WebSocket upgrade to URL (101 when
# accepted: curl then gives up after a second).
upgrade_status() {
  local url=$1; shift
  curl -s -o /dev/null --max-time 1 -w '%{http_code}' -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$@" "$url" || true
}
