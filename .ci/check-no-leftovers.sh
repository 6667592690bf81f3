#!/usr/bin/env bash
# `npm test` without TEST_DATABASE_URL starts an embedded PostgreSQL (test/support/global-setup.js). Whether the run
# passes, fails or is interrupted with Ctrl-C, nothing of it may be left: no server on its data folder, no scratch
# folder, no moved data in /var/tmp, no watchdog. Three short db-project runs of one small test file check it:
# passing, failing, interrupted (~15 s).
set -euo pipefail
cd "$(dirname "$0")/.."

spec=test/support/fixtures.int-spec.ts
work=$(mktemp -d /tmp/prebuilds-leftovers-XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
fail() { echo "check-no-leftovers: $*" >&2; exit 1; }

# Starts jest on $spec in its own process group (as a terminal runs a foreground job), with TMPDIR=$1; more jest
# arguments after it.
start_jest() {
  local tmp=$1
  shift
  env -u TEST_DATABASE_URL TMPDIR="$tmp" setsid node --experimental-vm-modules node_modules/jest/bin/jest.js \
    "$spec" "$@" --selectProjects db >"$tmp.log" 2>&1 &
  jest_pid=$!
}

# Waits (deadline $2 s) for the run under TMPDIR=$1 to make its scratch folder; prints it.
scratch_of() {
  local deadline=$((SECONDS + $2)) dir
  until dir=$(find "$1" -maxdepth 1 -name 'nest-prebuilds-test-*' -print -quit) && [ -n "$dir" ]; do
    [ $SECONDS -lt $deadline ] || fail "no scratch folder under $1 within $2 s: $(tail -20 "$1.log")"
    sleep 0.1
  done
  echo "$dir"
}

# The data folders a scratch folder's cluster can have (test/support/embedded-cleanup.js, embeddedDataDirs).
data_dirs() {
  local asked="$1/postgres"
  echo "$asked"
  echo "/var/tmp/nest-prebuilds-data-$(printf %s "$asked" | sha1sum | cut -c1-12)/postgres"
}

server_of() { for dir in $(data_dirs "$1"); do pgrep -f -- "postgres -D $dir" || true; done; }

leftovers() {
  local scratch=$1 found=''
  [ -z "$(server_of "$scratch")" ] || found+=" server($(server_of "$scratch" | tr '\n' ' '))"
  [ ! -e "$scratch" ] || found+=" $scratch"
  for dir in $(data_dirs "$scratch"); do [ ! -e "$(dirname "$dir")" ] || [ "$dir" = "$scratch/postgres" ] || found+=" $(dirname "$dir")"; done
  ! pgrep -f -- "process-watchdog.js [0-9]+ $scratch" >/dev/null || found+=' watchdog'
  echo "$found"
}

# Waits (deadline $2 s) until nothing of the run with scratch folder $1 is left.
expect_nothing_left() {
  local deadline=$((SECONDS + $2)) found
  while found=$(leftovers "$1") && [ -n "$found" ]; do
    [ $SECONDS -lt $deadline ] || fail "$3: left behind after $2 s:$found"
    sleep 0.2
  done
}

# 1. A run that passes: global teardown stops the server and removes its folders.
mkdir -m 0755 "$work/ends"
start_jest "$work/ends"
scratch=$(scratch_of "$work/ends" 60)
wait "$jest_pid" || fail "the jest run failed: $(tail -30 "$work/ends.log")"
expect_nothing_left "$scratch" 5 'after a run that passed'
echo "check-no-leftovers: a passing run left nothing behind"

# 2. A run that fails (a 1 ms test timeout fails its hooks): teardown runs all the same.
mkdir -m 0755 "$work/fails"
start_jest "$work/fails" --testTimeout=1
scratch=$(scratch_of "$work/fails" 60)
! wait "$jest_pid" || fail "the run meant to fail passed: $(tail -30 "$work/fails.log")"
expect_nothing_left "$scratch" 5 'after a run that failed'
echo "check-no-leftovers: a failing run left nothing behind"

# 3. Ctrl-C once the server is up: jest runs no teardown; the watchdog stops the server within 10 s. A 0700 TMPDIR
# (as root) is one the postgres user cannot reach, so the data moves to /var/tmp and its removal is checked too.
mkdir -m 0700 "$work/interrupted"
start_jest "$work/interrupted"
scratch=$(scratch_of "$work/interrupted" 60)
deadline=$((SECONDS + 60))
until [ -n "$(server_of "$scratch")" ]; do
  kill -0 "$jest_pid" 2>/dev/null || fail "jest ended before its server was up: $(tail -30 "$work/interrupted.log")"
  [ $SECONDS -lt $deadline ] || fail 'the embedded server did not come up within 60 s'
  sleep 0.1
done
kill -INT -- -"$jest_pid"
wait "$jest_pid" 2>/dev/null || true
expect_nothing_left "$scratch" 10 'after Ctrl-C'
echo "check-no-leftovers: an interrupted run left nothing behind"
