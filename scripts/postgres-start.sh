#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on loopback for the persistence tests and prints its URL.
# Usage: eval "$(scripts/postgres-start.sh)"   → exports M365_TEST_POSTGRES_URL, M365_TEST_POSTGRES_DESK_URL,
# M365_TEST_POSTGRES_CONNECTOR_URL, M365_TEST_POSTGRES_APP_URL and PG_TEST_DIR
# Stop it with scripts/postgres-stop.sh.
set -euo pipefail

port="${PG_TEST_PORT:-54329}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bindir" ]; then
  echo "PostgreSQL server binaries not found; install Debian's postgresql package" >&2
  exit 1
fi
dir="$(mktemp -d /tmp/m365-pg.XXXXXX)"
# initdb refuses to run as root; the server runs as the unprivileged postgres user.
run_as=()
if [ "$(id -u)" = "0" ]; then
  chown postgres "$dir"
  run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U m365 --auth=trust >"$dir/initdb.log" 2>&1
"${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U m365 m365_test
# The desk's suite gets its own database: test targets run in parallel and share Fluent's migration table.
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U m365 m365_desk_test
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U m365 m365_connector_test
"${run_as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U m365 m365_app_test
echo "export PG_TEST_DIR='$dir'"
echo "export M365_TEST_POSTGRES_URL='postgres://m365@127.0.0.1:$port/m365_test?sslmode=disable'"
echo "export M365_TEST_POSTGRES_DESK_URL='postgres://m365@127.0.0.1:$port/m365_desk_test?sslmode=disable'"
echo "export M365_TEST_POSTGRES_CONNECTOR_URL='postgres://m365@127.0.0.1:$port/m365_connector_test?sslmode=disable'"
echo "export M365_TEST_POSTGRES_APP_URL='postgres://m365@127.0.0.1:$port/m365_app_test?sslmode=disable'"
