#!/usr/bin/env bash
# Stops the PostgreSQL started by scripts/postgres-start.sh and removes its folder.
set -uo pipefail
[ -n "${PG_TEST_DIR:-}" ] && [ -d "$PG_TEST_DIR" ] || exit 0
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
run_as=()
[ "$(id -u)" = "0" ] && run_as=(runuser -u postgres --)
"${run_as[@]}" "$bindir/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$PG_TEST_DIR"
