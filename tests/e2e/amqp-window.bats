#!/usr/bin/env bats
# amqp-pub's window of unconfirmed lines against a real RabbitMQ node that withholds confirms:
# a memory alarm blocks publishing connections, so nothing is confirmed until it clears. While
# the window is full, amqp-pub must stop reading standard input (by count and by bytes), and
# deliver every line once the alarm clears.

load helpers
load amqp-helpers
bats_require_minimum_version 1.5.0

setup_file() { amqp_setup_file; }
teardown_file() { amqp_teardown_file; }
setup() { amqp_setup; }
teardown() {
  # The node may be shared with other test files: never leave the alarm on.
  rmqctl set_vm_memory_high_watermark 0.8 >/dev/null 2>&1
  amqp_teardown
}

LINES=20000

# writer: LINES lines of 1 KiB on stdout, unbuffered, counting in ./written what it has written.
writer() {
  "$PY" -c '
import os, sys
n = int(sys.argv[1])
with open("writer.pid", "w") as f:
    f.write(str(os.getpid()))
for i in range(1, n + 1):
    line = b"{\"type\":\"chat\",\"n\":%d,\"pad\":\"" % i
    line += b"x" * (1023 - len(line) - 2) + b"\"}\n"
    while line:
        line = line[os.write(1, line):]
    if i % 10 == 0 or i == n:
        with open("written.tmp", "w") as f:
            f.write(str(i))
        os.replace("written.tmp", "written")
' "$LINES"
}

# pipe_reader PID NAME: the process called NAME that reads what PID writes to its stdout.
pipe_reader() {
  local pipe f
  pipe=$(readlink "/proc/$1/fd/1") || return 1
  for f in /proc/[0-9]*/fd/0; do
    f=${f#/proc/}
    f=${f%%/*}
    if [ "$(readlink "/proc/$f/fd/0" 2>/dev/null)" = "$pipe" ] &&
       [ "$(cat "/proc/$f/comm" 2>/dev/null)" = "$2" ]; then
      echo "$f"
      return 0
    fi
  done
  return 1
}

# stdin_stalled WRITER READER: WRITER waits for room in a full pipe while READER waits in poll(2)
# (READER is not reading: with the pipe full, a poll for it would return at once).
stdin_stalled() {
  [[ "$(cat "/proc/$1/wchan")" == *pipe_write* ]] && [[ "$(cat "/proc/$2/wchan")" == *poll* ]]
}

# alarm_on: a memory alarm on the node, waited for.
alarm_on() {
  rmqctl set_vm_memory_high_watermark 0 >/dev/null
  local n=100
  until rmqctl -q eval 'rabbit_alarm:get_alarms().' | grep -q memory; do
    n=$((n - 1))
    [ $n -gt 0 ] || return 1
    sleep 0.2
  done
}

# blocked_publish ARGS...: with the alarm on, amqp-pub ARGS reads at most a few hundred of the
# 20,000 lines (the window, its 64 KiB read and the pipe's buffer), warns that it is blocked;
# once the alarm clears, every line arrives and it exits 0.
blocked_publish() {
  amqp-declare-queue --url "$AMQP_URL" -d -q "$T" >/dev/null
  alarm_on
  { writer | timeout 60 "$BIN/amqp-pub" -e '' -k "$T" "$@" 2>err; echo $? >status; } &
  local pid=$!
  wait_for_line err 'blocked publishing' 20
  wait_for_file writer.pid 10
  local writer pub
  writer=$(cat writer.pid)
  pub=$(pipe_reader "$writer" amqp-pub)
  # amqp-pub stopped reading stdin: the writer waits on a full pipe, amqp-pub in poll.
  wait_until 20 stdin_stalled "$writer" "$pub"
  local read_while_blocked
  read_while_blocked=$(cat written)
  echo "lines written while blocked: $read_while_blocked"
  [ "$read_while_blocked" -lt 400 ]
  [ "$(queue_depth "$T")" = 0 ]
  # The broker knows the connection by the command's name.
  rmqctl -q list_connections client_properties | grep -q 'connection_name.*amqp-pub'
  rmqctl set_vm_memory_high_watermark 0.8 >/dev/null
  wait "$pid"
  cat err
  [ "$(cat status)" = 0 ]
  [ "$(cat written)" = "$LINES" ]
  [ "$(queue_depth "$T")" = "$LINES" ]
  grep -q 'unblocked publishing' err
}

@test "--max-inflight: with confirms withheld, amqp-pub stops reading stdin; all arrive after" {
  blocked_publish --max-inflight 20
}

@test "--max-inflight-bytes: with confirms withheld, amqp-pub stops reading stdin; all arrive after" {
  blocked_publish --max-inflight 1000000 --max-inflight-bytes 20000
}
