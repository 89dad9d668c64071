#!/usr/bin/env bash
# sqlmap --level 3 against the search, filter and sort parameters of the list pages, on a
# gunicorn server on loopback with a fresh demo database. Fails if anything looks injectable.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python .ci/sqlmap_check.py "$@"
