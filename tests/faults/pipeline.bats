#!/usr/bin/env bats
# The whole pipeline, twitch-irc → amqp-pub → RabbitMQ → amqp-sub → ws-serve → clients, fed by
# the fake IRC server's numbered raids (tests/faults/pipeline.bash), with one stage after the
# other killed by SIGKILL at random moments and restarted at once. Counted by id at both clients
# (tests/faults/count-ids), every raid arrives (duplicates are counted, and allowed) or lies in
# the window the killed command's man page states:
#   - amqp-sub (20 times) or the RabbitMQ node (once) killed: nothing missing;
#   - amqp-pub or ws-serve killed: at most what the process held in memory (the figures of 20
#     kills are reported on fd 3);
#   - twitch-irc killed: restarted with --state-file, it writes a gap covering the time it was
#     down, and every raid outside a gap arrives.

load faults-helpers
load pipeline
bats_require_minimum_version 1.5.0

setup_file() { faults_setup_file; }
teardown_file() { faults_teardown_file; }

setup() {
  faults_setup
  AMQP=$AMQP_TEST_URL
}

teardown() {
  faults_teardown
  if [ -n "${NODE_DIR:-}" ]; then
    "$ROOT/tests/rabbitmq" stop "$NODE_DIR"
    rm -rf "$NODE_DIR"
  fi
  true
}

@test "amqp-sub killed 20 times: nothing missing at the clients" {
  pipeline_start 1000 0.01
  kill_repeatedly sub 20 0.15 0.4
  pipeline_finish
  run figure missing
  assert_output 0
}

@test "amqp-pub killed 20 times: at most what it held in memory is lost" {
  pipeline_start 1000 0.01
  kill_repeatedly pub 20 0.15 0.4
  pipeline_finish
  # What amqp-pub holds (amqp-pub(1)): the unconfirmed window (--max-inflight) and one read of
  # standard input (64 KiB); what waits in the pipe is read by the next amqp-pub.
  local bound
  bound=$(held_lines 65536)
  bound=$((bound + PUB_INFLIGHT))
  echo "# amqp-pub, 20 kills: largest loss $(figure largest_loss) raids (bound $bound), $(figure missing) in all, $(figure duplicates) duplicates" >&3
  run figure largest_loss
  [ "$output" -le "$bound" ]
}

@test "ws-serve killed 20 times: at most what it held in memory is lost; clients resume" {
  pipeline_start 1000 0.01
  kill_repeatedly serve 20 0.15 0.4
  pipeline_finish
  # What ws-serve holds (ws-serve(1)): lines of one read of standard input (64 KiB) not yet
  # broadcast. Everything it broadcast is in --retain-file, from which the next ws-serve resumes
  # the clients: each resume finds the client's last event (only the first, after the
  # placeholder fault-000000, does not).
  local bound
  bound=$(held_lines 65536)
  echo "# ws-serve, 20 kills: largest loss $(figure largest_loss) raids (bound $bound), $(figure missing) in all, $(figure duplicates) duplicates" >&3
  run figure largest_loss
  [ "$output" -le "$bound" ]
  local c
  for c in c1 c2; do
    run grep -c '"control":"catchup","found":false' "$T/$c.out"
    assert_output 1
    # How many of the 20 restarts a client reconnects to depends on the machine's speed (on a
    # loaded one, some restarts are killed before a client is back): at least two resumes.
    run grep -c '"control":"catchup","found":true' "$T/$c.out"
    [ "$output" -ge 2 ]
  done
}

@test "twitch-irc killed 5 times: restarted with --state-file, a gap covers each time it was down" {
  # A raid counts as inside a gap when the fake sent it within the gap's from..to, give or take
  # 250 ms: from is when twitch-irc received its last raid written, later than when the fake sent
  # it by the delivery's latency.
  GAP_SLACK_MS=250
  pipeline_start 1500 0.01 --state-file "$T/irc.state"
  kill_repeatedly irc 5 1.5 2.5
  pipeline_finish
  echo "# twitch-irc, 5 kills: $(figure missing) raids missing, $(figure outside_gaps) outside a gap" >&3
  run figure outside_gaps
  assert_output 0
  local c
  for c in c1 c2; do
    run grep -c '"type":"gap"' "$T/$c.out"
    [ "$output" -ge 5 ]
  done
}

@test "the RabbitMQ node killed: nothing missing at the clients" {
  # A private node, since this one is killed (tests/rabbitmq); one kill, as a node takes 10 s or
  # more to start again.
  NODE_DIR=$(mktemp -d /tmp/servitor-faults-node.XXXXXX)
  chmod 755 "$NODE_DIR"
  local env
  env=$("$ROOT/tests/rabbitmq" start "$NODE_DIR")
  AMQP=$(echo "$env" | sed -n 's/^AMQP_TEST_URL=//p')
  [ -n "$AMQP" ]
  pipeline_start 1000 0.01
  sleep "$(random_between 1 3)"
  "$ROOT/tests/rabbitmq" kill "$NODE_DIR"
  "$ROOT/tests/rabbitmq" start "$NODE_DIR" >/dev/null
  pipeline_finish
  echo "# RabbitMQ node killed: $(figure missing) missing, $(figure duplicates) duplicates" >&3
  run figure missing
  assert_output 0
}
