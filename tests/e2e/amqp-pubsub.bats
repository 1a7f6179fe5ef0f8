#!/usr/bin/env bats
# amqp-pub and amqp-sub against a real RabbitMQ node: delivery, routing, interop with amqp-tools,
# rejects, fan-out and work sharing, stop signals and a closed downstream, credentials and
# unreachable brokers, and 100,000 lines end to end.

load helpers
load amqp-helpers
bats_require_minimum_version 1.5.0

setup_file() { amqp_setup_file; }
teardown_file() { amqp_teardown_file; }
setup() { amqp_setup; }
teardown() { amqp_teardown; }

@test "amqp-pub to amqp-sub: routing key template, binding keys, headers and --envelope" {
  timeout 90 "$BIN/amqp-sub" -e "$T" -Q "$T-q" -b chan.follow -b 'x.#' --envelope --count 2 \
    >out 2>sub.err &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  printf '%s\n' '{"type":"follow","channel":{"login":"chan"}}' \
    '{"type":"cheer","channel":{"login":"chan"}}' '{"type":"raid"}' \
    '{"type":"sub","channel":{"login":"x"}}' |
    timeout 20 "$BIN/amqp-pub" -e "$T" -H 'kind={type}' -H 'fixed=yes'
  wait "$sub"
  [ "$(wc -l <out)" -eq 2 ]
  run jq -r '[.exchange, .routing_key, .headers.kind, .headers.fixed, .body.type, .redelivered] | join(" ")' out
  [ "${lines[0]}" = "$T chan.follow follow yes follow false" ]
  [ "${lines[1]}" = "$T x.sub sub yes sub false" ]
  # Not bound: chan.cheer and _.raid went nowhere, and nothing is left in the queue.
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "interop: amqp-pub to amqp-get, and amqp-publish to amqp-sub" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-get" >/dev/null
  echo '{"a":1}' | timeout 20 "$BIN/amqp-pub" -e '' -k "$T-get"
  run timeout 20 amqp-get --url "$AMQP_URL" -q "$T-get"
  [ "$status" -eq 0 ]
  [ "$output" = '{"a":1}' ]

  timeout 90 "$BIN/amqp-sub" -e '' -Q "$T-sub" --count 2 >out &
  local sub=$!
  wait_queue_consumers "$T-sub" 1
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-sub" -b '{"b":2}'
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-sub" -b '[3]'
  wait "$sub"
  [ "$(cat out)" = $'{"b":2}\n[3]' ]
}

@test "amqp-sub rejects a body that is not JSON or holds a raw newline, without requeue, to a dead-letter queue" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-dlq" >/dev/null
  timeout 90 "$BIN/amqp-sub" -e '' -Q "$T-q" --queue-arg x-dead-letter-exchange= \
    --queue-arg "x-dead-letter-routing-key=$T-dlq" --count 1 >out 2>err &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-q" -b 'not json'
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-q" -b $'{"a":\n1}'
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-q" -b '{"good":1}'
  local status=0
  wait "$sub" || status=$?
  [ "$status" -eq 0 ]
  [ "$(cat out)" = '{"good":1}' ]
  [ "$(grep -c rejected err)" -ge 2 ]
  [ "$(queue_depth "$T-q")" = 0 ]
  [ "$(queue_depth "$T-dlq")" = 2 ]
  run timeout 20 amqp-get --url "$AMQP_URL" -q "$T-dlq"
  [ "$output" = 'not json' ]
}

@test "amqp-sub --envelope embeds a body that is not JSON as a string" {
  timeout 90 "$BIN/amqp-sub" -e '' -Q "$T-q" --envelope --count 1 >out &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-q" -b $'plain\ntext'
  wait "$sub"
  [ "$(jq -r .body out)" = $'plain\ntext' ]
  [ "$(wc -l <out)" -eq 1 ]
}

@test "amqp-pub reports a line that is not JSON with its number, publishes the rest, exits 1" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e '' -k "$T-q" \
    < <(printf '{"a":1}\nnot json\n\n{"b":2}\n')
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"line 2: not JSON"* ]]
  [[ "$stderr" != *"line 3"* ]]  # a blank line is ignored
  [ -z "$output" ]
  [ "$(queue_depth "$T-q")" = 2 ]
  # All good lines: exit 0.
  run timeout 20 "$BIN/amqp-pub" -e '' -k "$T-q" < <(echo '{"c":3}')
  [ "$status" -eq 0 ]
}

@test "amqp-pub skips a control message (it is no event), publishes the rest, exits 1" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e '' -k "$T-q" \
    < <(printf '%s\n' '{"v":1,"type":"follow","id":"e1"}' '{"v":1,"control":"skip"}')
  assert_failure 1
  [[ "$stderr" == *"line 2: a control message, not an event: skipped"* ]]
  [ "$(queue_depth "$T-q")" = 1 ]
}

@test "amqp-pub --mandatory reports an unroutable line and exits 1; without it exits 0" {
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e "$T" --mandatory \
    < <(printf '{"type":"a"}\n{"type":"b"}\n')
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"line 1: unroutable: 312 NO_ROUTE"* ]]
  [[ "$stderr" == *"line 2: unroutable"* ]]
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e "$T" < <(echo '{"type":"a"}')
  [ "$status" -eq 0 ]
  # Routable with --mandatory: exit 0.
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e '' -k "$T-q" --mandatory < <(echo '{}')
  [ "$status" -eq 0 ]
  [ "$(queue_depth "$T-q")" = 1 ]
}

@test "bad credentials: exit 3, a clear message, and the password never printed" {
  local bad=${AMQP_URL/guest:guest/guest:s3cret-wrong}
  run --separate-stderr timeout 20 "$BIN/amqp-pub" --url "$bad" </dev/null
  [ "$status" -eq 3 ]
  [[ "$stderr" == *ACCESS_REFUSED* ]]
  [[ "$stderr" != *s3cret* ]]
  [ -z "$output" ]
  AMQP_URL=$bad run --separate-stderr timeout 20 "$BIN/amqp-sub"
  [ "$status" -eq 3 ]
  [[ "$stderr" == *"amqp://guest@127.0.0.1"* ]]
  [[ "$stderr" != *s3cret* ]]
  [ -z "$output" ]
}

@test "unreachable broker: retries with backoff, gives up after --retry-for with exit 1" {
  local port
  port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local start=$SECONDS
  run --separate-stderr timeout 20 "$BIN/amqp-sub" --url "amqp://guest:guest@127.0.0.1:$port" \
    --retry-for 2
  [ "$status" -eq 1 ]
  [ $((SECONDS - start)) -lt 10 ]
  [[ "$stderr" == *"retrying in"* ]]
  [[ "$stderr" == *"giving up after 2 s"* ]]
  [ -z "$output" ]
  run --separate-stderr timeout 20 "$BIN/amqp-pub" --url "amqp://guest:guest@127.0.0.1:$port" \
    --retry-for 1 < <(echo '{}')
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"giving up after 1 s"* ]]
}

@test "bad URL or option: usage error, exit 2, nothing on stdout" {
  for args in "--url http://x" "--url amqp://a:b@:5/" "--url amqp://h:99999/" "--prefetch 0"; do
    run --separate-stderr timeout 20 "$BIN/amqp-sub" $args
    [ "$status" -eq 2 ]
    [ -n "$stderr" ]
    [ -z "$output" ]
  done
  run --separate-stderr timeout 20 "$BIN/amqp-pub" --routing-key '{type' </dev/null
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"--routing-key"* ]]
  run --separate-stderr timeout 20 "$BIN/amqp-sub" --queue-type quorum
  [ "$status" -eq 2 ]
  run --separate-stderr timeout 20 "$BIN/amqp-sub" -Q q --stream-offset first
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"--stream-offset needs --queue-type stream"* ]]
  run --separate-stderr timeout 20 "$BIN/amqp-sub" -Q q --queue-type stream --stream-offset -1
  [ "$status" -eq 2 ]
  [[ "$stderr" == *"expected first, last, next or an offset"* ]]
}

@test "--passive: a missing exchange or queue is a failure (exit 1) at once, not retried" {
  run --separate-stderr timeout 20 "$BIN/amqp-pub" --passive -e "$T-none" </dev/null
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"404 NOT_FOUND"* ]]
  run --separate-stderr timeout 20 "$BIN/amqp-sub" --passive -e '' -Q "$T-none"
  [ "$status" -eq 1 ]
  [[ "$stderr" == *"404 NOT_FOUND"* ]]
  [ -z "$output" ]
  # Declared (without --passive), the same names work.
  run --separate-stderr timeout 20 "$BIN/amqp-pub" -e "$T-none" </dev/null
  [ "$status" -eq 0 ]
}

@test "SIGTERM: amqp-pub stops reading, waits for the confirms of what it read, exits 0" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  # Input kept open until amqp-pub has ended (each queue_depth, a rabbitmqctl, takes seconds on
  # a loaded machine).
  { events 10; wait_for_file input-done 100; } 3>&- | timeout 120 "$BIN/amqp-pub" -e '' -k "$T-q" 2>err 3>&- &
  local pub=$!
  local n=200
  while [ "$(queue_depth "$T-q")" != 10 ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  [ "$(queue_depth "$T-q")" = 10 ]
  sleep 0.5
  kill -0 "$pub"  # still running while its input is open
  kill -TERM "$pub"
  # It ends with its input still open; then the input ends, for `wait`, which waits for the
  # whole pipeline.
  wait_pid "$pub" 30
  echo done >input-done
  local status=0
  wait "$pub" || status=$?
  [ "$status" -eq 0 ] || { cat err >&2; false; }
  [ "$(queue_depth "$T-q")" = 10 ]
}

@test "two amqp-sub without a queue name both receive everything" {
  timeout 90 "$BIN/amqp-sub" -e "$T" --count 50 >out1 &
  local s1=$!
  timeout 90 "$BIN/amqp-sub" -e "$T" --count 50 >out2 &
  local s2=$!
  wait_bindings "$T" 2
  events 50 >in
  timeout 20 "$BIN/amqp-pub" -e "$T" <in
  wait "$s1"
  wait "$s2"
  cmp in out1
  cmp in out2
}

@test "two amqp-sub on one named queue share the work" {
  timeout 30 "$BIN/amqp-sub" -e "$T" -Q "$T-q" --prefetch 1 >out1 &
  local s1=$!
  timeout 30 "$BIN/amqp-sub" -e "$T" -Q "$T-q" --prefetch 1 >out2 &
  local s2=$!
  wait_queue_consumers "$T-q" 2
  events 200 >in
  timeout 20 "$BIN/amqp-pub" -e "$T" <in
  local n=400
  while [ $(( $(wc -l <out1) + $(wc -l <out2) )) -lt 200 ] && [ $n -gt 0 ]; do
    sleep 0.05
    n=$((n - 1))
  done
  kill -TERM "$s1" "$s2"
  wait "$s1"
  wait "$s2"
  [ "$(wc -l <out1)" -gt 0 ]
  [ "$(wc -l <out2)" -gt 0 ]
  [ "$(cat out1 out2 | sort -u | wc -l)" -eq 200 ]
  [ "$(cat out1 out2 | wc -l)" -eq 200 ]
  [ "$(queue_depth "$T-q")" = 0 ]
}

# big_events N: N events of about 2 KB each.
big_events() {
  local pad
  pad=$(printf '%02000d' 0)
  events "$1" | sed "s/}\$/,\"pad\":\"$pad\"}/"
}

@test "SIGTERM: amqp-sub writes and acks what was delivered, exits 0; the rest stays queued" {
  big_events 2000 >in
  timeout 30 "$BIN/amqp-pub" -e '' -k "$T-q" <in 2>/dev/null || true  # queue not declared yet
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  timeout 30 "$BIN/amqp-pub" -e '' -k "$T-q" <in
  [ "$(queue_depth "$T-q")" = 2000 ]
  mkfifo pipe
  # A slow downstream, so that amqp-sub is stopped mid-stream.
  $PY -c 'import os, time
while True:
    b = os.read(0, 4096)
    if not b: break
    os.write(1, b); time.sleep(0.01)' <pipe >out &
  local reader=$!
  timeout 30 "$BIN/amqp-sub" -e '' -Q "$T-q" --prefetch 50 -v >pipe 2>err &
  local sub=$!
  wait_lines out 100
  kill -TERM "$sub"
  local status=0
  wait "$sub" || status=$?
  [ "$status" -eq 0 ] || { echo "status $status" >&2; cat err >&2; false; }
  wait_pid "$reader" 20
  local written left
  written=$(wc -l <out)
  left=$(queue_depth "$T-q")
  echo "# written $written, left in the queue $left" >&3
  [ "$written" -lt 2000 ]
  [ $((written + left)) -eq 2000 ]
  head -n "$written" in | cmp - out
}

@test "closed downstream: amqp-sub stops, and what it did not write stays queued" {
  local pad
  pad=$(printf '%010000d' 0)
  events 100 | sed "s/}\$/,\"pad\":\"$pad\"}/" >in
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  timeout 30 "$BIN/amqp-pub" -e '' -k "$T-q" <in
  timeout 30 "$BIN/amqp-sub" -e '' -Q "$T-q" -v 2>err | head -n 5 >out
  [ "${PIPESTATUS[0]}" -eq 0 ]
  [ "$(wc -l <out)" -eq 5 ]
  local written
  written=$(grep -oE '[0-9]+ lines written' err | grep -oE '^[0-9]+')
  echo "# written $written (head read 5), left $(queue_depth "$T-q")" >&3
  [ "$written" -ge 5 ]
  [ "$written" -lt 100 ]
  [ "$(queue_depth "$T-q")" -eq $((100 - written)) ]
}

@test "an idle amqp-pub keeps its connection: heartbeats are serviced while stdin is idle" {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T-q" >/dev/null
  run --separate-stderr timeout 20 "$BIN/amqp-pub" --heartbeat 1 -e '' -k "$T-q" \
    < <(echo '{"n":1}'; sleep 5; echo '{"n":2}')
  [ "$status" -eq 0 ]
  [[ "$stderr" != *lost* ]]
  [ "$(queue_depth "$T-q")" = 2 ]
}

# wait_consuming LOG: waits until amqp-sub logged that it consumes (basic.consume-ok). For
# streams, whose consumer count in list_queues outlives the consumers in RabbitMQ 3.10.
wait_consuming() { wait_for_line "$1" 'consuming from' 20; }

@test "a stalled downstream: amqp-sub keeps its connection with heartbeats, nothing is redelivered" {
  # 300 lines of 1 KiB: more than the pipe holds, so amqp-sub's write waits while the reader
  # sleeps for 8 s, four times as long as the broker waits for a heartbeat (2 x 1 s).
  { timeout 60 "$BIN/amqp-sub" -e '' -Q "$T-q" --heartbeat 1 --count 300 2>err; echo $? >status; } |
    { sleep 8; cat; } >out &
  local reader=$!
  wait_queue_consumers "$T-q" 1
  awk 'BEGIN { for (i = 1; i <= 300; i++) { s = sprintf("{\"n\":%d,\"pad\":\"", i);
    while (length(s) < 1020) s = s "x"; print s "\"}" } }' >in
  timeout 20 "$BIN/amqp-pub" -e '' -k "$T-q" <in
  wait "$reader"
  cat err
  [ "$(cat status)" = 0 ]
  cmp in out
  run ! grep lost err
  [ "$(queue_depth "$T-q")" = 0 ]
}

@test "quorum and stream queues: amqp-pub to amqp-sub, complete and in order" {
  local type
  for type in quorum stream; do
    timeout 20 "$BIN/amqp-sub" -e "$T" -Q "$T-$type" --queue-type "$type" --count 50 \
      >"out-$type" 2>"err-$type" &
    local sub=$!
    wait_consuming "err-$type"
    events 50 | timeout 20 "$BIN/amqp-pub" -e "$T"
    wait "$sub"
    events 50 | cmp - "out-$type"
  done
  rmqctl -q list_queues name type | grep -qx "$T-quorum"$'\t'quorum
  rmqctl -q list_queues name type | grep -qx "$T-stream"$'\t'stream
}

@test "a stream cannot reject: amqp-sub skips a bad body with a warning, acks it and goes on" {
  timeout 20 "$BIN/amqp-sub" -e '' -Q "$T-s" --queue-type stream --count 2 >out 2>err &
  local sub=$!
  wait_consuming err
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-s" -b 'not json'
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-s" -b '{"n":1}'
  amqp-publish --url "$AMQP_URL" -e '' -r "$T-s" -b '{"n":2}'
  local status=0
  wait "$sub" || status=$?
  cat err
  [ "$status" -eq 0 ]
  [ "$(cat out)" = $'{"n":1}\n{"n":2}' ]
  grep -q 'stream offset 0 .* skipped: the body is not JSON' err
  grep -q '1 messages skipped' err
  run ! grep 'lost' err
}

@test "--stream-offset first and N; after a lost connection a stream resumes after the last line written" {
  # The stream is declared by a consumer that is then stopped.
  timeout 20 "$BIN/amqp-sub" -e '' -Q "$T-s" --queue-type stream >/dev/null 2>declared &
  wait_consuming declared
  kill -TERM $!
  wait $!
  events 3 | timeout 20 "$BIN/amqp-pub" -e '' -k "$T-s"
  # A stream keeps what was consumed: any number of readers, from any offset.
  run timeout 20 "$BIN/amqp-sub" -q -e '' -Q "$T-s" --queue-type stream --stream-offset first \
    --count 3
  [ "$output" = "$(events 3)" ]
  run timeout 20 "$BIN/amqp-sub" -q -e '' -Q "$T-s" --queue-type stream --stream-offset 2 --count 1
  [ "$output" = "$(events 1 3)" ]

  # Consuming from the next message; the connection is closed by the broker while amqp-sub is
  # stopped, and lines are published before it runs again: it resumes where it was.
  timeout 30 "$BIN/amqp-sub" -e '' -Q "$T-s" --queue-type stream --count 4 >out 2>err &
  local sub=$!
  wait_consuming err
  events 2 4 | timeout 20 "$BIN/amqp-pub" -e '' -k "$T-s"
  wait_lines out 2
  kill -STOP "$sub"
  rmqctl close_all_connections "test: connection lost" >/dev/null
  events 2 6 | timeout 20 "$BIN/amqp-pub" -e '' -k "$T-s"
  kill -CONT "$sub"
  local status=0
  wait "$sub" || status=$?
  cat err
  [ "$status" -eq 0 ]
  grep -q 'lost' err
  [ "$(cat out)" = "$(events 4 4)" ]
}

@test "100,000 lines through amqp-pub and amqp-sub arrive complete, identical and in order" {
  events 100000 >in
  timeout 120 "$BIN/amqp-sub" -e "$T" -Q "$T-q" -b 'chan.#' --count 100000 >out &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  local start=$SECONDS
  timeout 120 "$BIN/amqp-pub" -e "$T" <in
  local status=0
  wait "$sub" || status=$?
  [ "$status" -eq 0 ]
  echo "# 100000 lines in $((SECONDS - start)) s" >&3
  cmp in out
  [ "$(queue_depth "$T-q")" = 0 ]
}
