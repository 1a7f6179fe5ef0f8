# The whole pipeline for the kill tests, fed by the fake IRC server's numbered raids:
#
#   twitch_irc.py --scenario numbered → twitch-irc → FIFO in → amqp-pub → RabbitMQ queue
#     → amqp-sub → FIFO out → ws-serve --retain-file → 2 × ws-cat --reconnect --after (c1, c2)
#
# Each stage is started by start_STAGE (irc, pub, sub, serve) with its stderr appended to
# $T/STAGE.log, and can be SIGKILLed and started again at once (restart_stage), as a supervisor
# would. A keeper process holds both FIFOs open for reading and writing, as a supervisor that
# owns the pipes does: a stage that dies does not take its neighbours with it (no EPIPE upstream,
# no end of input downstream), and what sits in a pipe waits there for the restarted stage.
# Needs $T, $AMQP (a broker URL), and faults-helpers.bash loaded.

# pipeline_start EVENTS INTERVAL [TWITCH-IRC OPTIONS...]: starts everything; the fake sends EVENTS
# raids, one every INTERVAL seconds, from the moment twitch-irc joined.
pipeline_start() {
  local events=$1 interval=$2
  shift 2
  IRC_OPTS=("$@")
  PUB_INFLIGHT=100
  Q=faults-$$-$RANDOM
  mkfifo "$T/in" "$T/out"
  $PY -c 'import os, signal, sys
fds = [os.open(p, os.O_RDWR) for p in sys.argv[1:]]
signal.pause()' "$T/in" "$T/out" 3>&- 7>&- &
  PIDS+=($!)
  timeout 600 "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$T/fake.log" --scenario numbered \
    --events "$events" --interval "$interval" >"$T/fake.out" 2>&1 3>&- 7>&- &
  PIDS+=($!)
  local port
  port=$(listen_port "$T/fake.out")
  [ -n "$port" ]
  IRC_URL=wss://127.0.0.1:$port
  amqp-declare-queue --url "$AMQP" -d -q "$Q" >/dev/null
  start_sub
  WS_LISTEN=127.0.0.1:0
  start_serve
  WS_PORT=$(listen_port "$T/serve.log")
  [ -n "$WS_PORT" ]
  WS_LISTEN=127.0.0.1:$WS_PORT
  local c
  for c in c1 c2; do
    # --after: each reconnect resumes after the last event printed (fault-000000 is none yet).
    "$BIN/ws-cat" --reconnect --after fault-000000 "ws://127.0.0.1:$WS_PORT/" >"$T/$c.out" 2>"$T/$c.log" 3>&- 7>&- &
    PIDS+=($!)
  done
  wait_for_line "$T/serve.log" 'connected; 2 clients' 10
  start_pub
  start_irc
  wait_for_line "$T/fake.log" '^1! all joined' 20
}

# start_STAGE: starts one stage; its pid goes to STAGE_PID and PIDS.
start_irc() {
  "$BIN/twitch-irc" --url "$IRC_URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" "${IRC_OPTS[@]}" maple \
    >"$T/in" 2>>"$T/irc.log" 3>&- 7>&- &
  irc_PID=$!
  PIDS+=($!)
}
start_pub() {
  "$BIN/amqp-pub" --url "$AMQP" -e '' -k "$Q" --max-inflight "$PUB_INFLIGHT" <"$T/in" 2>>"$T/pub.log" 3>&- 7>&- &
  pub_PID=$!
  PIDS+=($!)
}
start_sub() {
  "$BIN/amqp-sub" --url "$AMQP" -e '' -Q "$Q" >"$T/out" 2>>"$T/sub.log" 3>&- 7>&- &
  sub_PID=$!
  PIDS+=($!)
}
start_serve() {
  "$BIN/ws-serve" --listen "$WS_LISTEN" --retain 5000 --retain-for 600 \
    --retain-file "$T/retain.ndjson" <"$T/out" 2>>"$T/serve.log" 3>&- 7>&- &
  serve_PID=$!
  PIDS+=($!)
}

# restart_stage STAGE: SIGKILL it, reap it, start it again.
restart_stage() {
  local var=${1}_PID
  kill -9 "${!var}"
  wait "${!var}" 2>/dev/null || true
  "start_$1"
}

# random_between A B: a random number of seconds between A and B.
random_between() { awk -v s="$RANDOM" -v a="$1" -v b="$2" 'BEGIN { srand(s); printf "%.2f", a + rand() * (b - a) }'; }

# kill_repeatedly STAGE N A B: N times, after a random A..B seconds, restart_stage STAGE.
kill_repeatedly() {
  local i
  for ((i = 0; i < $2; i++)); do
    sleep "$(random_between "$3" "$4")"
    restart_stage "$1"
  done
}

# pipeline_finish: waits until the fake has sent everything and both clients have the last raid
# sent (or nothing new for 10 s), then prints count-ids' figures to $T/figures and fd 3.
pipeline_finish() {
  wait_for_line "$T/fake.log" 'sent all' 120
  local last
  last=$(awk '$2 == "sent" { k = $3 } END { printf "fault-%06d", k }' "$T/fake.log")
  local c before n
  for c in c1 c2; do
    before=-1
    n=0
    until grep -q "\"id\":\"$last\"" "$T/$c.out" || [ $n -ge 10 ]; do
      sleep 1
      if [ "$(wc -l <"$T/$c.out")" = "$before" ]; then n=$((n + 1)); else n=0; fi
      before=$(wc -l <"$T/$c.out")
    done
  done
  sleep 0.5
  "$ROOT/tests/faults/count-ids" --slack-ms="${GAP_SLACK_MS:-0}" -v "$T/fake.log" "$T/c1.out" \
    "$T/c2.out" >"$T/figures"
  sed 's/^/# /' "$T/figures" >&3
}

# held_lines BYTES: the most event lines that BYTES of memory hold (the shortest line the clients
# got, newline included).
held_lines() {
  local shortest
  shortest=$(grep -h '"id":"fault-' "$T/c1.out" "$T/c2.out" | awk 'NR == 1 || length < m { m = length } END { print m + 1 }')
  echo $(( ($1 + shortest - 1) / shortest ))
}

# figure NAME: the worst value of NAME (missing, duplicates, largest_loss, outside_gaps).
figure() { sed -n "s/^worst: .*\\b$1=\\([0-9]*\\).*/\\1/p" "$T/figures"; }
