#!/usr/bin/env bash
# Runs the whole test suite. The database tests run on SQLite always and on PostgreSQL when
# LEADOPS_TEST_DATABASE_URL is set or a server answers at 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

default_pg="postgresql+psycopg://postgres@127.0.0.1:5432/test"
if [ -z "${LEADOPS_TEST_DATABASE_URL:-}" ]; then
  if "$BIN/python" - "$default_pg" <<'PY' 2>/dev/null; then
import sys
import psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
    export LEADOPS_TEST_DATABASE_URL="$default_pg"
  fi
fi

if [ -n "${LEADOPS_TEST_DATABASE_URL:-}" ]; then
  echo "Database tests: SQLite and PostgreSQL (${LEADOPS_TEST_DATABASE_URL})"
else
  echo "Database tests: SQLite only. PostgreSQL is NOT tested: no server answered at 127.0.0.1:5432"
  echo "and LEADOPS_TEST_DATABASE_URL is not set."
fi

exec "$BIN/pytest" -q "$@"
