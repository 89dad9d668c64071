#!/usr/bin/env bash
# sqlmap --level 3 against the search, filter and sort parameters of the list pages, on a
# gunicorn server on loopback with a fresh demo database. Fails if anything looks injectable.
# Time-based blind and stacked-query tests are left out by default (SQLMAP_EXTRA overrides):
# on SQLite sqlmap simulates SLEEP with heavy queries (a single list page then takes 5-7
# minutes), and Python's sqlite3 driver refuses to run more than one statement per execute, so
# stacked queries cannot succeed against it. Boolean-blind, error-based and UNION tests run at
# level 3 on every parameter (about 1.5-3.5 minutes per page on a 2-CPU machine).
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLMAP_EXTRA="${SQLMAP_EXTRA:---technique=BEU}"
exec .venv/bin/python .ci/sqlmap_check.py "$@"
