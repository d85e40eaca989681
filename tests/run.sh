#!/usr/bin/env bash
# The whole test suite: unit, contract, integration and web tiers (the integration tier starts its own
# Tansu broker and ClickHouse server; the web tier drives Debian's Chromium). Extra arguments go to pytest, e.g. `-m unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh --with-browser
exec .venv/bin/python -m pytest --durations=15 "$@"
