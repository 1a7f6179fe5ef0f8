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


# around_restart: the first half of the N events, 100 every 0.1 s; then, once the restart is
# over (the file restarted, at most 120 s), the second half: amqp-pub publishes on both sides of
# the outage however slow the machine is.
around_restart() {
  local b n=2400
  for ((b = 0; b < N / 200; b++)); do
    events 100 $((b * 100 + 1))
    sleep 0.1
  done
  until [ -e restarted ] || [ $n -le 0 ]; do sleep 0.05; n=$((n - 1)); done
  for ((b = N / 200; b < N / 100; b++)); do
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
  around_restart | timeout 180 "$BIN/amqp-pub" -e "$T" --retry-for 60 2>pub.err &
  local pub=$!
  wait_lines out 300 20
  "$@"
  touch restarted
  local status=0
  wait "$pub" || status=$?
  [ "$status" -eq 0 ] || { echo "amqp-pub: status $status" >&2; cat pub.err >&2; false; }
  # Everything is confirmed; wait (bounded) until amqp-sub has written all of it.
  expect_every_line "$sub" "$N"
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
