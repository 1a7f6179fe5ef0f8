#!/usr/bin/env bats
# ws-serve end to end, with real clients: ws-cat, and Python's websockets (tests/fakes/ws_clients.py)
# as an independent implementation. ws-serve reads a FIFO that the test writes through fd 7.

load helpers
bats_require_minimum_version 1.5.0

load ws-serve-helpers

@test "ws-serve: logs the real port, serves /healthz, exits 0 at the end of input" {
  start_serve
  grep -qE "^ws-serve: info: listening on 127\.0\.0\.1:$PORT$" "$T/serve.log"
  run health
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.clients == 0 and .lines_in == 0 and .frames_sent == 0 and .dropped == 0'
  run curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/healthz"
  [[ "$output" == application/json* ]]
  finish_serve
  [ ! -s "$T/serve.out" ]
}

@test "ws-serve: end of input drains every line to every client, closes with 1000, exits 0" {
  start_serve
  cat_client a "ws://127.0.0.1:$PORT/"
  cat_client b "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 2'
  seq 1 500 >&7
  finish_serve
  wait "${PIDS[0]}"  # ws-cat exits 0 only after a normal close
  wait "${PIDS[1]}"
  diff <(seq 1 500) "$T/a.out"
  diff <(seq 1 500) "$T/b.out"
}

@test "ws-serve: 200 clients each receive 10,000 lines complete and in order" {
  start_serve --drain-timeout 60
  py_clients --clients 200 --lines 10000 --timeout 100
  wait_health '.clients == 200'
  seq 1 10000 >&7
  finish_serve 100
  wait "$PY_PID" || { cat "$T/py.out" "$T/py.err"; false; }
  grep -q "complete=200" "$T/py.out"
  run ! grep "too slow" "$T/serve.log"
}

# vmhwm_kb PID: the peak resident set of a process.
vmhwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# The lines are 200 bytes long, so that 100,000 of them (20 MB) overflow what the kernel buffers
# for the stalled client plus its queue; ws-serve batches frames, and short lines could all fit.
@test "ws-serve: a client that stops reading is cut off (1008); the others get all 100,000 lines; memory stays bounded" {
  start_serve --drain-timeout 60
  py_clients --clients 5 --stall 1 --lines 100000 --width 200 --timeout 100
  wait_health '.clients == 6'
  seq -f '%0200.0f' 1 100000 >&7
  exec 7>&-
  local peak=0 n=0 kb
  while kill -0 "$SERVE_PID" 2>/dev/null && [ $n -lt 1000 ]; do
    if kb=$(vmhwm_kb "$SERVE_PID" 2>/dev/null) && [ -n "$kb" ]; then peak=$kb; fi  # none once a zombie
    sleep 0.1; n=$((n + 1))
  done
  wait "$SERVE_PID"
  wait "$PY_PID" || { cat "$T/py.out"; false; }
  grep -q "complete=5 " "$T/py.out"
  grep -qE "client [0-9]+: too slow .*disconnecting" "$T/serve.log"
  # AddressSanitizer's shadow memory and quarantine come on top in a SANITIZE build.
  local bound=65536
  if ldd "$BIN/ws-serve" | grep -q libasan; then bound=$((256 * 1024)); fi
  echo "peak RSS ${peak} kB (bound ${bound} kB)" >&3
  [ "$peak" -gt 0 ]
  [ "$peak" -lt "$bound" ]
}

@test "ws-serve: --slow-client drop keeps a stalled client connected, drops and counts its messages" {
  start_serve --slow-client drop --drain-timeout 3
  py_clients --clients 2 --stall 1 --lines 50000 --width 400 --timeout 60
  wait_health '.clients == 3'
  seq -f '%0400.0f' 1 50000 >&7
  wait_health '.lines_in == 50000 and .dropped > 0 and .slow_disconnects == 0' 60
  finish_serve 30
  wait "$PY_PID" || { cat "$T/py.out"; false; }
  grep -q "complete=2 " "$T/py.out"
  grep -qE "client [0-9]+: too slow .*dropping messages" "$T/serve.log"
}

@test "ws-serve: lines that are not UTF-8, too long, or (with --json) not JSON are skipped and counted" {
  start_serve --json --max-line 20
  cat_client a "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  printf '{"n":1}\n\xff\xfe{"bad":1}\n{"n":2,"long":"xxxxxxxxxxxxxxxxxxx"}\nnot json\n{"n":3}\n' >&7
  wait_health '.lines_in == 2 and .skipped == 3'
  finish_serve
  wait "${PIDS[0]}"
  diff <(printf '{"n":1}\n{"n":3}\n') "$T/a.out"
  grep -q "line 2: not valid UTF-8: skipped" "$T/serve.log"
  grep -q "line 3: longer than 20 bytes: skipped" "$T/serve.log"
  grep -q "line 4: not JSON" "$T/serve.log"
}

@test "ws-serve: without --json any UTF-8 line goes out as it is" {
  start_serve
  cat_client a "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  printf 'not json\n{"n":1}\n' >&7
  finish_serve
  wait "${PIDS[0]}"
  diff <(printf 'not json\n{"n":1}\n') "$T/a.out"
}

@test "ws-serve: --token: 401 without it; ?token= and Authorization: Bearer work; the page needs none" {
  export WS_SERVE_TOKEN=s3cret
  start_serve
  unset WS_SERVE_TOKEN
  run -3 timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [[ "$output" == *"refused the credentials (HTTP 401)"* ]]
  run -3 timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/?token=wrong"
  run curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    "http://127.0.0.1:$PORT/"
  [ "$output" = 401 ]
  cat_client q "ws://127.0.0.1:$PORT/?token=s3cret"
  cat_client h --header 'Authorization: Bearer s3cret' "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 2'
  echo hello >&7
  finish_serve
  wait "${PIDS[0]}"
  wait "${PIDS[1]}"
  [ "$(cat "$T/q.out")" = hello ]
  [ "$(cat "$T/h.out")" = hello ]
  run ! grep s3cret "$T/serve.log" "$T/q.err"
}

@test "ws-serve: --origin refuses browsers from other origins" {
  start_serve --origin http://good.example
  run curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' \
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://127.0.0.1:$PORT/"
  [ "$output" = 403 ]
  run curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://good.example' \
    -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' --max-time 2 "http://127.0.0.1:$PORT/"
  [ "$output" = 101 ]
}

@test "ws-serve: --history replays the last N lines to a new client; without it nothing old" {
  start_serve --history 2
  printf 'a\nb\nc\n' >&7
  wait_health '.lines_in == 3'
  cat_client h "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  echo d >&7
  finish_serve
  wait "${PIDS[0]}"
  diff <(printf 'b\nc\nd\n') "$T/h.out"
}

@test "ws-serve: a client gets only what arrives after it connected (no --history)" {
  start_serve
  printf 'a\nb\n' >&7
  wait_health '.lines_in == 2'
  cat_client n "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  echo c >&7
  finish_serve
  wait "${PIDS[0]}"
  diff <(echo c) "$T/n.out"
}

@test "ws-serve: static files from --root with their content types, never anything outside" {
  mkdir -p "$T/site/css" "$T/site/sub"
  echo '<p>overlay</p>' >"$T/site/index.html"
  echo 'p{}' >"$T/site/css/a.css"
  echo 'TOPSECRET' >"$T/secret.txt"
  ln -s "$T/secret.txt" "$T/site/escape.txt"
  start_serve --root "$T/site"
  local u="http://127.0.0.1:$PORT"
  run curl -s -w '\n%{http_code} %{content_type}' "$u/"
  assert_output --partial "<p>overlay</p>"
  assert_output --partial "200 text/html"
  run curl -s -o /dev/null -w '%{http_code} %{content_type}' "$u/css/a.css"
  [[ "$output" == "200 text/css"* ]]
  run curl -s -o /dev/null -w '%{http_code}' "$u/nope.html"
  [ "$output" = 404 ]
  for path in /../secret.txt /css/../../secret.txt /%2e%2e/secret.txt /%2E%2E/secret.txt \
              /css/%2e%2e/%2e%2e/secret.txt /..%2fsecret.txt /escape.txt "/$T/secret.txt" \
              //etc/passwd /../../../../etc/passwd; do
    run curl -s --path-as-is -w '\n%{http_code}' "$u$path"
    [[ "$output" != *TOPSECRET* ]] && [[ "$output" != *root:* ]] || { echo "leak: $path"; false; }
    [[ "${output##*$'\n'}" =~ ^40[34]$ ]] || { echo "$path: ${output##*$'\n'}"; false; }
  done
  run curl -s -o /dev/null -w '%{http_code}' -X POST "$u/index.html"
  [[ "$output" =~ ^4 ]]
}

# raw_head PATH: a HEAD request for PATH with "Connection: close" on a raw socket, and all that
# comes back until the server closes: a body after the headers shows, a connection left open hangs
# the read until the timeout (status 124).
raw_head() {
  local rc=0
  exec 8<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&8
  timeout 5 cat <&8 || rc=$?
  exec 8<&-
  return $rc
}

@test "ws-serve: HEAD answers with GET's status and headers and no body; HTTP needs no token" {
  mkdir -p "$T/site/css"
  echo '<p>overlay</p>' >"$T/site/index.html"
  echo 'p{}' >"$T/site/css/a.css"
  echo 'TOPSECRET' >"$T/secret.txt"
  ln -s "$T/secret.txt" "$T/site/escape.txt"
  export WS_SERVE_TOKEN=s3cret
  start_serve --root "$T/site"
  unset WS_SERVE_TOKEN
  local u="http://127.0.0.1:$PORT" path code
  for check in "/healthz 200" "/ 200" "/css/a.css 200" "/nope.html 404" "/escape.txt 403"; do
    read -r path code <<<"$check"
    timeout 10 curl -s --max-time 5 -o /dev/null -D - "$u$path" | tr -d '\r' >"$T/get"
    timeout 10 curl -sI --max-time 5 "$u$path" | tr -d '\r' >"$T/head"
    grep -q "^HTTP/1.1 $code " "$T/get"
    grep -qi '^content-type: ' "$T/head"
    grep -qi '^content-length: ' "$T/head"
    diff "$T/get" "$T/head" || { echo "HEAD $path: not GET's headers"; false; }
    raw_head "$path" >"$T/raw" || { echo "HEAD $path: connection not closed"; false; }
    grep -q "^HTTP/1.1 $code " "$T/raw"
    # Nothing after the blank line that ends the headers: "\r\n" and no more.
    [ "$(sed -n '/^\r$/,$p' "$T/raw" | wc -c)" -eq 2 ] || { echo "HEAD $path: a body"; false; }
  done
  grep -qix "content-length: $(stat -c %s "$T/site/index.html")" <(curl -sI "$u/" | tr -d '\r')
  # A HEAD leaves a keep-alive connection ready for the next request, which is answered in full.
  run timeout 10 curl -sI --max-time 5 -o /dev/null "$u/css/a.css" \
    --next -s --max-time 5 -o "$T/after" -w '%{num_connects}' "$u/healthz"
  assert_success
  assert_output 0
  jq -e '.status == "ok"' "$T/after"
  finish_serve
  [ ! -s "$T/serve.out" ]
}

@test "ws-serve: methods other than GET and HEAD get 405 with Allow: GET, HEAD" {
  start_serve
  local u="http://127.0.0.1:$PORT" m
  for m in POST PUT DELETE; do
    run timeout 10 curl -s --max-time 5 -X "$m" -d 'a=1' -D "$T/h" -o "$T/b" -w '%{http_code}' \
      "$u/healthz"
    assert_success
    assert_output 405
    tr -d '\r' <"$T/h" | grep -qx 'allow: GET, HEAD'
    [ "$(cat "$T/b")" = "method not allowed" ]
  done
  run timeout 10 curl -s --max-time 5 -o /dev/null -D - "$u/healthz"
  assert_output --regexp '^HTTP/1.1 200 '
  [[ "${output,,}" != *allow:* ]]
  finish_serve
  [ ! -s "$T/serve.out" ]
}

@test "ws-serve: a client killed mid-stream does not disturb the others" {
  start_serve --drain-timeout 30
  "$BIN/ws-cat" "ws://127.0.0.1:$PORT/" >"$T/victim.out" 2>/dev/null 3>&- 7>&- &
  local victim=$!
  PIDS+=($victim)
  py_clients --clients 3 --lines 20000 --timeout 60
  wait_health '.clients == 4'
  seq 1 10000 >&7
  wait_for_line "$T/victim.out" '^5000$' 20
  kill -9 "$victim"
  wait_health '.clients == 3'
  seq 10001 20000 >&7
  finish_serve 30
  wait "$PY_PID" || { cat "$T/py.out"; false; }
  grep -q "complete=3 " "$T/py.out"
}

@test "ws-serve: /healthz counts clients, lines in and frames sent" {
  start_serve
  cat_client a "ws://127.0.0.1:$PORT/"
  cat_client b "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 2'
  seq 1 10 >&7
  wait_health '.lines_in == 10 and .frames_sent == 20 and .dropped == 0 and .skipped == 0'
  finish_serve
}

@test "ws-serve: --relay writes client messages to stdout; without it they are ignored" {
  start_serve --relay --keep-open
  printf 'one\ntwo\n' | timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" 3>&- 7>&-
  wait_for_line "$T/serve.out" '^two$' 10
  diff <(printf 'one\ntwo\n') "$T/serve.out"
  kill -TERM "$SERVE_PID"
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
}

@test "ws-serve: client messages are ignored without --relay" {
  start_serve --keep-open
  printf 'one\n' | timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" 3>&- 7>&-
  kill -TERM "$SERVE_PID"
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
  [ ! -s "$T/serve.out" ]
}

@test "ws-serve: --keep-open serves after the end of input until SIGTERM, then drains and exits 0" {
  start_serve --keep-open --history 1
  echo last >&7
  exec 7>&-
  wait_for_line "$T/serve.log" 'end of input' 10
  kill -0 "$SERVE_PID"
  cat_client late "ws://127.0.0.1:$PORT/"
  wait_for_line "$T/late.out" '^last$' 10
  kill -TERM "$SERVE_PID"
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
  wait "${PIDS[0]}"  # closed normally
}

@test "ws-serve: SIGTERM drains to the clients and exits 0 with input still open" {
  start_serve
  cat_client a "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  seq 1 100 >&7
  wait_health '.lines_in == 100'
  kill -TERM "$SERVE_PID"
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
  wait "${PIDS[0]}"
  diff <(seq 1 100) "$T/a.out"
}

# eventpoll PID: how many epoll descriptors PID holds.
eventpoll() {
  find "/proc/$1/fd" -lname 'anon_inode:\[eventpoll\]' | wc -l
}

@test "ws-serve: it waits on epoll (libev), not on a poll(2) of every connection" {
  start_serve
  cat_client a "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  run eventpoll "$SERVE_PID"
  assert_output 1
  echo one >&7
  finish_serve
  wait "${PIDS[0]}"
  run cat "$T/a.out"
  assert_output one
  run grep -F 'libev plugin' "$T/serve.log"
  assert_failure
}

@test "ws-serve: without libwebsockets' libev plugin it says so and serves on lws's own loop" {
  local plugin
  plugin=$(find /usr/lib /usr/local/lib -name 'libwebsockets-evlib_ev.so' 2>/dev/null | head -1)
  [ -n "$plugin" ] || skip "no libev plugin to hide"
  unshare -m true 2>/dev/null || skip "cannot make a mount namespace here (needs root)"
  mkfifo "$T/in"
  # In a mount namespace of its own, an empty file stands for the plugin.
  unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$plugin" \
    "$BIN/ws-serve" --listen 127.0.0.1:0 <"$T/in" 2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  cat_client a "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
  run eventpoll "$SERVE_PID"
  assert_output 0
  echo one >&7
  finish_serve
  wait "${PIDS[0]}"
  run cat "$T/a.out"
  assert_output one
  run grep -F "libev plugin cannot be loaded (Debian: libwebsockets-evlib-ev)" "$T/serve.log"
  assert_success
}

@test "ws-serve: at the end of input it waits for each client's answer to its close" {
  start_serve
  $PY "$FAKES/ws_close_answer.py" client "$PORT" 1 >"$T/client.out" 2>"$T/client.log" 3>&- 7>&- &
  PIDS+=($!)
  local client=$!
  wait_health '.clients == 1'
  echo one >&7
  exec 7>&-
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
  wait_pid "$client" 10
  run cat "$T/client.out"
  assert_output $'messages 1\npeer waited for the answer'
}

@test "ws-serve: stdin's O_NONBLOCK is set while serving and cleared at exit" {
  local flags
  {
    "$BIN/ws-serve" --listen 127.0.0.1:0 2>"$T/serve.log" 3>&- &
    SERVE_PID=$!
    PORT=$(listen_port "$T/serve.log")
    flags=$(awk '/^flags:/ {print $2}' "/proc/$SERVE_PID/fdinfo/0")
    echo "$flags" >"$T/during"
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
    $PY -c 'import fcntl, os; print(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)' >"$T/after"
  } < <(sleep 30)
  (( 8#$(cat "$T/during") & 04000 ))
  [ "$(cat "$T/after")" = 0 ]
}

@test "ws-serve: usage errors exit 2 and print nothing on stdout" {
  run --separate-stderr "$BIN/ws-serve" --listen nonsense
  assert_failure 2
  refute_output
  [[ "$stderr" == *"--listen"* ]]
  run --separate-stderr "$BIN/ws-serve" --slow-client maybe
  assert_failure 2
  refute_output
  run --separate-stderr "$BIN/ws-serve" --root /nonexistent/dir
  assert_failure 2
  refute_output
  run --separate-stderr "$BIN/ws-serve" --tls-cert /etc/hostname
  assert_failure 2
  refute_output
}

@test "ws-serve: an address not on this machine is a runtime failure (exit 1), not a listen on all" {
  run --separate-stderr timeout 10 "$BIN/ws-serve" --listen 192.0.2.1:0 </dev/null
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"cannot listen there"* ]]
  [[ "$stderr" != *"listening on"* ]]
  run --separate-stderr timeout 10 "$BIN/ws-serve" --listen localhost:0 </dev/null
  [ "$status" -eq 0 ]
  [[ "$stderr" =~ "listening on "(127\.0\.0\.1|\[::1\]):[1-9] ]]
}

@test "ws-serve: a port in use is a runtime failure (exit 1)" {
  start_serve
  run --separate-stderr timeout 10 "$BIN/ws-serve" --listen "127.0.0.1:$PORT" </dev/null
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"cannot listen"* ]]
}

@test "ws-serve: without --root, / is the overlay page that comes with the toolkit" {
  [ -f "$ROOT/overlay/index.html" ] || skip "no overlay/index.html"
  start_serve
  run curl -s -o "$T/page" -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT/"
  [[ "$output" == "200 text/html"* ]]
  cmp "$T/page" "$ROOT/overlay/index.html"
  run curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$PORT/overlay.js"
  [[ "$output" == "200 text/javascript"* ]]
  finish_serve
}

# relay_senders N COUNT [HOLD]: N ws-cat --send clients in the background, client s sending COUNT
# numbered lines "s<s>-<n>-<padding>" (about 80 bytes each); their pids in SENDERS. With HOLD, a
# file: they stay connected until it exists (at most 20 s).
relay_line() { seq -f "s$1-%06g-$(printf 'x%.0s' {1..64})" 1 "$2"; }
relay_senders() {
  local s
  SENDERS=()
  for s in $(seq 1 "$1"); do
    {
      relay_line "$s" "$2"
      [ -z "${3:-}" ] || wait_for_file "$3" 20
    } | timeout 25 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" 2>"$T/send$s.err" 3>&- 7>&- &
    SENDERS+=($!)
    PIDS+=($!)
  done
}

# start_stalled_relay STALL ARGS...: ws-serve --relay ARGS with a reader of its stdout that reads
# nothing for STALL seconds, then creates $T/stall-over and reads everything into $T/serve.out;
# and a ws-cat listener ($T/listener.out). Sets SERVE_PID, READER and PORT.
start_stalled_relay() {
  local stall=$1
  shift
  mkfifo "$T/in" "$T/out"
  { sleep "$stall"; touch "$T/stall-over"; cat; } <"$T/out" >"$T/serve.out" 3>&- &
  READER=$!
  PIDS+=($READER)
  "$BIN/ws-serve" --listen 127.0.0.1:0 --relay --drain-timeout 30 "$@" <"$T/in" >"$T/out" \
    2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  cat_client listener "ws://127.0.0.1:$PORT/"
  wait_health '.clients == 1'
}

# broadcast_during_stall: a line on stdin reaches the listener while stdout is still stalled.
broadcast_during_stall() {
  [ ! -e "$T/stall-over" ]
  echo during-stall >&7
  wait_for_line "$T/listener.out" '^during-stall$' 5
  [ ! -e "$T/stall-over" ]
}

# end_relay N COUNT: waits for the senders, ends the input, and checks that ws-serve exits 0 and
# that stdout got the COUNT lines of each of the N senders whole and in order, and nothing else.
end_relay() {
  local p
  for p in "${SENDERS[@]}"; do wait "$p"; done
  exec 7>&-
  wait_pid "$SERVE_PID" 20
  wait "$SERVE_PID"
  wait "$READER"
  [ "$(wc -l <"$T/serve.out")" -eq $(($1 * $2)) ]
  for p in $(seq 1 "$1"); do diff <(relay_line "$p" "$2") <(grep "^s$p-" "$T/serve.out"); done
}

@test "ws-serve: --relay: a stalled reader of stdout stalls no broadcasting; every line arrives whole, in order" {
  start_stalled_relay 10
  # 3 x 3000 lines of 80 bytes: 720 KB, far more than a pipe holds (64 KiB).
  relay_senders 3 3000
  # The senders end once all they sent is taken in (ws-serve answers their close after it).
  local p
  for p in "${SENDERS[@]}"; do wait_pid "$p" 20; done
  broadcast_during_stall
  end_relay 3 3000
}

@test "ws-serve: --relay: over --relay-buffer clients are not read, and are again once it drained" {
  start_stalled_relay 5 --relay-buffer 100000
  # Senders that closed while not read could lose what the kernel still held for them.
  relay_senders 2 3000 "$T/hold"
  wait_for_line "$T/serve.log" 'clients not read' 10
  broadcast_during_stall
  wait_for_line "$T/serve.log" 'clients read again' 15
  wait_for_line "$T/serve.out" '^s1-003000-' 20
  wait_for_line "$T/serve.out" '^s2-003000-' 20
  echo >"$T/hold"
  end_relay 2 3000
}

@test "ws-serve: --relay: a message with a raw line break is not relayed, with a warning naming the client" {
  start_serve --relay --keep-open
  "$PY" - "$PORT" <<'PY'
import asyncio, sys, websockets
async def main():
    async with websockets.connect(f"ws://127.0.0.1:{sys.argv[1]}/") as ws:
        for m in ["before", "two\nlines", "carriage\rreturn", "after"]:
            await ws.send(m)
asyncio.run(main())
PY
  wait_for_line "$T/serve.out" '^after$' 10
  diff <(printf 'before\nafter\n') "$T/serve.out"
  [ "$(grep -c 'client 1: message with a line break not relayed' "$T/serve.log")" -eq 2 ]
  kill -TERM "$SERVE_PID"
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
}

@test "ws-serve: --relay: stdout is non-blocking while serving and its flags are back after exit" {
  mkfifo "$T/in" "$T/out"
  cat <"$T/out" >"$T/serve.out" 3>&- &
  READER=$!
  PIDS+=($READER)
  # ws-serve's stdout is the test's fd 8: one file description, whose flags the test can see.
  exec 8>"$T/out"
  flags() { awk '/^flags:/ {print $2}' "/proc/$1/fdinfo/$2"; }
  (( (8#$(flags $$ 8) & 04000) == 0 ))
  "$BIN/ws-serve" --listen 127.0.0.1:0 --relay <"$T/in" >&8 2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  (( 8#$(flags $$ 8) & 04000 ))  # O_NONBLOCK while it runs
  exec 7>&-
  wait_pid "$SERVE_PID" 10
  wait "$SERVE_PID"
  (( (8#$(flags $$ 8) & 04000) == 0 ))
  exec 8>&-
  wait "$READER"
}

# ---- what a web page, a local client and a flood can send ------------------------------------

# upgrade [HEADER...]: the status ws-serve answers a WebSocket handshake with these headers.
upgrade() {
  local args=() h
  for h in "$@"; do args+=(-H "$h"); done
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "${args[@]}" "http://127.0.0.1:$PORT/"
}

@test "ws-serve: a browser from another origin is refused; its own origin and non-browsers are not" {
  start_serve
  run upgrade 'Origin: http://evil.example'
  assert_output 403
  run upgrade "Origin: http://127.0.0.1:$((PORT + 1))"
  assert_output 403
  run upgrade "Origin: https://127.0.0.1:$PORT"
  assert_output 403
  run upgrade 'Origin: null'
  assert_output 403
  run upgrade "Origin: http://127.0.0.1:$PORT"
  assert_output 101
  run upgrade
  assert_output 101
  run grep -c 'refused: origin not allowed' "$T/serve.log"
  assert_success
  run curl -s "http://127.0.0.1:$PORT/healthz"
  assert_output --partial '"refused":4,'
}

@test "ws-serve: --origin widens the page's own origin; '*' allows any" {
  start_serve --origin http://good.example
  run upgrade 'Origin: http://good.example'
  assert_output 101
  run upgrade "Origin: http://127.0.0.1:$PORT"
  assert_output 101
  run upgrade 'Origin: http://evil.example'
  assert_output 403
  kill "$SERVE_PID"
  exec 7>&-
  rm "$T/in"
  start_serve --origin '*'
  run upgrade 'Origin: http://evil.example'
  assert_output 101
}

@test "ws-serve: an Origin too long to read is refused, not taken for no Origin" {
  start_serve --origin http://good.example
  local long
  long="http://good.example$(printf 'x%.0s' {1..600})"
  run upgrade "Origin: $long"
  assert_output 403
  run upgrade 'Origin: http://good.example'
  assert_output 101
}

@test "ws-serve: --relay refuses control characters; with --json, messages that are not JSON" {
  start_serve --relay --json --keep-open
  printf '%s\n' '{"v":1,"type":"raid","id":"a"}' 'not json' $'{"v":1,"id":"b","message":"\e]0;pwned\a"}' \
    $'{"v":1,"id":"c",\t"type":"cheer"}' '{"v":1,"id":"d"}' |
    timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" >/dev/null 2>"$T/cat.err"
  wait_for_line "$T/serve.out" '"id":"d"'
  run cut -c1-40 "$T/serve.out"
  assert_output $'{"v":1,"type":"raid","id":"a"}\n{"v":1,"id":"c",\t"type":"cheer"}\n{"v":1,"id":"d"}'
  run grep -c 'message not JSON' "$T/serve.log"
  assert_output 1
  run grep -c 'message with a control character not relayed' "$T/serve.log"
  assert_output 1
}

@test "ws-serve: --relay without --json still refuses ESC and NUL but relays text" {
  start_serve --relay --keep-open
  printf '%s\n' 'plain text' $'\e[2Jclear' $'nul\x01' 'last' |
    timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" >/dev/null 2>"$T/cat.err"
  wait_for_line "$T/serve.out" '^last$'
  run cat "$T/serve.out"
  assert_output $'plain text\nlast'
  run grep -c 'control character not relayed' "$T/serve.log"
  assert_output 2
}

@test "ws-serve: --relay refuses a message whose UTF-8 an empty last fragment leaves incomplete" {
  start_serve --relay --keep-open
  # Found by ws_frames_fuzz: libwebsockets checks UTF-8 per frame and lets "caf\xc3" through
  # when the final fragment is empty.
  timeout 10 "$PY" -c '
import socket, sys
def frame(op, payload, fin=True):
    mask = b"\x37\xfa\x21\x3d"
    return (bytes([(0x80 if fin else 0) | op, 0x80 | len(payload)]) + mask +
            bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
answer = b""
while b"\r\n\r\n" not in answer:
    answer += s.recv(4096)
assert b" 101 " in answer, answer
s.sendall(frame(1, b"caf\xc3", fin=False) + frame(0, b"") + frame(8, b"\x03\xe8"))
s.recv(4096)
' "$PORT"
  echo last | timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" >/dev/null 2>"$T/cat.err"
  wait_for_line "$T/serve.out" '^last$'
  run cat "$T/serve.out"
  assert_output 'last'
  run grep -c 'message not UTF-8 not relayed' "$T/serve.log"
  assert_output 1
}

@test "ws-serve: --max-clients refuses clients beyond it with 503, and takes them again later" {
  start_serve --max-clients 2
  timeout 20 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/" >/dev/null 2>&1 &
  local c1=$!
  timeout 20 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/" >/dev/null 2>&1 &
  wait_for_line "$T/serve.log" '2 clients'
  run upgrade
  assert_output 503
  run grep -c 'refused: too many clients' "$T/serve.log"
  assert_output 1
  run curl -s "http://127.0.0.1:$PORT/healthz"
  assert_output --partial '"refused":1'
  kill "$c1"
  wait_for_line "$T/serve.log" 'disconnected; 1 clients'
  run upgrade
  assert_output 101
}

@test "ws-serve: at the descriptor limit, connections are closed at once; no spin, no log flood" {
  mkfifo "$T/in"
  prlimit --nofile=64:64 "$BIN/ws-serve" --listen 127.0.0.1:0 <"$T/in" >/dev/null \
    2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  # 200 connections held open for 3 seconds, far past the limit.
  "$PY" -c '
import socket, sys, time
held = []
for i in range(200):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        held.append(s)
    except OSError:
        pass
time.sleep(3)
' "$PORT"
  # Once the connections are gone, their descriptors are free again.
  local n=100
  until curl -s --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null || ((--n == 0)); do
    sleep 0.1
  done
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_success
  assert_output --partial '"status":"ok"'
  refute_output --partial '"refused":0,'
  run bash -c "wc -l < '$T/serve.log'"
  assert [ "$output" -lt 20 ]
  run grep -c 'accept' "$T/serve.log"
  assert_output 0
  run grep -c 'connection refused: .* descriptors in use' "$T/serve.log"
  assert_success
}

# ---- what held up under review, kept so -------------------------------------------------------

# rss: ws-serve's resident memory in KiB.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status"; }

@test "ws-serve: a 2.4 GB frame, an endless fragmented message and a ping flood: memory flat, others served" {
  start_serve --relay --keep-open
  local before attack
  before=$(rss)
  for attack in bigframe fragments pings; do
    run timeout 60 "$PY" "$FAKES/ws_hostile.py" "ws://127.0.0.1:$PORT/" "$attack" --mb 48
    assert_success
  done
  # 144 MiB sent in all; what ws-serve holds grew by less than 16 MiB.
  assert [ $(( $(rss) - before )) -lt 16384 ]
  cat_client ok --count 1 "ws://127.0.0.1:$PORT/"
  wait_health '.clients >= 1'
  echo still-serving >&7
  wait "${PIDS[0]}"
  run cat "$T/ok.out"
  assert_output still-serving
  run grep -c 'longer than 65536 bytes not relayed' "$T/serve.log"
  assert_output 1
  run cat "$T/serve.out"
  assert_output ""
}

@test "ws-serve: an oversized request header is dropped; HTTP/2, prior knowledge or h2c, is not spoken" {
  start_serve
  run timeout 20 "$PY" "$FAKES/ws_hostile.py" "ws://127.0.0.1:$PORT/" bigheader
  assert_success
  assert_output --regexp '^(closed after|answer: HTTP/1\.[01] 4[0-9][0-9])'
  run timeout 20 "$PY" "$FAKES/ws_hostile.py" "ws://127.0.0.1:$PORT/" h2
  assert_output --regexp '^(closed after|answer: HTTP/1\.[01] 4[0-9][0-9])'
  run curl -s -i --http2 --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_success
  assert_line --regexp '^HTTP/1\.[01] 400'
  assert_output --partial 'upgrade to anything but a WebSocket refused'
  refute_output --partial '101 Switching'
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz"
  assert_output --partial '"status":"ok"'
}

@test "ws-serve: a client that sends nothing is closed after about 10 s" {
  start_serve
  run timeout 40 "$PY" "$FAKES/ws_hostile.py" "ws://127.0.0.1:$PORT/" silent --wait 25
  assert_success
  assert_output --regexp '^closed after (9|1[0-9])\.'
}

@test "ws-serve: a FIFO or a dotfile under --root is not served (and does not hang the server)" {
  mkdir "$T/site"
  mkfifo "$T/site/pipe"
  echo secret >"$T/site/.env"
  echo page >"$T/site/index.html"
  start_serve --root "$T/site"
  local path
  for path in /pipe /.env; do
    run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT$path"
    assert_output --regexp '^40[34]$'
  done
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/"
  assert_output page
}

@test "ws-serve: the token is in no -v log line, no /healthz and no 401 or 403 text" {
  export WS_SERVE_TOKEN=Tok3n-never-shown
  start_serve -v --origin http://good.example
  unset WS_SERVE_TOKEN
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/healthz?token=Tok3n-never-shown"
  refute_output --partial Tok3n
  run curl -s --max-time 5 -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    "http://127.0.0.1:$PORT/?token=guess-Tok3n"
  assert_output --partial 'missing or wrong token'
  refute_output --partial Tok3n
  run curl -s --max-time 5 -H 'Origin: http://evil.example' -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    "http://127.0.0.1:$PORT/?token=Tok3n-never-shown"
  assert_output --partial 'origin not allowed'
  refute_output --partial Tok3n
  cat_client good --count 1 "ws://127.0.0.1:$PORT/?token=Tok3n-never-shown"
  wait_health '.clients == 1'
  echo hello >&7
  wait "${PIDS[0]}"
  run grep -c 'debug: ' "$T/serve.log"
  refute_output 0
  run cat "$T/serve.log" "$T/good.err" "$T/good.out"
  assert_line --partial 'hello'
  refute_output --partial Tok3n
}

@test "ws-serve: a copy of the binary elsewhere serves no checkout's overlay, and says so" {
  mkdir -p "$T/elsewhere/bin"
  cp "$BIN/ws-serve" "$T/elsewhere/bin/"
  mkfifo "$T/in"
  "$T/elsewhere/bin/ws-serve" --listen 127.0.0.1:0 <"$T/in" >/dev/null 2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  run curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/"
  assert_output 404
  run grep -c 'warning: no overlay beside the executable' "$T/serve.log"
  assert_output 1
  # Beside it, in the installed layout, it is found.
  mkdir -p "$T/elsewhere/share/twitch-servitor/overlay"
  echo '<p>installed</p>' >"$T/elsewhere/share/twitch-servitor/overlay/index.html"
  kill "$SERVE_PID"
  exec 7>&-
  rm "$T/in"
  mkfifo "$T/in"
  "$T/elsewhere/bin/ws-serve" --listen 127.0.0.1:0 <"$T/in" >/dev/null 2>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
  run curl -s --max-time 5 "http://127.0.0.1:$PORT/"
  assert_output '<p>installed</p>'
}

# ---- resume: clients that come back with the id of the last event they have ------------------

# events FROM TO: events with ids eFROM..eTO, one a line.
events() { local i; for ((i = $1; i <= $2; i++)); do printf '{"v":1,"type":"follow","id":"e%d"}\n' "$i"; done; }

@test "ws-serve: ?after=ID gets every retained event after it, then the live stream, nothing twice" {
  start_serve
  events 1 5 >&7
  wait_health '.lines_in == 5'
  cat_client r --count 6 "ws://127.0.0.1:$PORT/?after=e2"
  wait_health '.clients == 1'
  events 6 7 >&7
  wait "${PIDS[0]}"
  run head -1 "$T/r.out"
  assert_output '{"v":1,"control":"catchup","found":true,"after":"e2","replayed":3,"retain":1000,"retain_for":300.0}'
  run jq -r 'select(.type) | .id' "$T/r.out"
  assert_output $'e3\ne4\ne5\ne6\ne7'
  run grep -c 'client 1: resumes after e2: 3 events to catch up on$' "$T/serve.log"
  assert_output 1
}

@test "ws-serve: an unknown or expired id gets what is retained, after a notice" {
  start_serve --retain 3
  events 1 5 >&7
  wait_health '.lines_in == 5'
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 4 "ws://127.0.0.1:$PORT/?after=e1"
  assert_success
  assert_line --index 0 '{"v":1,"control":"catchup","found":false,"after":"e1","replayed":3,"retain":3,"retain_for":300.0}'
  assert_line --index 1 '{"v":1,"type":"follow","id":"e3"}'
  assert_line --index 3 '{"v":1,"type":"follow","id":"e5"}'
}

@test "ws-serve: --retain-for: a retained event goes after that long" {
  start_serve --retain-for 1
  events 1 2 >&7
  wait_health '.lines_in == 2'
  local n=100
  until timeout 5 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/?after=none" 2>/dev/null |
    grep -q '"replayed":0' || ((--n == 0)); do
    sleep 0.1
  done
  run timeout 5 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/?after=none"
  assert_output --partial '"replayed":0'
}

@test "ws-serve: --retain 0 ignores ?after=; without ?after= a client gets --history only" {
  start_serve --retain 0 --history 1
  events 1 3 >&7
  wait_health '.lines_in == 3'
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/?after=e1"
  assert_output '{"v":1,"type":"follow","id":"e3"}'
}

@test "ws-serve: --retain-file: the retained events survive a restart (mode 0600)" {
  start_serve --retain-file "$T/retained.ndjson"
  events 1 4 >&7
  finish_serve
  run stat -c %a "$T/retained.ndjson"
  assert_output 600
  rm "$T/in"
  start_serve --retain-file "$T/retained.ndjson"
  run grep -c 'retain-file .*: 4 retained events read back' "$T/serve.log"
  assert_output 1
  cat_client r --count 4 "ws://127.0.0.1:$PORT/?after=e2"
  wait_health '.clients == 1'
  events 5 5 >&7
  wait "${PIDS[0]}"
  run jq -r 'select(.type) | .id' "$T/r.out"
  assert_output $'e3\ne4\ne5'
}

@test "ws-serve: 1,000 clients resuming at once from different ids each get exactly their missing events" {
  start_serve --max-queue 4096
  events 1 50 >&7
  wait_health '.lines_in == 50'
  run timeout 180 "$PY" "$FAKES/ws_resume.py" "ws://127.0.0.1:$PORT/" --clients 1000 --events 50
  assert_success
  assert_output 'clients 1000 exact 1000'
  run awk '/^VmHWM:/ {print $2}' "/proc/$SERVE_PID/status"
  assert [ "$output" -lt 102400 ]
}
