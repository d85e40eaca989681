#!/usr/bin/env bash
# The whole test suite: unit, contract and integration tiers (the integration tier starts its own
# Tansu broker and ClickHouse server). Extra arguments go to pytest, e.g. `-m unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
