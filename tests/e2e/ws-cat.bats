#!/usr/bin/env bats
# ws-cat end to end: against ws-serve and against a scripted Python server (tests/fakes/ws_server.py).

load helpers
bats_require_minimum_version 1.5.0

setup() {
  T=$BATS_TEST_TMPDIR
  PIDS=()
}

teardown() {
  exec 7>&- 2>/dev/null || true
  kill_ours -9 "${PIDS[@]}"
}

# fake_server SCRIPT...: the scripted server in the background; sets PORT.
fake_server() {
  # Emptied here, not only by the background redirection: a second fake would otherwise read the
  # first one's port before it has truncated the log.
  : >"$T/fake.log"
  $PY "$FAKES/ws_server.py" "$@" >"$T/fake.out" 2>"$T/fake.log" 3>&- 7>&- &
  PIDS+=($!)
  PORT=$(listen_port "$T/fake.log")
}

# serve PORT ARGS...: ws-serve on PORT (0: a free one) reading $T/in through fd 7; sets SERVE_PID
# and PORT.
serve() {
  local port=$1; shift
  rm -f "$T/in" && mkfifo "$T/in"
  "$BIN/ws-serve" --listen "127.0.0.1:$port" "$@" <"$T/in" 2>>"$T/serve.log" 3>&- &
  SERVE_PID=$!
  PIDS+=($SERVE_PID)
  exec 7>"$T/in"
  PORT=$(listen_port "$T/serve.log")
}

@test "ws-cat: prints each text message as one line, reassembles fragments, exits 0 on a normal close" {
  fake_server text:one frag:tw,o, text:three
  run --separate-stderr timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 0 ]
  [ "$output" = $'one\ntwo\nthree' ]
}

@test "ws-cat: binary messages are skipped with a warning" {
  fake_server text:a binary:7 text:b
  run --separate-stderr timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 0 ]
  [ "$output" = $'a\nb' ]
  [[ "$stderr" == *"warning: binary message of 7 bytes: skipped"* ]]
}

@test "ws-cat: a close other than normal is a failure (exit 1) naming the code" {
  fake_server text:a close:1011
  run --separate-stderr timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 1 ]
  [ "$output" = a ]
  [[ "$stderr" == *"closed by the server with 1011"* ]]
}

@test "ws-cat: --count N exits 0 after N messages; without it, it reads on" {
  fake_server text:1 text:2 text:3 hold
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 2 "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 0 ]
  [ "$output" = $'1\n2' ]
  run --separate-stderr timeout --foreground -k 5 2 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 124 ]
  [ "$output" = $'1\n2\n3' ]
}

@test "ws-cat: --send sends stdin lines, then closes normally at the end of input" {
  fake_server --echo hold
  run --separate-stderr timeout 10 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" < <(printf 'x\ny\n')
  [ "$status" -eq 0 ]
  wait_for_line "$T/fake.out" '^y$' 5
  diff <(printf 'x\ny\n') "$T/fake.out"
}

@test "ws-cat: --send waits for the server's answer to its close before it closes the connection" {
  # A sender that closed the socket first would leave what it sent unread by a slow server, which
  # loses it when its answer meets the closed socket (a reset).
  $PY "$FAKES/ws_close_answer.py" server 1 >"$T/fake.out" 2>"$T/fake.log" 3>&- &
  PIDS+=($!)
  local fake=$!
  PORT=$(listen_port "$T/fake.log")
  run --separate-stderr timeout 20 "$BIN/ws-cat" --send "ws://127.0.0.1:$PORT/" < <(seq 1 2000)
  assert_success
  wait_pid "$fake" 10
  run cat "$T/fake.out"
  assert_output $'messages 2000\npeer waited for the answer'
}

@test "ws-cat: an unreachable server is exit 1 with a clear message" {
  fake_server hold
  kill -9 "${PIDS[0]}"
  wait "${PIDS[0]}" 2>/dev/null || true
  run --separate-stderr timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == "ws-cat: error: cannot connect to ws://127.0.0.1:$PORT/: "* ]]
}

@test "ws-cat: --timeout bounds the handshake and the silence after it" {
  fake_server --silent-accept
  run --separate-stderr timeout 10 "$BIN/ws-cat" --timeout 1 "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"no connection within 1s"* ]]
  kill -9 "${PIDS[0]}"
  fake_server text:hi hold
  run --separate-stderr timeout 10 "$BIN/ws-cat" --timeout 1 "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 1 ]
  [ "$output" = hi ]
  [[ "$stderr" == *"nothing received for 1s"* ]]
}

@test "ws-cat: a closed downstream (EPIPE) ends it cleanly with exit 0" {
  serve 0
  ( timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/" 2>"$T/cat.err" | head -1 >"$T/first"
    echo "${PIPESTATUS[0]}" >"$T/status" ) 3>&- 7>&- &
  local n=100
  until curl -s "http://127.0.0.1:$PORT/healthz" | jq -e '.clients == 1' >/dev/null || [ $n -eq 0 ]; do
    sleep 0.1; n=$((n - 1))
  done
  seq 1 100000 >&7
  wait_for_file "$T/status" 10
  [ "$(cat "$T/status")" = 0 ]
  [ "$(cat "$T/first")" = 1 ]
  run ! grep error "$T/cat.err"
}

@test "ws-cat: --header adds handshake headers" {
  serve 0 --token t0ken
  timeout 10 "$BIN/ws-cat" -H 'Authorization: Bearer t0ken' -H 'X-Extra: 1' \
    "ws://127.0.0.1:$PORT/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  local c=$!
  wait_for_line "$T/err" connected 10
  echo hi >&7
  exec 7>&-
  wait "$c"
  [ "$(cat "$T/out")" = hi ]
  run --separate-stderr "$BIN/ws-cat" -H 'no colon here' "ws://127.0.0.1:$PORT/"
  [ "$status" -eq 2 ]
}

@test "ws-cat: --reconnect survives a ws-serve restart" {
  serve 0
  # Not under timeout(1), which would pass our SIGTERM on twice (to the child and its group).
  "$BIN/ws-cat" --reconnect "ws://127.0.0.1:$PORT/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  local c=$!
  PIDS+=($c)
  wait_for_line "$T/err" connected 10
  echo before >&7
  wait_for_line "$T/out" '^before$' 10
  exec 7>&-
  wait_pid "$SERVE_PID" 10
  wait_for_line "$T/err" 'reconnecting in [0-9]+ ms' 10
  mv "$T/serve.log" "$T/serve1.log"
  serve "$PORT"
  wait_for_line "$T/serve.log" 'client 1 .*connected; 1' 20
  echo after >&7
  wait_for_line "$T/out" '^after$' 10
  kill -TERM "$c"
  wait_pid "$c" 10
  wait "$c" || { cat "$T/err"; false; }
  diff <(printf 'before\nafter\n') "$T/out"
}

@test "ws-cat: without --reconnect, a server that goes away ends it" {
  serve 0
  timeout 30 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  local c=$!
  wait_for_line "$T/err" connected 10
  kill -9 "$SERVE_PID"
  wait_pid "$c" 10
  wait_status "$c"
  [ "$status" -eq 1 ]
}

@test "ws-cat: wss:// with --cacert works; an untrusted certificate fails unless --insecure" {
  command -v openssl >/dev/null || skip "no openssl"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
  serve 0 --keep-open --history 1 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
  echo secure >&7
  wait_for_line "$T/serve.log" 'listening' 5
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 --cacert "$T/cert.pem" "wss://localhost:$PORT/"
  assert_success
  assert_output secure
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 "wss://localhost:$PORT/"
  assert_failure 1
  refute_output
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 --insecure "wss://localhost:$PORT/"
  assert_success
  assert_output secure
  # ws-serve offers HTTP/1.1 only (its token check sits on the HTTP/1.1 upgrade).
  run curl -s --http2 --cacert "$T/cert.pem" -o /dev/null -w '%{http_code} %{http_version}' \
    "https://localhost:$PORT/healthz"
  [ "$output" = "200 1.1" ]
}

@test "ws-cat: usage errors exit 2 with nothing on stdout" {
  run --separate-stderr "$BIN/ws-cat" http://example.com/
  assert_failure 2
  refute_output
  [[ "$stderr" == *"not a ws:// or wss:// URL"* ]]
  run --separate-stderr "$BIN/ws-cat"
  assert_failure 2
  refute_output
}

@test "ws-cat: a stalled reader of stdout does not stall the connection: --timeout holds, nothing is lost" {
  # 400 kB at once (several pipe buffers), then a message every 0.2 s, and pings that must be
  # answered within 0.5 s: the connection must be serviced while the reader is stalled for 2.5 s,
  # and --timeout 1 must not fire on a live server.
  fake_server --ping 0.5 burst:400,1000 every:0.2,20
  local fifo=$T/stdout.fifo
  mkfifo "$fifo"
  ( for _ in $(seq 300); do [ -e "$T/go" ] && break; sleep 0.05; done; exec cat ) <"$fifo" >"$T/out" &
  PIDS+=($!)
  timeout 30 "$BIN/ws-cat" --timeout 1 "ws://127.0.0.1:$PORT/" >"$fifo" 2>"$T/err" 3>&- 7>&- &
  local c=$!
  PIDS+=($c)
  sleep 2.5  # the stall itself: the reader reads nothing meanwhile
  run kill -0 "$c"
  assert_success
  [ ! -s "$T/out" ]
  touch "$T/go"
  wait_pid "$c" 15
  wait_status "$c"
  assert_success
  run grep -c . "$T/out"
  assert_output 420
  run tail -1 "$T/out"
  assert_output 'tick 20'
  run grep -E 'error|nothing received' "$T/err"
  assert_failure
}

@test "ws-cat: the token comes from WS_SERVE_TOKEN or --token-file (the file wins), never from argv" {
  serve 0 --token t0ken --keep-open --history 1
  echo hi >&7
  WS_SERVE_TOKEN=t0ken run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/"
  assert_success
  assert_output hi
  echo t0ken >"$T/token"
  WS_SERVE_TOKEN=wrong run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 --token-file "$T/token" "ws://127.0.0.1:$PORT/"
  assert_success
  assert_output hi
  # Without it the server refuses (3); a token file that cannot be read is a usage error (2).
  run --separate-stderr timeout 10 "$BIN/ws-cat" --count 1 "ws://127.0.0.1:$PORT/"
  assert_failure 3
  run --separate-stderr timeout 10 "$BIN/ws-cat" --token-file "$T/none" "ws://127.0.0.1:$PORT/"
  assert_failure 2
  [[ "$stderr" == *"--token-file"* ]]
}

@test "ws-cat: a URL's query is never shown in an error" {
  run --separate-stderr "$BIN/ws-cat" 'ws://127.0.0.1:99999/?token=s3cret'
  assert_failure 2
  [[ "$stderr" == *"ws://127.0.0.1:99999/?..."* ]]
  [[ "$stderr" != *s3cret* ]]
  fake_server hold
  kill -9 "${PIDS[0]}"
  run --separate-stderr timeout 10 "$BIN/ws-cat" "ws://127.0.0.1:$PORT/?token=s3cret"
  assert_failure 1
  [[ "$stderr" == *"cannot connect to ws://127.0.0.1:$PORT/?...: "* ]]
  [[ "$stderr" != *s3cret* ]]
}

@test "ws-cat: a certificate that does not verify is fatal even with --reconnect (exit 1, the reason)" {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
  serve 0 --keep-open --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
  run --separate-stderr timeout 10 "$BIN/ws-cat" --reconnect "wss://localhost:$PORT/"
  assert_failure 1
  [[ "$stderr" == *"ws-cat: error: wss://localhost:$PORT/: the server's certificate is not trusted: self-signed certificate"* ]]
  [[ "$stderr" != *reconnecting* ]]
  # The name must match too: the same certificate served on 127.0.0.2, which it does not name.
  mkfifo "$T/in2"
  "$BIN/ws-serve" --listen 127.0.0.2:0 --keep-open --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
    <"$T/in2" 2>"$T/serve2.log" 3>&- 7>&- &
  PIDS+=($!)
  exec 8>"$T/in2"
  local port2
  port2=$(listen_port "$T/serve2.log")
  run --separate-stderr timeout 10 "$BIN/ws-cat" --reconnect --cacert "$T/cert.pem" "wss://127.0.0.2:$port2/"
  exec 8>&-
  assert_failure 1
  [[ "$stderr" == *"not trusted: IP address mismatch"* ]]
}

@test "ws-cat: --after ID resumes after that event; --reconnect resumes after the last one printed" {
  serve 0 --retain-file "$T/retained.ndjson"
  local i
  for i in 1 2 3; do printf '{"v":1,"type":"follow","id":"e%d"}\n' "$i" >&7; done
  # Not under timeout(1): teardown's kill -9 must reach ws-cat itself, which would otherwise
  # reconnect for ever.
  "$BIN/ws-cat" --reconnect --after e1 "ws://127.0.0.1:$PORT/" >"$T/out" 2>"$T/err" 3>&- 7>&- &
  local cat_pid=$!
  PIDS+=($cat_pid)
  wait_for_line "$T/out" '"id":"e3"'
  # ws-serve restarts on the same port; what it retained comes back from the file.
  local port=$PORT
  exec 7>&-
  wait_pid "$SERVE_PID"
  : >"$T/serve.log"
  serve "$port" --retain-file "$T/retained.ndjson"
  printf '{"v":1,"type":"follow","id":"e4"}\n' >&7
  wait_for_line "$T/out" '"id":"e4"' 20
  kill "$cat_pid"
  run jq -r 'select(.type) | .id' "$T/out"
  assert_output $'e2\ne3\ne4'
  run jq -c 'select(.control) | [.after, .found]' "$T/out"
  assert_output $'["e1",true]\n["e3",true]'
}
