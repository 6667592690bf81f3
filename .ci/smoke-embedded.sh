#!/usr/bin/env bash
# `npm start` with no DATABASE_URL must boot an embedded PostgreSQL, become ready, and leave nothing running
# after SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

port=$((20000 + RANDOM % 20000))
pg_port=$((40000 + RANDOM % 20000))
data_dir=$(mktemp -d /tmp/prebuilds-smoke-XXXXXX)
log="$data_dir/host.log"
export PORT=$port EMBEDDED_PG_PORT=$pg_port DATA_DIR="$data_dir/data" PROVISIONER_BUILD_MS=200
unset DATABASE_URL

setsid npm start >"$log" 2>&1 &
group=$!
started=$(date +%s)
until curl -fsS "http://127.0.0.1:$port/api/v2/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$group" 2>/dev/null || [ $(( $(date +%s) - started )) -gt 90 ]; then
    echo "smoke: the host app did not become ready"; tail -50 "$log"; kill -TERM -- -"$group" 2>/dev/null || true; exit 1
  fi
  sleep 0.5
done
echo "smoke: readyz 200 after $(( $(date +%s) - started ))s (build and initdb included)"

kill -TERM -- -"$group"
# npm may exit before the node process it forwarded the signal to has finished stopping its embedded server: wait
# for every process of the group, not only its leader.
for _ in $(seq 1 60); do pgrep -g "$group" >/dev/null || break; sleep 0.5; done
if pgrep -g "$group" >/dev/null; then echo "smoke: the host app did not stop on SIGTERM"; pgrep -a -g "$group"; exit 1; fi
if pgrep -f "postgres -D .*$data_dir" >/dev/null || pgrep -f -- "-p $pg_port" >/dev/null; then
  echo "smoke: the embedded PostgreSQL is still running after shutdown"; exit 1
fi
echo "smoke: stopped cleanly, no PostgreSQL left running"
# As root the data moves where the postgres user can reach it (embedded-postgres.ts): remove that copy too.
moved=$(sed -n 's/.*keeping the data in \([^ ]*\).*/\1/p' "$log" | head -1)
[ -n "$moved" ] && rm -rf "$(dirname "$moved")"
rm -rf "$data_dir"
