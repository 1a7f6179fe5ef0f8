#!/usr/bin/env bats
# twitch-trigger: sample events for every schema-v1 type, options mapped to keys, --repeat and
# --interval, --random with --seed, a closed pipe, signals, and usage errors.

load helpers
bats_require_minimum_version 1.5.0

TYPES="follow sub resub subgift giftbomb cheer raid redemption hypetrain announcement chat host gap notice"

# Schema-v1 common keys every trigger event carries.
COMMON='.v == 1 and (.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))
  and .source == "trigger" and (.at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"))
  and (.channel.login | type) == "string"'

@test "every type prints valid schema-v1 JSON of that type" {
  for t in $TYPES; do
    run --separate-stderr timeout 20 "$BIN/twitch-trigger" "$t"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    echo "$output" | head -1 | jq -e --arg t "$t" ".type == \$t" >/dev/null
    echo "$output" | jq -e "$COMMON" >/dev/null
  done
}

@test "options map to event keys" {
  run timeout 20 "$BIN/twitch-trigger" resub --user Otterbyte --channel MapleCrate --tier 2 \
    --months 18 --streak 9 --message 'year and a half! Kappa'
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.user == {"id": .user.id, "login": "otterbyte", "name": "Otterbyte"}
    and .channel.login == "maplecrate" and .tier == "2000" and .months == 18 and .streak == 9
    and .message == "year and a half! Kappa" and .gifted == false'

  run timeout 20 "$BIN/twitch-trigger" cheer --bits 250 --message 'Cheer250 go'
  echo "$output" | jq -e '.bits == 250 and .message == "Cheer250 go"'
  run timeout 20 "$BIN/twitch-trigger" raid --viewers 342 --user HarborLights
  echo "$output" | jq -e '.viewers == 342 and .user.login == "harborlights"'
  run timeout 20 "$BIN/twitch-trigger" redemption --reward 'Song request' --cost 1000 --message hi
  echo "$output" | jq -e '.reward.title == "Song request" and .reward.cost == 1000
    and (.reward.id | length) == 36 and .message == "hi"'
  run timeout 20 "$BIN/twitch-trigger" hypetrain --phase progress --level 3 --total 4200 --goal 6000
  echo "$output" | jq -e '.phase == "progress" and .level == 3 and .total == 4200 and .goal == 6000
    and has("user") == false'
  run timeout 20 "$BIN/twitch-trigger" subgift --recipient TinyKettle --tier 3000
  echo "$output" | jq -e '.recipient.login == "tinykettle" and .tier == "3000"'
  run timeout 20 "$BIN/twitch-trigger" host --target harborlights --viewers 57
  echo "$output" | jq -e '.target == {"login": "harborlights"} and .viewers == 57'
  run timeout 20 "$BIN/twitch-trigger" gap --from 2026-03-01T18:04:12Z --to 2026-03-01T18:05:00Z
  echo "$output" | jq -e '.from == "2026-03-01T18:04:12.000Z" and .to == "2026-03-01T18:05:00.000Z"'
  run timeout 20 "$BIN/twitch-trigger" notice --kind viewermilestone
  echo "$output" | jq -e '.kind == "viewermilestone"'
  run timeout 20 "$BIN/twitch-trigger" chat --message 'héllo ✨'
  echo "$output" | jq -e '.message == "héllo ✨"'
}

@test "--anonymous leaves out user and sets anonymous; without it user is there" {
  for t in cheer subgift giftbomb; do
    run timeout 20 "$BIN/twitch-trigger" "$t" --anonymous
    [ "$status" -eq 0 ]
    echo "$output" | jq -e 'has("user") == false and .anonymous == true' >/dev/null
    run timeout 20 "$BIN/twitch-trigger" "$t"
    echo "$output" | jq -e 'has("user") and has("anonymous") == false' >/dev/null
  done
}

@test "giftbomb --count N prints the giftbomb and N subgifts of one group" {
  run timeout 20 "$BIN/twitch-trigger" giftbomb --count 3 --user GiftGoblin --total 55
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 4 ]
  echo "$output" | jq -se '.[0].type == "giftbomb" and .[0].count == 3 and .[0].total == 55
    and ([.[1:][] | .type] == ["subgift", "subgift", "subgift"])
    and ([.[] | .group] | unique | length) == 1
    and ([.[1:][] | .recipient.login] | unique | length) == 3
    and ([.[] | .id] | unique | length) == 4'
}

@test "--repeat 3 prints exactly 3 events, each with its own id; default is 1" {
  run timeout 20 "$BIN/twitch-trigger" follow --repeat 3
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [ "$(echo "$output" | jq -r .id | sort -u | wc -l)" -eq 3 ]
  run timeout 20 "$BIN/twitch-trigger" follow
  [ "${#lines[@]}" -eq 1 ]
}

@test "--interval spaces the events by at least SECONDS; without it they come back to back" {
  # Measured on the events' own clock ("at"), not the test's, and only from below.
  run timeout 20 "$BIN/twitch-trigger" chat --repeat 3 --interval 0.4
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  ms=$(echo "$output" | jq -r '.at | (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber)')
  read -r a b c <<<"$(echo $ms)"
  [ $((b - a)) -ge 400 ]
  [ $((c - b)) -ge 400 ]
  # Without --interval, 1000 triggers run straight through (well within the hard timeout).
  run timeout 20 "$BIN/twitch-trigger" chat --repeat 1000
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1000 ]
}

@test "--random --seed gives the same types and values; another seed does not" {
  strip='del(.id, .at, .group, .from, .to) | tojson'
  a=$(timeout 20 "$BIN/twitch-trigger" --random --seed 42 --repeat 50 | jq -r "$strip")
  b=$(timeout 20 "$BIN/twitch-trigger" --random --seed 42 --repeat 50 | jq -r "$strip")
  c=$(timeout 20 "$BIN/twitch-trigger" --random --seed 43 --repeat 50 | jq -r "$strip")
  [ "$a" = "$b" ]
  [ "$a" != "$c" ]
  [ "$(echo "$a" | jq -r .type | sort -u | wc -l)" -ge 5 ]  # a mix, not one type
}

@test "--random events are all valid, gift bombs carry their subgifts, TYPE narrows the mix" {
  run timeout 20 "$BIN/twitch-trigger" --random --seed 7 --repeat 500
  [ "$status" -eq 0 ]
  echo "$output" | jq -e "$COMMON" >/dev/null
  # Every giftbomb is followed by count subgifts of its group.
  echo "$output" | jq -sr 'reduce .[] as $e ({ok: true, want: 0, g: null};
      if .want > 0 then .ok = (.ok and $e.type == "subgift" and $e.group == .g) | .want -= 1
      elif $e.type == "giftbomb" then .want = $e.count | .g = $e.group else . end)
    | .ok and .want == 0' | grep -qx true
  run timeout 20 "$BIN/twitch-trigger" --random cheer --repeat 20
  [ "$(echo "$output" | jq -r .type | sort -u)" = cheer ]
  [ "$(echo "$output" | jq -r .bits | sort -u | wc -l)" -gt 1 ]
}

@test "a reader that goes away ends twitch-trigger with status 0 and no message" {
  run bash -c "timeout 20 '$BIN/twitch-trigger' --repeat 1000 --random 2>'$BATS_TEST_TMPDIR/err' | head -3; echo \"rc=\${PIPESTATUS[0]}\""
  [ "${#lines[@]}" -eq 4 ]
  [ "${lines[3]}" = "rc=0" ]
  [ ! -s "$BATS_TEST_TMPDIR/err" ]
  run bash -c "timeout 20 '$BIN/twitch-trigger' --repeat 0 --random | head -c 200000 >/dev/null; echo \"rc=\${PIPESTATUS[0]}\""
  [ "$output" = "rc=0" ]
}

@test "SIGINT or SIGTERM during --interval stops after the current event with status 0" {
  for sig in INT TERM; do
    out=$BATS_TEST_TMPDIR/out-$sig
    timeout 20 "$BIN/twitch-trigger" giftbomb --count 2 --repeat 0 --interval 30 >"$out" &
    pid=$!
    wait_for_file "$out" 10
    kill -"$sig" "$pid"
    run wait_pid "$pid" 5
    [ "$status" -eq 0 ]  # it did not sleep out its 30 seconds
    wait "$pid" && rc=0 || rc=$?
    [ "$rc" -eq 0 ]
    [ "$(wc -l <"$out")" -eq 3 ]  # the whole gift bomb, nothing after it
  done
}

@test "usage errors exit 2 with a message and nothing on stdout" {
  for args in "sub --tier 5" "sub --months -1" "bogus" "" "follow --bits 100" \
    "--random --bits 5" "follow --seed 3" "follow --repeat -1" "follow --interval -2" \
    "follow --user 'two words'" "giftbomb --count 0" "--random --seed -1" "subgift --tier prime" "--no-such-option"; do
    run --separate-stderr bash -c "timeout 20 '$BIN/twitch-trigger' $args"
    echo "args: $args -> $status: $stderr"
    [ "$status" -eq 2 ]
    [ -z "$output" ]
    [[ "$stderr" == "twitch-trigger: error: "* ]]
  done
  run --separate-stderr timeout 20 "$BIN/twitch-trigger" sub --tier 5
  [[ "$stderr" == *"--tier: '5' is not one of prime, 1, 2, 3, 1000, 2000, 3000"* ]]
  run --separate-stderr timeout 20 "$BIN/twitch-trigger" bogus
  [[ "$stderr" == *"unknown event type 'bogus'"* ]]
}

@test "--help and --version exit 0 on stdout" {
  run --separate-stderr timeout 20 "$BIN/twitch-trigger" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--repeat"* ]]
  [ -z "$stderr" ]
  run --separate-stderr timeout 20 "$BIN/twitch-trigger" --version
  [ "$status" -eq 0 ]
  [[ "$output" == "twitch-trigger (twitch-servitor) "* ]]
}
