#!/usr/bin/env bash
# sqlmap --level 3 against the search, filter and sort parameters of the list pages, on a
# gunicorn server on loopback with a fresh demo database. Fails if anything looks injectable.
# Time-based blind tests are left out by default (SQLMAP_EXTRA overrides): on SQLite sqlmap
# simulates SLEEP with heavy queries and a single list page then takes over ten minutes;
# boolean, error, union and stacked techniques still run at level 3 on every parameter.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLMAP_EXTRA="${SQLMAP_EXTRA:---technique=BEUS}"
exec .venv/bin/python .ci/sqlmap_check.py "$@"
