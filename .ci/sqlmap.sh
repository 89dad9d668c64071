#!/usr/bin/env bash
# sqlmap --level 3 against the search, filter and sort parameters of the list pages, on a
# gunicorn server on loopback with a fresh demo database. Fails if anything looks injectable.
#
# Default (SQLite): time-based blind and stacked-query tests are left out (SQLMAP_EXTRA
# overrides): on SQLite sqlmap simulates SLEEP with heavy queries (a single list page then
# takes 5-7 minutes), and Python's sqlite3 driver refuses to run more than one statement per
# execute, so stacked queries cannot succeed against it. Boolean-blind, error-based and UNION
# tests run at level 3 on every parameter (about 1.5-3.5 minutes per page on a 2-CPU machine).
#
# --postgres-time URL: once more against PostgreSQL (URL names an empty database), with the
# time-based blind techniques PostgreSQL answers with pg_sleep, bounded in time: at most
# SQLMAP_TARGET_TIMEOUT seconds per page (a page that runs out fails the run) and
# SQLMAP_TOTAL_TIMEOUT in all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--postgres-time" ]; then
  export SQLMAP_DATABASE_URL="${2:?--postgres-time needs the URL of an empty PostgreSQL database}"
  export SQLMAP_EXTRA="${SQLMAP_EXTRA:---technique=T --dbms=PostgreSQL --time-sec=2}"
  export SQLMAP_LEVEL="${SQLMAP_LEVEL:-3}"
  export SQLMAP_TARGET_TIMEOUT="${SQLMAP_TARGET_TIMEOUT:-900}"
  exec timeout "${SQLMAP_TOTAL_TIMEOUT:-2400}" .venv/bin/python .ci/sqlmap_check.py
fi
export SQLMAP_EXTRA="${SQLMAP_EXTRA:---technique=BEU}"
exec .venv/bin/python .ci/sqlmap_check.py "$@"
