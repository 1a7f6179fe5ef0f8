#!/usr/bin/env bats
# The conventions every command keeps (DESIGN.md, "Conventions"): --help and --version exit 0,
# an unknown option is a usage error (status 2, a message on stderr, nothing on stdout), and a
# man page documents every option that --help prints. Also: installation puts every command and
# man page in place. Each test checks all commands and lists every offender before failing.

load helpers
bats_require_minimum_version 1.5.0

# The commands: every executable in $BIN.
commands() {
  local f
  for f in "$BIN"/*; do
    [ -f "$f" ] && [ -x "$f" ] && basename "$f"
  done
}

# report PROBLEM...: prints the problems and fails when there are any.
report() {
  [ $# -eq 0 ] && return 0
  printf '%s\n' "$@" >&2
  return 1
}

setup() {
  [ -n "$(commands)" ] || skip "no commands in $BIN"
}

@test "--help exits 0 and prints the usage on stdout" {
  local problems=()
  for cmd in $(commands); do
    run --separate-stderr timeout 20 "$BIN/$cmd" --help </dev/null
    [ "$status" -eq 0 ] || problems+=("$cmd --help: status $status")
    [[ "$output" == *--help* ]] || problems+=("$cmd --help: no usage on stdout")
  done
  report "${problems[@]}"
}

@test "--version exits 0 and names the command on stdout" {
  local problems=()
  for cmd in $(commands); do
    run --separate-stderr timeout 20 "$BIN/$cmd" --version </dev/null
    [ "$status" -eq 0 ] || problems+=("$cmd --version: status $status")
    [[ "$output" == *"$cmd"* ]] || problems+=("$cmd --version: printed '$output'")
  done
  report "${problems[@]}"
}

@test "an unknown option exits 2 with a message on stderr and nothing on stdout" {
  local problems=()
  for cmd in $(commands); do
    run --separate-stderr timeout 20 "$BIN/$cmd" --no-such-option-here </dev/null
    [ "$status" -eq 2 ] || problems+=("$cmd: status $status, not 2")
    [ -z "$output" ] || problems+=("$cmd: wrote to stdout: $output")
    [[ "$stderr" == "$cmd: error: "* ]] || problems+=("$cmd: stderr is '$stderr'")
  done
  report "${problems[@]}"
}

@test "every command has a man page with the house sections" {
  local problems=()
  for cmd in $(commands); do
    page=$ROOT/man/$cmd.1.scd
    if [ ! -f "$page" ]; then
      problems+=("$cmd: no man/$cmd.1.scd")
      continue
    fi
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS OUTPUT "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
      grep -qx "# $s" "$page" || problems+=("$cmd: man page has no '# $s' section")
    done
  done
  report "${problems[@]}"
}

@test "every --option that --help prints is in the command's man page" {
  local problems=()
  for cmd in $(commands); do
    page=$ROOT/man/$cmd.1.scd
    [ -f "$page" ] || continue  # reported by the test above
    help=$(timeout 20 "$BIN/$cmd" --help </dev/null)
    for opt in $(grep -oE -- '--[a-z0-9][a-z0-9-]*' <<<"$help" | sort -u); do
      grep -qE -- "${opt}([^a-z0-9-]|\$)" "$page" || problems+=("$cmd: $opt is not in man/$cmd.1.scd")
    done
  done
  report "${problems[@]}"
}

@test "scripts/servitor: every --option that --help prints is in man/servitor.1.scd" {
  local problems=() help
  help=$(timeout 20 "$ROOT/scripts/servitor" --help </dev/null)
  for opt in $(grep -oE -- '--[a-z0-9][a-z0-9-]*' <<<"$help" | sort -u); do
    grep -qE -- "${opt}([^a-z0-9-]|\$)" "$ROOT/man/servitor.1.scd" || problems+=("servitor: $opt is not in man/servitor.1.scd")
  done
  [ -n "$help" ] || problems+=("servitor --help printed nothing")
  report "${problems[@]}"
}

@test "cmake --install puts every command and man page under the prefix" {
  local build prefix problems=()
  build=$(cd "$BIN/.." && pwd)
  prefix=$BATS_TEST_TMPDIR/prefix
  [ -f "$build/cmake_install.cmake" ] || skip "$build is not a CMake build directory"
  run timeout 60 cmake --install "$build" --prefix "$prefix"
  [ "$status" -eq 0 ]
  for cmd in $(commands); do
    [ -x "$prefix/bin/$cmd" ] || problems+=("bin/$cmd not installed")
    run timeout 20 "$prefix/bin/$cmd" --version </dev/null
    [ "$status" -eq 0 ] || problems+=("installed $cmd --version: status $status")
  done
  for src in "$ROOT"/man/*.scd; do
    page=$(basename "$src" .scd)  # twitch-trigger.1
    section=${page##*.}
    [ -s "$prefix/share/man/man$section/$page" ] || problems+=("man page $page not installed")
  done
  report "${problems[@]}"
}
