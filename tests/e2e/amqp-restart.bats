#!/usr/bin/env bats
# Broker restarts mid-stream: `rabbitmqctl stop_app`/`start_app`, and a kill -9 of the node
# followed by a restart on the same port and data. amqp-pub must republish what was not
# confirmed and amqp-sub must reconnect: afterwards every line has arrived at least once.
# Duplicates are allowed (at-least-once) and counted.

load helpers
load amqp-helpers
bats_require_minimum_version 1.5.0

setup_file() { amqp_setup_file; }
teardown_file() { amqp_teardown_file; }
setup() { amqp_setup; }
teardown() { amqp_teardown; }

N=3000

# slow_events: N events over about 3 seconds, so that the broker goes away mid-stream.
slow_events() {
  local b
  for ((b = 0; b < N / 100; b++)); do
    events 100 $((b * 100 + 1))
    sleep 0.1
  done
}

# run_through_restart RESTART-COMMAND...: streams N events through amqp-pub and amqp-sub while
# RESTART-COMMAND takes the broker down and up, then checks that every line arrived.
run_through_restart() {
  timeout 120 "$BIN/amqp-sub" -e "$T" -Q "$T-q" --retry-for 60 >out 2>sub.err &
  local sub=$!
  wait_queue_consumers "$T-q" 1
  slow_events | timeout 120 "$BIN/amqp-pub" -e "$T" --retry-for 60 2>pub.err &
  local pub=$!
  wait_lines out 300 20
  "$@"
  local status=0
  wait "$pub" || status=$?
  [ "$status" -eq 0 ] || { echo "amqp-pub: status $status" >&2; cat pub.err >&2; false; }
  # Everything is confirmed; wait (bounded) until amqp-sub has written all of it.
  local n=600
  while [ "$(sort -u out | wc -l)" -lt "$N" ] && [ $n -gt 0 ]; do
    sleep 0.1
    n=$((n - 1))
  done
  kill -TERM "$sub"
  wait "$sub" || status=$?
  [ "$status" -eq 0 ] || { echo "amqp-sub: status $status" >&2; cat sub.err >&2; false; }
  local total unique
  total=$(wc -l <out)
  unique=$(sort -u out | wc -l)
  echo "# $N lines: $total received, $unique distinct, $((total - unique)) duplicates" >&3
  events "$N" | sort >want
  sort -u out | cmp - want
  # The outage really happened while both were running.
  grep -q 'lost' pub.err
  grep -q 'lost' sub.err
}

restart_app() {
  rmqctl stop_app >/dev/null
  sleep 2
  rmqctl start_app >/dev/null
}

restart_node() {
  "$RABBIT" kill "$AMQP_TEST_DIR"
  sleep 1
  "$RABBIT" start "$AMQP_TEST_DIR" >/dev/null
}

@test "rabbitmqctl stop_app/start_app mid-stream: every line arrives at least once" {
  run_through_restart restart_app
}

@test "kill -9 of the node and a restart mid-stream: every line arrives at least once" {
  run_through_restart restart_node
}
