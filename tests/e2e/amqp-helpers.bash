# Shared by the amqp-*.bats files: a RabbitMQ node to test against, and small helpers.
# CI (.ci/run) starts one node for the whole run and exports AMQP_TEST_URL, RABBITMQ_NODENAME
# and AMQP_TEST_DIR; standalone, each file starts its own node in setup_file and stops it in
# teardown_file.

RABBIT=$ROOT/tests/rabbitmq

amqp_setup_file() {
  if [ -z "${AMQP_TEST_URL:-}" ]; then
    AMQP_TEST_DIR=$(mktemp -d /tmp/servitor-amqp.XXXXXX)
    chmod 755 "$AMQP_TEST_DIR"
    local env
    env=$("$RABBIT" start "$AMQP_TEST_DIR") || return 1
    eval "$env"
    export AMQP_TEST_URL RABBITMQ_NODENAME AMQP_TEST_DIR AMQP_OWN_NODE=1
  fi
  [ -n "${AMQP_TEST_DIR:-}" ] || { echo "AMQP_TEST_URL without AMQP_TEST_DIR" >&2; return 1; }
  # The TLS listener of the node (tests/rabbitmq saves it in DIR/env).
  AMQPS_TEST_URL=$(sed -n 's/^AMQPS_TEST_URL=//p' "$AMQP_TEST_DIR/env")
  AMQP_TEST_CACERT=$AMQP_TEST_DIR/tls/ca.pem
  export AMQPS_TEST_URL AMQP_TEST_CACERT
}

amqp_teardown_file() {
  if [ -n "${AMQP_OWN_NODE:-}" ]; then
    "$RABBIT" stop "$AMQP_TEST_DIR"
    rm -rf "$AMQP_TEST_DIR"
  fi
}

# Names unique to one test, so tests sharing a node do not see each other's messages.
# Each test runs in its own temporary directory.
amqp_setup() {
  T=t$BATS_TEST_NUMBER-$$-$RANDOM
  export AMQP_URL=$AMQP_TEST_URL
  cd "$BATS_TEST_TMPDIR" || return 1
}

# Ends the background commands a failed test left behind, but not bats' own per-test watchdog:
# killed, it would leave its `sleep` holding bats' output open.
amqp_teardown() {
  local p
  for p in $(jobs -p); do
    [ "$p" = "${BATS_killer_pid:-}" ] || kill_ours "$p"
  done
  true
}

# rmqctl ARGS...: rabbitmqctl against the test node.
rmqctl() { timeout 60 "$RABBIT" ctl "$AMQP_TEST_DIR" "$@"; }

# queue_depth QUEUE: messages in QUEUE (ready + unacknowledged).
queue_depth() {
  rmqctl -q list_queues name messages | awk -v q="$1" '$1 == q { print $2 }'
}

# wait_queue_consumers QUEUE N [SECONDS]: waits until QUEUE has N consumers, for SECONDS (60) of
# wall time: each rabbitmqctl call starts an Erlang VM, which takes seconds on a loaded machine.
wait_queue_consumers() {
  local q=$1 want=$2 end=$((SECONDS + ${3:-60}))
  while [ $SECONDS -lt $end ]; do
    [ "$(rmqctl -q list_queues name consumers | awk -v q="$q" '$1 == q { print $2 }')" = "$want" ] &&
      return 0
    sleep 0.25
  done
  echo "wait_queue_consumers: $q: not $want consumers within ${3:-60} s" >&2
  return 1
}

# wait_exchange_consumers EXCHANGE N [SECONDS]: waits until N queues are bound to EXCHANGE.
wait_bindings() {
  local x=$1 want=$2 end=$((SECONDS + ${3:-60}))
  while [ $SECONDS -lt $end ]; do
    [ "$(rmqctl -q list_bindings source_name | grep -cx "$x")" -ge "$want" ] && return 0
    sleep 0.25
  done
  echo "wait_bindings: $x: not $want bindings within ${3:-60} s" >&2
  return 1
}

# events N [FROM]: N numbered schema-like events for channel "chan", one per line.
events() {
  local n=$1 from=${2:-1}
  awk -v n="$n" -v f="$from" 'BEGIN { for (i = f; i < f + n; i++)
    printf "{\"v\":1,\"type\":\"chat\",\"id\":\"%d\",\"channel\":{\"login\":\"chan\"},\"n\":%d}\n", i, i }'
}

# wait_lines FILE N [SECONDS]: waits until FILE has at least N lines.
wait_lines() {
  local f=$1 want=$2 n=$(( ${3:-20} * 20 ))
  while [ "$(wc -l <"$f" 2>/dev/null || echo 0)" -lt "$want" ] && [ $n -gt 0 ]; do
    sleep 0.05
    n=$((n - 1))
  done
  [ "$(wc -l <"$f")" -ge "$want" ]
}

# expect_every_line SUB-PID N: waits (bounded) until the amqp-sub SUB-PID has written every one of
# the N events (in ./out) at least once, stops it (it must exit 0), and checks that nothing is
# missing; the duplicates are counted on fd 3.
expect_every_line() {
  local sub=$1 want=$2 n=600 status=0
  while [ "$(sort -u out | wc -l)" -lt "$want" ] && [ $n -gt 0 ]; do
    sleep 0.1
    n=$((n - 1))
  done
  kill -TERM "$sub"
  wait "$sub" || status=$?
  [ "$status" -eq 0 ] || { echo "amqp-sub: status $status" >&2; cat sub.err >&2; return 1; }
  local total unique
  total=$(wc -l <out)
  unique=$(sort -u out | wc -l)
  echo "# $want lines: $total received, $unique distinct, $((total - unique)) duplicates" >&3
  events "$want" | sort >want
  sort -u out | cmp - want
}

# slow_events: $N events, 100 every 0.1 s (3000: about 3 s), so that a broker can go away
# mid-stream.
slow_events() {
  local b
  for ((b = 0; b < N / 100; b++)); do
    events 100 $((b * 100 + 1))
    sleep 0.1
  done
}
