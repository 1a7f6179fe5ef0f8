#!/usr/bin/env bats
# twitch-irc: offline --input against the golden files, usage errors, and the live client against
# a fake Twitch IRC server (tests/fakes/twitch_irc.py, TLS with a CA made here): login sequence,
# JOINs, several lines per frame, a line split across frames, PING/PONG both ways, RECONNECT, an
# abrupt drop, a dead link, a bad token, refused channels, a closed stdout, a stalled reader of
# stdout (Twitch still serviced, events queued and written in order once the reader resumes), and
# several connections (--channels-per-connection: the limit, the shared JOIN rate, one dropped).

load helpers
load token-helpers
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
  kill_ours ${READER_PID:-} ${IRC_PID:-} ${FAKE_PID:-} ${ID_PID:-}
}

# start_fake SCENARIO [fake args...]: starts the fake; sets FAKE_PID, PORT, URL, FLOG.
start_fake() {
  local scenario=$1
  shift
  FLOG=$BATS_TEST_TMPDIR/fake.log
  : >"$BATS_TEST_TMPDIR/fake.out"
  timeout "${FAKE_TIMEOUT:-30}" "$PY" "$FAKES/twitch_irc.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
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
  timeout --foreground "${IRC_TIMEOUT:-20}" "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" \
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
  # One connection at a time: its log lines name none.
  run grep -E '^twitch-irc: info: connected to wss://127.0.0.1:[0-9]+$' "$ERR"
  assert_success
  run grep -c 'connection [0-9]/' "$ERR"
  assert_output 0
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

# check_storm: from the fake's log (monotonic ms) and twitch-irc's warnings: the first three
# RECONNECTs were followed at once (the first warning is the fourth's); the fourth and the fifth
# only after the delay announced, which grew; no connection came unasked (each after the
# previous one's RECONNECT, one at most per RECONNECT).
check_storm() {
  "$PY" - "$FLOG" "$ERR" <<'PYEOF'
import re, sys
flog, err = open(sys.argv[1]).read(), open(sys.argv[2]).read()
conn = {int(n): int(t) for n, t in re.findall(r"^(\d+)! connected at (\d+)$", flog, re.M)}
sent = {int(n): int(t) for n, t in re.findall(r"^(\d+)! sent RECONNECT at (\d+)$", flog, re.M)}
warn = [(int(k), int(d)) for k, d in re.findall(
    r"(\d+) reconnect requests within 60 s: following this one in (\d+) ms", err)]
assert warn[0][0] == 4, warn
delay = dict(warn)
for k in (4, 5):
    assert conn[k + 1] - sent[k] >= delay[k], (k, conn[k + 1] - sent[k], delay[k])
assert delay[5] > delay[4], delay
assert len(conn) <= len(sent) + 1, (len(conn), len(sent))
assert all(conn[n] > sent[n - 1] for n in conn if n > 1), (conn, sent)
print(len(conn), "connections; waits", delay[4], delay[5], "ms")
PYEOF
}

@test "live: a storm of RECONNECTs is followed with backoff after a few" {
  # Bounds for a loaded machine: six connections, two of them after a wait of seconds.
  FAKE_TIMEOUT=150 start_fake reconnect-storm
  IRC_TIMEOUT=120 start_irc maplecrate
  wait_for_line "$ERR" '5 reconnect requests within 60 s: following this one in [0-9]+ ms' 90
  wait_for_line "$FLOG" '^6! connected at ' 60
  stop_irc
  run check_storm
  assert_success
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

# run_irc_direct OUT ERR [args...]: twitch-irc in the background with no timeout(1) in between, so
# that IRC_PID is twitch-irc itself (for kill -9); teardown kills it.
run_irc_direct() {
  local out=$1 err=$2
  shift 2
  "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" "$@" > "$out" 2> "$err" 3>&- 7>&- &
  IRC_PID=$!
}

raids_in() { grep -c '"type":"raid"' "$1" || true; }
raids_at_least() { [ "$(raids_in "$1")" -ge "$2" ]; }

@test "--state-file: killed with -9 mid-stream and restarted, a gap covers the time it was down" {
  start_fake stream --frame-gap 0.05
  local state=$BATS_TEST_TMPDIR/irc.state out1=$BATS_TEST_TMPDIR/out1 out2=$BATS_TEST_TMPDIR/out2
  run_irc_direct "$out1" "$BATS_TEST_TMPDIR/err1" --state-file "$state" maplecrate
  wait_until 15 raids_at_least "$out1" 40
  run jq -e '.v == 1 and (.channels.maplecrate | test("Z$"))' "$state"
  assert_success
  local killed
  killed=$(date +%s%3N)
  kill -9 "$IRC_PID"
  wait "$IRC_PID" || true
  IRC_PID=
  sleep 1  # the time it is down
  local restarted
  restarted=$(date +%s%3N)
  OUT=$out2 ERR=$BATS_TEST_TMPDIR/err2
  run_irc_direct "$OUT" "$ERR" --state-file "$state" maplecrate
  wait_until 15 raids_at_least "$out2" 10
  stop_irc
  run jq -r .type "$out2"
  assert_line --index 0 gap
  run grep -c '"type":"gap"' "$out2"
  assert_output 1
  # Bounds: the gap starts at most ~1 s (the write rate) before the last event written before the
  # kill and no later than the kill; it ends after the restart; every event the fake sent
  # outside it was written, once.
  run "$PY" - "$out1" "$out2" "$FLOG" "$killed" "$restarted" <<'PYEOF'
import json, re, sys
from datetime import datetime
def ms(t): return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
out1 = [json.loads(l) for l in open(sys.argv[1])]
out2 = [json.loads(l) for l in open(sys.argv[2])]
killed, restarted = int(sys.argv[4]), int(sys.argv[5])
gap = out2[0]
assert gap["type"] == "gap" and gap["channel"]["login"] == "maplecrate", gap
frm, to = ms(gap["from"]), ms(gap["to"])
last1 = max(ms(e["at"]) for e in out1 if e["type"] == "raid")
assert last1 - 1200 <= frm <= killed, (last1, frm, killed)
assert to >= restarted, (to, restarted)
ids1 = [e["id"] for e in out1 if e["type"] == "raid"]
ids2 = [e["id"] for e in out2[1:]]
assert len(set(ids1)) == len(ids1) and len(set(ids2)) == len(ids2)
last2 = max(ms(e["at"]) for e in out2[1:])
sent = [(int(k), int(t)) for k, t in re.findall(r"sent raid (\d+) at (\d+)", open(sys.argv[3]).read())]
for k, t in sent:
    rid = "fe12dc34-ba56-4987-8654-3210fedcba9%05d" % k
    if t < frm:
        assert rid in ids1, ("lost before the gap", k, t)
    elif to < t <= last2:
        assert rid in ids2, ("lost after the gap", k, t)
print("gap", to - frm, "ms; down", restarted - killed, "ms")
PYEOF
  assert_success
}

@test "--state-file: a file that is not one ends with exit 1 before connecting; channels not given are dropped" {
  local state=$BATS_TEST_TMPDIR/irc.state
  echo 'not json' > "$state"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url wss://127.0.0.1:9 --state-file "$state" chan
  assert_failure 1
  [[ "$stderr" == *"twitch-irc: error: --state-file: $state: not a state file"* ]]
  start_fake events
  echo '{"v":1,"channels":{"maplecrate":"2026-01-01T00:00:00.000Z","gone":"2026-01-01T00:00:00.000Z"}}' > "$state"
  start_irc --state-file "$state" maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 15
  stop_irc
  run jq -r -s '.[0] | .type + " " + .from' "$OUT"
  assert_output 'gap 2026-01-01T00:00:00.000Z'
  run jq -r '.channels | keys | join(",")' "$state"
  assert_output maplecrate
}

# The token option group against the fake id.twitch.tv (tests/fakes/twitch_id.py, same CA).
CID=cid0123456789

# start_id [args...]: the fake id.twitch.tv; sets ID_PID, AUTH, IDLOG, SECRETS (every secret it
# knows or hands out), and a token store in the test's own XDG_CONFIG_HOME (STORE).
start_id() {
  IDLOG=$BATS_TEST_TMPDIR/id.log
  SECRETS=$BATS_TEST_TMPDIR/secrets
  export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
  STORE=$XDG_CONFIG_HOME/twitch-servitor
  : >"$BATS_TEST_TMPDIR/id.out"
  timeout 60 "$PY" "$FAKES/twitch_id.py" --cert "$BATS_FILE_TMPDIR/server.pem" \
    --key "$BATS_FILE_TMPDIR/server.key" --log "$IDLOG" --secrets "$SECRETS" \
    --client-id "$CID" "$@" > "$BATS_TEST_TMPDIR/id.out" 2>&1 &
  ID_PID=$!
  local port
  port=$(listen_port "$BATS_TEST_TMPDIR/id.out")
  [ -n "$port" ]
  AUTH=https://127.0.0.1:$port/oauth2
}

token_sha() { printf %s "$1" | sha256sum | cut -c1-12; }

validations_at_least() { [ "$(grep -c 'GET /oauth2/validate -> 200' "$IDLOG")" -ge "$1" ]; }

@test "--login: the stored token, validated at start; the nick is its login; no token in any log" {
  start_id --access-token seedirc0001
  seed streamer seedirc0001 refirc0001 14400
  start_fake events --good-token seedirc0001
  start_irc -v --login streamer --auth-url "$AUTH" maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 15
  stop_irc
  run grep '^1> NICK' "$FLOG"
  assert_output '1> NICK streamer'
  run grep -c 'GET /oauth2/validate -> 200' "$IDLOG"
  assert_output 1
  run grep -c "^1! token sha256 $(token_sha seedirc0001)\$" "$FLOG"
  assert_output 1
  no_secret_in "$ERR" "$OUT" "$FLOG" "$IDLOG"
}

@test "--login with another --nick is a usage error; a bare token still needs --nick" {
  start_id --access-token seedirc0007
  seed streamer seedirc0007 refirc0007 14400
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url wss://127.0.0.1:9 \
    --cacert "$BATS_FILE_TMPDIR/ca.pem" --auth-url "$AUTH" --login streamer --nick someoneelse chan
  assert_failure 2
  [[ "$stderr" == *"--nick someoneelse: the token is streamer's"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --login streamer --token-file /dev/null chan
  assert_failure 2
  echo "$output$stderr" > "$BATS_TEST_TMPDIR/run.log"
  no_secret_in "$BATS_TEST_TMPDIR/run.log"
}

@test "--login: a refresh during the run is used from the next connection on" {
  start_id --access-token seedirc0002 --refresh-token refirc0002
  # Expiring in 307 s: not refreshed at start (300 s ahead) even when a loaded machine takes
  # seconds to start it, but on the loop some 7 s after the seed, before the drop.
  seed streamer seedirc0002 refirc0002 307
  start_fake drop --drop-after 9 --good-token seedirc0002 --good-token-prefix acc
  start_irc --login streamer --auth-url "$AUTH" maplecrate
  wait_for_line "$OUT" '"type":"raid"' 20
  stop_irc
  local new
  new=$(jq -r .access_token "$STORE/streamer.json")
  [ "$new" != seedirc0002 ]
  run grep -c 'refresh_token -> 200' "$IDLOG"
  assert_output 1
  run grep '^1! token' "$FLOG"
  assert_output "1! token sha256 $(token_sha seedirc0002)"
  run grep '^2! token' "$FLOG"
  assert_output "2! token sha256 $(token_sha "$new")"
  no_secret_in "$ERR" "$OUT" "$FLOG" "$IDLOG"
}

@test "--login: a refresh that Twitch refuses during the run ends with exit 3" {
  start_id --access-token seedirc0003
  seed streamer seedirc0003 refirc0003 302
  start_fake events --good-token seedirc0003
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    --login streamer --auth-url "$AUTH" maplecrate
  assert_failure 3
  [[ "$stderr" == *"Twitch refused the refresh token"*"run twitch-auth login"* ]]
  echo "$output$stderr" > "$BATS_TEST_TMPDIR/run.log"
  no_secret_in "$BATS_TEST_TMPDIR/run.log" "$FLOG" "$IDLOG"
}

@test "--login: a login Twitch refuses gets one refresh; refused again, exit 3" {
  start_id --access-token seedirc0004 --refresh-token refirc0004
  seed streamer seedirc0004 refirc0004 14400
  start_fake events --good-token-prefix acc
  start_irc --login streamer --auth-url "$AUTH" maplecrate
  wait_for_line "$OUT" '"type":"cheer"' 15
  stop_irc
  run grep -c '! bad token' "$FLOG"
  assert_output 1
  run grep -c 'refresh_token -> 200' "$IDLOG"
  assert_output 1
  kill "$FAKE_PID"
  : > "$FLOG"
  start_fake events --good-token nothingvalid
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url "$URL" --cacert "$BATS_FILE_TMPDIR/ca.pem" \
    --login streamer --auth-url "$AUTH" maplecrate
  assert_failure 3
  [[ "$stderr" == *"Login authentication failed"* ]]
  run grep -c '! bad token' "$FLOG"
  assert_output 2
  run grep -c 'refresh_token -> 200' "$IDLOG"
  assert_output 2
  echo "$output$stderr" > "$BATS_TEST_TMPDIR/run.log"
  no_secret_in "$BATS_TEST_TMPDIR/run.log" "$ERR" "$FLOG" "$IDLOG"
}

@test "--login: validated again on the loop every TWITCH_VALIDATE_EVERY seconds (hourly by default)" {
  start_id --access-token seedirc0006
  seed streamer seedirc0006 refirc0006 14400
  start_fake events --good-token seedirc0006
  export TWITCH_VALIDATE_EVERY=1
  start_irc --login streamer --auth-url "$AUTH" maplecrate
  unset TWITCH_VALIDATE_EVERY
  wait_until 10 validations_at_least 4
  run grep -c '^1! connected' "$FLOG"
  assert_output 1
  stop_irc
  no_secret_in "$ERR" "$OUT" "$FLOG" "$IDLOG"
}

joins_in_flog() { [ "$(grep -c "^1> JOIN #" "$FLOG")" -ge "$1" ]; }

@test "--channels-file: comments allowed; SIGHUP joins what was added and parts what was dropped, on the same connection" {
  local list=$BATS_TEST_TMPDIR/channels
  printf '# the channels\nMapleCrate\n#two   # a comment\n\nthree\n' > "$list"
  start_fake events --expect-joins 4
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" --channels-file "$list" fixed
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_for_line "$FLOG" '^1! all joined' 15
  printf 'maplecrate\nfour\nthree\nfive\n' > "$list"
  kill -HUP "$IRC_PID"
  wait_until 10 joins_in_flog 6
  wait_for_line "$FLOG" '^1> PART #two$' 5
  printf 'bad line here\n' > "$list"
  kill -HUP "$IRC_PID"
  wait_for_line "$ERR" 'SIGHUP: --channels-file: .*:1: one channel a line' 5
  stop_irc
  run grep -E '^1> (JOIN|PART) ' "$FLOG"
  assert_output "$(printf '1> JOIN #fixed\n1> JOIN #maplecrate\n1> JOIN #two\n1> JOIN #three\n1> PART #two\n1> JOIN #four\n1> JOIN #five')"
  run grep -c '! connected' "$FLOG"
  assert_output 1
}

@test "--channels-file: a bad line is a usage error at start, with its line number" {
  printf 'fine\nnot a login\n' > "$BATS_TEST_TMPDIR/channels"
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --channels-file "$BATS_TEST_TMPDIR/channels"
  assert_failure 2
  [[ "$stderr" == *"--channels-file: $BATS_TEST_TMPDIR/channels:2: one channel a line"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --channels-file /nonexistent/channels
  assert_failure 2
  [[ "$stderr" == *"/nonexistent/channels: cannot be read"* ]]
}

@test "--channels-file: 25 channels are joined within Twitch's rate (the fake drops JOINs over 20 in 10 s)" {
  local list=$BATS_TEST_TMPDIR/channels
  seq -f 'chan%g' 1 25 > "$list"
  start_fake events --expect-joins 25
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" -v --channels-file "$list"
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_until 15 joins_in_flog 21
  wait_for_line "$ERR" 'join rate limit: next JOIN in' 1
  stop_irc
  run grep -c 'JOIN rate exceeded' "$FLOG"
  assert_output 0
}

# Several connections (--channels-per-connection): the fake numbers them in the order they come.
joins_logged() { [ "$(cat "$FLOG" 2>/dev/null | grep -cE '^[0-9]+! JOIN #')" -ge "$1" ]; }
# conn_of CHANNEL: the connection that sent the (first) JOIN of CHANNEL.
conn_of() { grep -m1 -E "^[0-9]+> JOIN #$1\$" "$FLOG" | cut -d'>' -f1; }
# joins_on N: the channels that connection N joined, sorted, on one line.
joins_on() { grep -E "^$1> JOIN #" "$FLOG" | sed 's/.*#//' | sort | tr '\n' ' '; }

@test "connections: at most --channels-per-connection each; a SIGHUP that adds channels moves none and opens no connection while one has room" {
  local list=$BATS_TEST_TMPDIR/channels
  seq -f 'chan%g' 1 10 > "$list"
  start_fake events --expect-joins 1000 --max-per-connection 4
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" --channels-per-connection 4 \
    --channels-file "$list"
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_until 15 joins_logged 10
  run grep -c '! connected' "$FLOG"
  assert_output 3
  local a b c
  a=$(conn_of chan1) b=$(conn_of chan5) c=$(conn_of chan9)
  run joins_on "$a"
  assert_output 'chan1 chan2 chan3 chan4 '
  run joins_on "$b"
  assert_output 'chan5 chan6 chan7 chan8 '
  run joins_on "$c"
  assert_output 'chan10 chan9 '
  # chan2 and chan6 go, four come: two take their places, two go where there is room.
  { echo new1; seq -f 'chan%g' 1 10 | grep -vxE 'chan2|chan6'; printf 'new2\nnew3\nnew4\n'; } > "$list"
  kill -HUP "$IRC_PID"
  wait_until 10 joins_logged 14
  wait_for_line "$FLOG" "^$b> PART #chan6\$" 5
  wait_for_line "$ERR" 'read again: 4 to join, 2 left, 12 channels on 3 connections' 5
  stop_irc
  run grep -c '! connected' "$FLOG"
  assert_output 3
  assert_equal "$(grep -E '> PART ' "$FLOG" | sort)" "$(printf '%s> PART #chan2\n%s> PART #chan6\n' "$a" "$b" | sort)"
  run joins_on "$a"
  assert_output 'chan1 chan2 chan3 chan4 new1 '
  run joins_on "$b"
  assert_output 'chan5 chan6 chan7 chan8 new2 '
  run joins_on "$c"
  assert_output 'chan10 chan9 new3 new4 '
  run grep -E 'over [0-9]+ channels|JOIN rate exceeded' "$FLOG"
  assert_failure
}

@test "connections: more channels than --max-connections hold is a usage error; on SIGHUP a warning" {
  run --separate-stderr timeout 20 "$BIN/twitch-irc" --url wss://127.0.0.1:9 \
    --channels-per-connection 2 --max-connections 2 a b c d e
  assert_failure 2
  refute_output
  [[ "$stderr" == *"twitch-irc: error: 5 channels: more than 2 connections of 2 hold"* ]]
  local list=$BATS_TEST_TMPDIR/channels
  printf 'a\nb\n' > "$list"
  start_fake events --expect-joins 1000
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" --channels-per-connection 1 \
    --max-connections 2 --channels-file "$list"
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_until 15 joins_logged 2
  printf 'a\nb\nc\n' > "$list"
  kill -HUP "$IRC_PID"
  wait_for_line "$ERR" 'SIGHUP: --channels-file: the channels stay as they were: 3 channels' 5
  stop_irc
  run grep -c '! connected' "$FLOG"
  assert_output 2
  run grep -c '> JOIN #' "$FLOG"
  assert_output 2
}

# max_joins_in_10s: the most JOINs (over every connection) that the fake saw in any 10 s.
max_joins_in_10s() {
  grep -oE '^[0-9]+! JOIN #[a-z0-9_]+ at [0-9]+' "$FLOG" | awk '{print $NF}' | sort -n |
    awk '{t[NR] = $1} END {m = 0; j = 1; for (i = 1; i <= NR; i++) { while (t[i] - t[j] >= 10000) j++; if (i - j + 1 > m) m = i - j + 1 } print m}'
}

@test "connections: the JOIN rate is Twitch's per user, shared by every connection (the fake drops JOINs over 20 in 10 s of one nick)" {
  local list=$BATS_TEST_TMPDIR/channels
  seq -f 'chan%g' 1 25 > "$list"
  start_fake events --expect-joins 1000
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" -v --channels-per-connection 10 \
    --channels-file "$list"
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_until 25 joins_logged 25
  stop_irc
  run grep -c '! connected' "$FLOG"
  assert_output 3
  grep -q 'join rate limit: next JOIN in' "$ERR"
  run grep -c 'JOIN rate exceeded' "$FLOG"
  assert_output 0
  run max_joins_in_10s
  assert_output 20
  # The third connection holds the last five channels.
  local c
  c=$(conn_of chan21)
  run grep -cE "^$c> JOIN #" "$FLOG"
  assert_output 5
}

all_streams_done() { [ "$(cat "$FLOG" 2>/dev/null | grep -c '! sent all #')" -ge "$1" ]; }
# last_raid_written: the raid the fake sent last is on stdout.
last_raid_written() {
  local k
  k=$(grep -oE '! sent raid [0-9]+' "$FLOG" | awk '{print $4}' | sort -n | tail -1)
  grep -q "fedcba9$(printf %05d "$k")\"" "$OUT"
}

# check_shards cut|reconnect: after the shards scenario over 3 connections of 2 channels, one of
# which went (cut, or after RECONNECT): a fourth connection took over its two channels, the other
# two joined once each; raids of every other connection written, none twice; a cut leaves a gap
# for the two channels of its connection alone, while the others' raids went on; a RECONNECT none.
check_shards() {
  "$PY" - "$OUT" "$FLOG" "$1" <<'PYEOF'
import json, re, sys
from datetime import datetime
def ms(t): return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
out = [json.loads(l) for l in open(sys.argv[1])]
flog, mode = open(sys.argv[2]).read(), sys.argv[3]
gone = int(re.search(r"^(\d+)! (dropping the connection|sent RECONNECT)", flog, re.M).group(1))
joins = {}
for n, chan in re.findall(r"^(\d+)> JOIN #(\w+)$", flog, re.M):
    joins.setdefault(int(n), []).append(chan)
sent = [(int(n), int(k), c, int(t))
        for n, k, c, t in re.findall(r"^(\d+)! sent raid (\d+) #(\w+) at (\d+)$", flog, re.M)]
assert "c3" in joins[gone] and len(joins[gone]) == 2, joins
successor = [n for n, c in joins.items() if n != gone and sorted(c) == sorted(joins[gone])]
assert len(successor) == 1, joins
undisturbed = [n for n in joins if n not in (gone, successor[0])]
assert len(undisturbed) == 2 and all(len(joins[n]) == 2 for n in undisturbed), joins
ids = [e["id"] for e in out if e["type"] == "raid"]
assert len(ids) == len(set(ids)), "a raid written twice"
rid = "fe12dc34-ba56-4987-8654-3210fedcba9%05d"
lost = [k for n, k, c, t in sent if n != gone and rid % k not in set(ids)]
assert not lost, ("lost", lost)
gaps = [e for e in out if e["type"] == "gap"]
if mode == "reconnect":
    assert not gaps, gaps
    print(len(ids), "raids, no gap")
    sys.exit(0)
assert sorted(g["channel"]["login"] for g in gaps) == sorted(joins[gone]), gaps
frm, to = min(ms(g["from"]) for g in gaps), max(ms(g["to"]) for g in gaps)
during = [k for n, k, c, t in sent if n in undisturbed and frm < t < to]
assert len(during) >= 4, ("nothing came during the gap", frm, to)
print(len(ids), "raids,", len(during), "during the gap of", to - frm, "ms")
PYEOF
}

# shards_run cut|reconnect: the shards scenario, 6 channels on 3 connections, c3's connection cut
# or sent RECONNECT after 1 s; waits for every stream's end and its last raid on stdout, stops
# twitch-irc, and checks that one connection more came (for c3's connection alone).
shards_run() {
  start_fake shards --events 40 --frame-gap 0.1 --drop-channel c3 --drop-after 1 --drop-with "$1"
  run_irc_direct "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" --channels-per-connection 2 \
    c1 c2 c3 c4 c5 c6
  OUT=$BATS_TEST_TMPDIR/out ERR=$BATS_TEST_TMPDIR/err
  wait_for_line "$FLOG" '! (dropping the connection|sent RECONNECT)' 15
  wait_until 20 all_streams_done 6
  wait_until 10 last_raid_written
  stop_irc
  run grep -c '! connected' "$FLOG"
  assert_output 4
}

@test "connections: one dropped: only its channels get a gap; the others' events go on meanwhile, none lost or doubled" {
  shards_run cut
  run check_shards cut
  assert_success
  # Each log line about a connection names it (c3 is on the second of three).
  run grep -cE '^twitch-irc: info: connection [123]/3: connected to wss://127.0.0.1:[0-9]+$' "$ERR"
  assert_output 4
  run grep -cE '^twitch-irc: info: connection 2/3: connected to ' "$ERR"
  assert_output 2
  run grep -E '^twitch-irc: warning: connection 2/3: wss://127.0.0.1:[0-9]+: connection lost: ' "$ERR"
  assert_success
  run grep -E '^twitch-irc: warning: connection 2/3: reconnecting in [0-9]+ ms \(attempt 1\)$' "$ERR"
  assert_success
  run grep -E '^twitch-irc: [a-z]+: (connected to|wss://|reconnecting|logged in)' "$ERR"
  assert_failure
}

@test "connections: RECONNECT on one: make before break for its channels alone, no gap, the others untouched" {
  shards_run reconnect
  grep -q 'closing the old connection' "$ERR"
  run check_shards reconnect
  assert_success
  run grep -E '^twitch-irc: info: connection 2/3: wss://127.0.0.1:[0-9]+: the server asked to reconnect$' "$ERR"
  assert_success
  run grep -E '^twitch-irc: info: connection 2/3: every channel joined again: closing the old connection$' "$ERR"
  assert_success
}
