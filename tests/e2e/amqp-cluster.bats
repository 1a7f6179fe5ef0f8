#!/usr/bin/env bats
# RabbitMQ as the distributed engine: a 3-node cluster on loopback (private nodes, started as
# tests/rabbitmq starts one, at the same time) and a quorum queue. amqp-pub and amqp-sub each get
# every node's --url, starting from different nodes; the node under amqp-sub (the queue's
# leader) is killed mid-stream and restarted: every line arrives, duplicates are counted.

load helpers
load amqp-helpers
bats_require_minimum_version 1.5.0

N=3000

setup_file() {
  CLUSTER=$(mktemp -d /tmp/servitor-cluster.XXXXXX)
  chmod 755 "$CLUSTER"
  export CLUSTER
  local i pids=()
  for i in 1 2 3; do
    "$RABBIT" start "$CLUSTER/n$i" >"$CLUSTER/start$i.out" 2>&1 3>&- &
    pids+=($!)
  done
  for i in 0 1 2; do wait "${pids[$i]}" || { cat "$CLUSTER"/start*.out >&2; return 1; }; done
  local first
  first=$(sed -n 's/^RABBITMQ_NODENAME=//p' "$CLUSTER/n1/env")
  for i in 2 3; do
    node_ctl "$i" stop_app >/dev/null &&
      node_ctl "$i" join_cluster "$first" >/dev/null &&
      node_ctl "$i" start_app >/dev/null || return 1
  done
  node_ctl 1 await_online_nodes 3 >/dev/null
}

teardown_file() {
  local i
  for i in 1 2 3; do "$RABBIT" stop "$CLUSTER/n$i" 3>&- & done
  wait
  rm -rf "$CLUSTER"
}

setup() {
  T=t$BATS_TEST_NUMBER-$$-$RANDOM
  unset AMQP_URL
  cd "$BATS_TEST_TMPDIR" || return 1
}

teardown() { amqp_teardown; }

# node_ctl I ARGS...: rabbitmqctl against node I.
node_ctl() { local i=$1; shift; timeout 60 "$RABBIT" ctl "$CLUSTER/n$i" "$@"; }

# url I: node I's AMQP URL.
url() { sed -n 's/^AMQP_TEST_URL=//p' "$CLUSTER/n$1/env"; }


@test "3-node cluster, quorum queue: the consumer's node killed and restarted, every line arrives" {
  run node_ctl 1 -q cluster_status --formatter json
  assert_success
  run jq '.running_nodes | length' <<<"$output"
  assert_output 3
  timeout 180 "$BIN/amqp-sub" --url "$(url 3)" --url "$(url 1)" --url "$(url 2)" -e "$T" \
    -Q "$T-q" --queue-type quorum --retry-for 90 >out 2>sub.err 3>&- &
  local sub=$!
  local n=80
  until [ "$(node_ctl 1 -q list_queues name type consumers | awk -v q="$T-q" '$1 == q { print $2, $3 }')" = "quorum 1" ]; do
    [ $n -gt 0 ] || { cat sub.err >&2; false; }
    sleep 0.25
    n=$((n - 1))
  done
  slow_events | timeout 180 "$BIN/amqp-pub" --url "$(url 2)" --url "$(url 1)" --url "$(url 3)" \
    -e "$T" --retry-for 90 2>pub.err 3>&- &
  local pub=$!
  wait_lines out 500 30
  "$RABBIT" kill "$CLUSTER/n3"
  wait_for_line sub.err "connected to amqp://guest@127\.0\.0\.1:$(url 1 | sed 's/.*://')" 30
  "$RABBIT" start "$CLUSTER/n3" >/dev/null 3>&-
  local status=0
  wait "$pub" || status=$?
  [ "$status" -eq 0 ] || { echo "amqp-pub: status $status" >&2; cat pub.err >&2; false; }
  expect_every_line "$sub" "$N"
  run grep -c 'lost' sub.err
  assert_success
  # The restarted node is back in the cluster, with the queue.
  run node_ctl 3 -q list_queues name type
  assert_output --partial "$T-q	quorum"
}
