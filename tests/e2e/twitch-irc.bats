#!/usr/bin/env bats
# twitch-irc: offline --input against the golden files, usage errors, and the live client against
# a fake Twitch IRC server (tests/fakes/twitch_irc.py, TLS with a CA made here): login sequence,
# JOINs, several lines per frame, a line split across frames, PING/PONG both ways, RECONNECT, an
# abrupt drop, a dead link, a bad token, refused channels, a closed stdout, and a stalled reader of
# stdout (Twitch still serviced, events queued and written in order once the reader resumes).

load helpers
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'
bats_require_minimum_version 1.5.0

setup_file() {
  local d=$BATS_FILE_TMPDIR
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
    -subj "/CN=twitch-irc test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -out "$d/server.pem" -days 2 -extfile "$d/ext.cnf" 2>/dev/null
}

teardown() {
  [ -n "${READER_PID:-}" ] && kill "$READER_PID" 2>/dev/null
  [ -n "${IRC_PID:-}" ] && kill "$IRC_PID" 2>/dev/null
  [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
  true
}

# start_fake SCENARIO [fake args...]: starts the fake; sets FAKE_PID, PORT, URL, FLOG.
start_fake() {
  local scenario=$1
  shift
  FLOG=$BATS_TEST_TMPDIR/fake.log
  timeout 30 "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$FLOG" --scenario "$scenario" "$@" \
    > "$BATS_TEST_TMPDIR/fake.out" 2>&1 &
  FAKE_PID=$!
  PORT=$(listen_port "$BATS_TEST_TMPDIR/fake.out")
  [ -n "$PORT" ]
  URL=wss://127.0.0.1:$PORT
}

# start_irc [args...]: runs twitch-irc against the fake in the background; sets IRC_PID, OUT, ERR.
start_irc() {
  OUT=$BATS_TEST_TMPDIR/out.ndjson
  ERR=$BATS_TEST_TMPDIR/err.log
  # --foreground: timeout(1) would otherwise pass our SIGTERM on to the child twice (to it and to
  # its process group), and a second signal means "exit at once" (status 1).
  timeout --foreground 20 "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" \
    > "$OUT" 2> "$ERR" &
  IRC_PID=$!
}

# start_stalled_irc [args...]: as start_irc, but stdout is a FIFO whose reader reads nothing until
# resume_reader (or 15 s); the reader copies to OUT. Sets IRC_PID, READER_PID, OUT, ERR.
start_stalled_irc() {
  OUT=$BATS_TEST_TMPDIR/out.ndjson
  ERR=$BATS_TEST_TMPDIR/err.log
  GO=$BATS_TEST_TMPDIR/go
  local fifo=$BATS_TEST_TMPDIR/stdout.fifo
  mkfifo "$fifo"
  (
    for _ in $(seq 300); do [ -e "$GO" ] && break; sleep 0.05; done
    exec cat
  ) < "$fifo" > "$OUT" &
  READER_PID=$!
  timeout --foreground 30 "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" \
    > "$fifo" 2> "$ERR" &
  IRC_PID=$!
}

resume_reader() { touch "$GO"; }

# pings_after REGEX: how many PINGs twitch-irc sent the fake after FLOG's first line matching REGEX.
pings_after() { sed -n "/$1/,\$p" "$FLOG" | grep -c '^1> PING' || true; }
# unanswered_pings: how many of the fake's stall PINGs twitch-irc has not answered (yet).
unanswered_pings() { echo $(( $(grep -c '^1! sent PING' "$FLOG") - $(grep -c '^1> PONG' "$FLOG") )); }
# unread_bytes: what waits in the kernel for twitch-irc to read from the fake.
unread_bytes() { ss -tnH state established "( dport = :$PORT )" | awk '{n += $1} END {print n + 0}'; }

# received_raids: how many raid lines twitch-irc has read from the fake (it logs them with -v).
received_raids() { grep -c '^twitch-irc: debug: < .*msg-id=raid' "$ERR" || true; }

# expect_raids N: OUT holds raids 00000 to N-1, each once, in order, and nothing else.
expect_raids() {
  local want got
  want=$(seq -f 'raid fedcba9%05g' 0 $(($1 - 1)))
  got=$(jq -r '.type + " " + .id[-12:]' "$OUT")
  [ "$got" = "$want" ] || { echo "got $(echo "$got" | wc -l) records"; echo "$got" | grep -v '^raid' | head; false; }
}

# stop_irc: SIGTERM, then the exit status must be 0.
stop_irc() {
  kill -TERM "$IRC_PID"
  local status=0
  wait "$IRC_PID" || status=$?
  IRC_PID=
  [ "$status" -eq 0 ] || { echo "twitch-irc exit status $status"; cat "$ERR"; false; }
}

@test "--help and --version exit 0; every --option of --help is in the man page" {
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --help
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  for opt in $(echo "$output" | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    grep -qF -- "$opt" "$ROOT/man/twitch-irc.1.scd" || { echo "missing $opt"; false; }
  done
  scdoc < "$ROOT/man/twitch-irc.1.scd" > /dev/null
  run timeout 20 "$BIN/twitch-irc" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "twitch-irc "* ]]
}

@test "usage errors exit 2 with a message and nothing on stdout" {
  run --separate-stderr timeout 20 "$BIN/twitch-irc"
  assert_failure 2
  refute_output
  [[ "$stderr" == *"twitch-irc: error:"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --input - somechannel
  assert_failure 2
  refute_output
  [ -n "$stderr" ]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url http://example.invalid/ chan
  assert_failure 2
  refute_output
  [[ "$stderr" == *"--url"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --no-such-option chan
  assert_failure 2
  refute_output
  run --separate-stderr timeout 20 "$BIN/twitch-irc" 'two words'
  assert_failure 2
  refute_output
  [[ "$stderr" == *"not a Twitch login"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" 'a,b'
  assert_failure 2
  refute_output
  TWITCH_TOKEN=abc run --separate-stderr timeout 20 "$BIN/twitch-irc" --nick 'bad nick' chan
  assert_failure 2
  refute_output
  [[ "$stderr" == *"--nick"* ]]
  # A token without the login it belongs to.
  TWITCH_TOKEN=abc run --separate-stderr timeout 20 "$BIN/twitch-irc" chan
  assert_failure 2
  refute_output
  [[ "$stderr" == *"--nick"* ]]
}

@test "--input: every golden file gives its expected events" {
  for txt in "$DATA"/irc/*.txt; do
    local name=${txt%.txt} opts
    opts=$(sed -n '1s/^# options: //p' "$txt")
    # shellcheck disable=SC2086
    grep -v '^# options' "$txt" | timeout 20 "$BIN/twitch-irc" -q --input - $opts \
      > "$BATS_TEST_TMPDIR/got"
    if grep -q '"id":"\*"' "$name.ndjson"; then
      jq -c '.id = "*" | .at = "*"' "$BATS_TEST_TMPDIR/got" > "$BATS_TEST_TMPDIR/got2"
      mv "$BATS_TEST_TMPDIR/got2" "$BATS_TEST_TMPDIR/got"
    fi
    diff -u "$name.ndjson" "$BATS_TEST_TMPDIR/got" || { echo "in $txt"; false; }
  done
}

@test "--input FILE: all 5000 corpus lines parse; --all gives one record per line" {
  gzip -dc "$DATA/irc/irc-channel-5000.txt.gz" > "$BATS_TEST_TMPDIR/corpus.txt"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --input "$BATS_TEST_TMPDIR/corpus.txt" --all
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
  [ "$(echo "$output" | jq -c 'select(.type == "irc")' | wc -l)" -eq 5000 ]
  # The 9 USERNOTICEs are all sub/resub/notice events that pass as schema v1.
  [ "$(echo "$output" | jq -c 'select(.v == 1)' | wc -l)" -ge 9 ]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --input "$BATS_TEST_TMPDIR/corpus.txt"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | wc -l)" -ge 9 ]
  echo "$output" | jq -s -e 'all(.v == 1 and .source == "irc")' >/dev/null
}

@test "--input: bad lines are counted and skipped, the rest still maps" {
  printf '@only=tags\n\n:source-only\nPING :x\n' > "$BATS_TEST_TMPDIR/bad.txt"
  cat "$DATA/irc/raid.txt" >> "$BATS_TEST_TMPDIR/bad.txt"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --input "$BATS_TEST_TMPDIR/bad.txt"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | wc -l)" -eq 2 ]
  [[ "$stderr" == *"line 1: skipped"* ]]
  [[ "$stderr" == *"line 3: skipped"* ]]
  [[ "$stderr" == *"2 of 6 lines skipped"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --input "$BATS_TEST_TMPDIR/no-such-file"
  assert_failure 1
  refute_output
  [[ "$stderr" == *"no-such-file"* ]]
}

@test "--input: a closed stdout ends the command cleanly (exit 0)" {
  gzip -dc "$DATA/irc/irc-channel-5000.txt.gz" > "$BATS_TEST_TMPDIR/corpus.txt"
  run bash -c "timeout 20 '$BIN/twitch-irc' --all --input '$BATS_TEST_TMPDIR/corpus.txt' | head -1 >/dev/null; echo \${PIPESTATUS[0]}"
  [ "$output" = "0" ]
}

@test "--input -: SIGTERM ends a read from a quiet pipe at once, with status 0" {
  local fifo=$BATS_TEST_TMPDIR/fifo
  mkfifo "$fifo"
  timeout --foreground 20 "$BIN/twitch-irc" --input - < "$fifo" > "$BATS_TEST_TMPDIR/out" &
  IRC_PID=$!
  exec 8> "$fifo"  # a writer that stays: two lines, then nothing
  cat "$DATA/irc/raid.txt" >&8
  wait_for_line "$BATS_TEST_TMPDIR/out" '"type":"announcement"' 10
  kill -0 "$IRC_PID"
  ERR=/dev/null stop_irc
  exec 8>&-
  [ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq 2 ]
}

@test "live: login sequence, JOIN, several lines per frame, a split line, PING answered" {
  start_fake events
  start_irc maplecrate
  wait_for_line "$FLOG" '^1! PONG received' 15
  wait_for_line "$OUT" '"type":"cheer"' 5
  stop_irc
  # Client side: the three events, in order, each schema v1.
  run jq -r '.type' "$OUT"
  [ "$output" = $'sub\nraid\ncheer' ]
  jq -e '.message == "Cheer200 Cheer50 good luck on the boss!"' <(sed -n 3p "$OUT")
  # Server side: CAP first, anonymous NICK, no PASS, then the JOIN.
  run grep '^1> ' "$FLOG"
  [[ "${lines[0]}" == "1> CAP REQ :twitch.tv/tags twitch.tv/commands" ]]
  [[ "${lines[1]}" =~ ^1\>\ NICK\ justinfan[0-9]+$ ]]
  [[ "${lines[2]}" == "1> JOIN #maplecrate" ]]
  run ! grep '^1> PASS' "$FLOG"
  run ! grep 'before' "$FLOG"
}

@test "live: a token is sent as PASS before NICK, never shown, and several channels are joined" {
  start_fake events --expect-joins 3
  echo 'oauth:goodtoken' > "$BATS_TEST_TMPDIR/token"
  start_irc --token-file "$BATS_TEST_TMPDIR/token" --nick AlertBot '#MapleCrate' two three
  wait_for_line "$FLOG" '^1! PONG received' 15
  stop_irc
  run grep '^1> ' "$FLOG"
  [[ "${lines[1]}" == "1> PASS oauth:***" ]]
  [[ "${lines[2]}" == "1> NICK alertbot" ]]
  grep -q '^1> JOIN #maplecrate$' "$FLOG"
  grep -q '^1> JOIN #two$' "$FLOG"
  grep -q '^1> JOIN #three$' "$FLOG"
  run ! grep goodtoken "$ERR"
}

@test "live: TLS is verified; without the test CA nothing connects (exit 1 at once, with the reason), --insecure does" {
  start_fake events
  run --separate-stderr timeout --foreground -k 5 10 "$BIN/twitch-irc" --url "$URL" maplecrate
  assert_equal "$status" 1
  assert_equal "$output" ""
  assert_equal "$(grep -v 'libwebsockets: SSL error' <<<"$stderr")" \
    "twitch-irc: error: $URL: the server's certificate is not trusted: unable to get local issuer certificate"
  run grep '> CAP' "$FLOG"
  assert_failure
  ERR=$BATS_TEST_TMPDIR/err.log
  timeout --foreground 20 "$BIN/twitch-irc" --url "$URL" --insecure maplecrate \
    > "$BATS_TEST_TMPDIR/out" 2> "$ERR" &
  IRC_PID=$!
  wait_for_line "$BATS_TEST_TMPDIR/out" '"type":"cheer"' 15
  stop_irc
}

@test "live: RECONNECT: make before break, no gap, a line both connections deliver is written once" {
  start_fake reconnect
  start_irc maplecrate
  wait_for_line "$OUT" 'fedcba96' 15
  wait_for_line "$ERR" 'closing the old connection' 10
  wait_for_line "$FLOG" '^1! closed' 10
  stop_irc
  grep -q '^1! sent RECONNECT' "$FLOG"
  grep -q '^2> JOIN #maplecrate' "$FLOG"
  # The old connection stayed open until the new one had joined.
  [ "$(grep -n '^2! all joined' "$FLOG" | cut -d: -f1)" -lt "$(grep -n '^1! closed' "$FLOG" | cut -d: -f1)" ]
  # Raid 5 came over both connections and is written once; raid 6 came after it.
  grep -q '^1! sent raid 5' "$FLOG"
  run jq -r '.type + " " + .id[-2:]' "$OUT"
  [ "$output" = $'raid 95\nraid 96' ]
  grep -q 'asked to reconnect' "$ERR"
}

@test "live: RECONNECT and the old connection cut at once: a gap, then events go on" {
  start_fake reconnect-close
  start_irc maplecrate
  wait_for_line "$OUT" '"type":"raid"' 15
  stop_irc
  grep -q '^2> JOIN #maplecrate' "$FLOG"
  run jq -r '.type' "$OUT"
  [ "$output" = $'gap\nraid' ]
  jq -s -e '.[0] | .type == "gap" and .channel.login == "maplecrate" and .from <= .to' "$OUT"
}

@test "live: an abrupt drop: backoff, reconnect, re-JOIN and a gap event" {
  start_fake drop
  start_irc maplecrate
  wait_for_line "$OUT" '"type":"raid"' 15
  stop_irc
  grep -q '^1! dropping' "$FLOG"
  grep -q '^2> JOIN #maplecrate' "$FLOG"
  grep -qE 'reconnecting in [0-9]+ ms' "$ERR"
  run jq -r '.type' "$OUT"
  [ "$output" = $'gap\nraid' ]
  jq -s -e '.[0] | .type == "gap" and .v == 1 and (.from | test("Z$")) and .from <= .to' "$OUT"
}

@test "live: no PONG to our PING means a dead link: reconnect" {
  start_fake silent
  start_irc --ping-interval 1 --pong-timeout 1 maplecrate
  wait_for_line "$OUT" '"type":"raid"' 15
  stop_irc
  grep -q '^1> PING' "$FLOG"
  grep -q '^1! PING ignored' "$FLOG"
  grep -q '^2> JOIN #maplecrate' "$FLOG"
  grep -q 'no PONG within 1 s' "$ERR"
  run jq -r '.type' "$OUT"
  [ "$output" = $'gap\nraid' ]
}

@test "live: the same link with PONGs stays up" {
  start_fake events
  start_irc --ping-interval 1 --pong-timeout 1 maplecrate
  local n=200
  while [ "$(cat "$FLOG" 2>/dev/null | grep -c '^1> PING')" -lt 3 ] && [ $n -gt 0 ]; do
    sleep 0.05
    n=$((n - 1))
  done
  stop_irc
  [ "$(grep -c '^1> PING' "$FLOG")" -ge 3 ]
  run ! grep '^2!' "$FLOG"
  run ! grep 'no PONG' "$ERR"
}

@test "live: a rejected token ends with exit 3 and no reconnect loop" {
  start_fake events
  echo 'oauth:badtoken' > "$BATS_TEST_TMPDIR/token"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url "$URL" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --token-file "$BATS_TEST_TMPDIR/token" --nick bot chan
  [ "$status" -eq 3 ]
  [ -z "$output" ]
  [[ "$stderr" == *"Login authentication failed"* ]]
  sleep 1.5
  run ! grep '^2!' "$FLOG"
  grep -q '^1! bad token' "$FLOG"
}

@test "live: 'Improperly formatted auth' also ends with exit 3 at once" {
  start_fake events --auth-failure 'Improperly formatted auth'
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url "$URL" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" chan
  [ "$status" -eq 3 ]
  [ -z "$output" ]
  [[ "$stderr" == *"Improperly formatted auth"* ]]
  sleep 1.5
  run ! grep '^2!' "$FLOG"
}

@test "live: a refused channel is reported and the others go on; all refused is exit 1" {
  start_fake events --expect-joins 1 --refuse gone
  start_irc gone maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 15
  stop_irc
  grep -q '#gone: refused: This channel has been suspended' "$ERR"
  grep -q 'joined #maplecrate' "$ERR"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url "$URL" \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" gone
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [[ "$stderr" == *"every channel was refused"* ]]
}

@test "live: a JOIN that Twitch never answers is reported after 10 s, the rest goes on" {
  start_fake events --ignore nosuchchannel
  start_irc nosuchchannel maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 10
  run ! grep 'no answer to JOIN' "$ERR"
  wait_for_line "$ERR" 'nosuchchannel: no answer to JOIN after 10 s' 15
  stop_irc
  run ! grep 'maplecrate: no answer' "$ERR"
}

@test "live: a closed stdout ends the command cleanly (exit 0)" {
  start_fake flood
  run bash -c "timeout 20 '$BIN/twitch-irc' --url '$URL' --cacert '$BATS_FILE_TMPDIR/ca.pem' maplecrate 2>/dev/null | head -1 >/dev/null; echo \${PIPESTATUS[0]}"
  [ "$output" = "0" ]
}

@test "live: a stalled reader of stdout: Twitch's PINGs answered, no reconnect, no gap, no loss" {
  start_fake stall --events 1000 --pong-deadline 1.5
  start_stalled_irc -v --ping-interval 1 --pong-timeout 2 maplecrate
  wait_for_line "$FLOG" '^1! sent all' 15
  # Three of our PINGs answered since: longer than --pong-timeout, the reader still stalled.
  wait_until 15 eval '[ "$(pings_after "^1! sent all")" -ge 3 ]'
  # The stall was real: nothing has reached the reader, far more than a pipe buffer is waiting.
  [ ! -s "$OUT" ]
  [ "$(received_raids)" -eq 1000 ]
  # Meanwhile the link was serviced both ways: Twitch's PINGs answered, ours answered too.
  local during
  during=$(sed -n '/^1! stall begins/,/^1! sent all/p' "$FLOG")
  [ "$(echo "$during" | grep -c '^1! sent PING')" -eq 10 ]
  [ "$(echo "$during" | grep -c '^1! PONG received')" -ge 8 ]
  run ! grep 'no PONG to PING' "$FLOG"
  [ "$(echo "$during" | grep -c '^1> PING')" -ge 2 ]
  resume_reader
  local n=200
  while [ "$(wc -l < "$OUT")" -lt 1000 ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  stop_irc
  expect_raids 1000
  run ! grep '^2!' "$FLOG"
  run ! grep -E 'no PONG|reconnecting|paused' "$ERR"
}

@test "live: over a tiny --max-buffer, reading from Twitch pauses; the events are late, not lost" {
  start_fake stall --events 1000
  start_stalled_irc -v --max-buffer 4096 --ping-interval 1 --pong-timeout 2 maplecrate
  wait_for_line "$ERR" 'reading paused' 15
  wait_for_line "$FLOG" '^1! sent all' 15
  # Six of Twitch's PINGs, 0.4 s apart, unanswered: paused for longer than --pong-timeout.
  wait_until 15 eval '[ "$(unanswered_pings)" -ge 6 ]'
  # Stopped reading: a pipe buffer and a little more was read, the rest waits at the server.
  [ ! -s "$OUT" ]
  local read_during
  read_during=$(received_raids)
  [ "$read_during" -lt 500 ] || { echo "read $read_during of 1000 while paused"; false; }
  run ! grep 'no PONG' "$ERR"
  resume_reader
  wait_for_line "$ERR" 'reading resumed' 10
  local n=300
  while [ "$(wc -l < "$OUT")" -lt 1000 ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  stop_irc
  expect_raids 1000
  [ "$(received_raids)" -eq 1000 ]
  run ! grep '^2!' "$FLOG"
  run ! grep -E 'no PONG|reconnecting' "$ERR"
}

@test "live: SIGTERM with a backlog for a stalled reader: Twitch closed, the backlog written, exit 0" {
  start_fake stall --events 1000
  start_stalled_irc -v maplecrate
  wait_for_line "$FLOG" '^1! sent all' 15
  local n=100
  while [ "$(received_raids)" -lt 1000 ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  [ "$(received_raids)" -eq 1000 ]
  kill -TERM "$IRC_PID"
  # It waits for the reader, having left Twitch.
  wait_for_line "$FLOG" '^1! closed' 5
  wait_for_line "$ERR" 'writing the [0-9]* bytes left' 5
  kill -0 "$IRC_PID"
  [ ! -s "$OUT" ]
  resume_reader
  local status=0
  wait "$IRC_PID" || status=$?
  IRC_PID=
  [ "$status" -eq 0 ] || { echo "exit status $status"; cat "$ERR"; false; }
  wait "$READER_PID" || true
  READER_PID=
  expect_raids 1000
  grep -q 'writing the [0-9]* bytes left' "$ERR"
}

@test "live: a reader that goes away while nothing is written ends the command at once (exit 0)" {
  start_fake events
  start_stalled_irc maplecrate
  wait_for_line "$FLOG" '^1! PONG received' 15
  kill "$READER_PID"
  READER_PID=
  wait_pid "$IRC_PID" 5
  local status=0
  wait "$IRC_PID" || status=$?
  IRC_PID=
  [ "$status" -eq 0 ]
}

@test "live: stdout is non-blocking while connected, and its flags are put back at exit" {
  start_fake events
  local check='import fcntl, os; print("nonblocking" if fcntl.fcntl(1, fcntl.F_GETFL) & os.O_NONBLOCK else "blocking")'
  OUT=$BATS_TEST_TMPDIR/out
  {
    timeout --foreground 20 "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
      maplecrate 2> "$BATS_TEST_TMPDIR/err" &
    pid=$!
    wait_for_line "$FLOG" '^1! PONG received' 15
    "$PY" -c "$check"  # shares the pipe's file description with twitch-irc
    kill -TERM "$pid"
    status=0
    wait "$pid" || status=$?
    echo "status $status"
    "$PY" -c "$check"
  } | timeout 20 cat > "$OUT"
  run jq -R -r 'fromjson? // . | if type == "object" then .type else . end' "$OUT"
  [ "$output" = $'sub\nraid\ncheer\nnonblocking\nstatus 0\nblocking' ]
}

@test "live: a pause that falls inside a WebSocket message longer than 64 KiB waits for its end" {
  # Messages of 400 raids (about 240 KiB) each: lws must not be flow-controlled mid-message.
  start_fake stall --events 2000 --frame-lines 400 --frame-gap 0.1
  start_stalled_irc -v --max-buffer 4096 maplecrate
  wait_for_line "$ERR" 'reading paused' 15
  # Twitch sent everything, and some of it waits unread: reading has stopped.
  wait_for_line "$FLOG" '^1! sent all' 15
  wait_until 10 eval '[ "$(unread_bytes)" -gt 0 ]'
  [ ! -s "$OUT" ]
  local read_during
  read_during=$(received_raids)
  [ $((read_during % 400)) -eq 0 ] || { echo "paused after $read_during raids"; false; }
  [ "$read_during" -lt 2000 ]
  resume_reader
  local n=300
  while [ "$(wc -l < "$OUT")" -lt 2000 ] && [ $n -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
  stop_irc
  expect_raids 2000
  grep -q 'reading resumed' "$ERR"
}

@test "live: a storm of RECONNECTs is followed with backoff after a few" {
  start_fake reconnect-storm
  start_irc maplecrate
  wait_for_line "$ERR" 'reconnect requests within 60 s: following this one in [0-9]+ ms' 15
  sleep 2  # the time in which an unchecked client would connect again and again
  run grep -c '! connected' "$FLOG"
  (( output <= 6 )) || { echo "$output connections"; false; }
  stop_irc
}

@test "live: a server's text reaches stderr with its control characters escaped" {
  start_fake notice-escape
  start_irc maplecrate
  wait_for_line "$FLOG" '^1! sent NOTICE' 15
  wait_for_line "$ERR" 'notice #maplecrate' 5
  stop_irc
  run grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$ERR"
  assert_output 0
  run grep -F 'notice #maplecrate: \e[2J\e]0;owned\x07 look \u009b31m here pwn' "$ERR"
  assert_success
}

@test "--url: its query is never shown, in a usage error or in the log" {
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url 'wss://127.0.0.1:99999/?token=s3cret' chan
  assert_equal "$status" 2
  [[ "$stderr" == *"?..."* ]]
  [[ "$stderr" != *s3cret* ]]
  start_fake events
  local plain=$URL
  URL="$URL/?token=s3cret"
  start_irc -v maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 15
  stop_irc
  run grep -c s3cret "$ERR"
  assert_output 0
  run grep -F "connected to $plain/?..." "$ERR"
  assert_success
}
