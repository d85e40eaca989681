#!/usr/bin/env bash
# The whole benchmark set, one script after the other (each starts and stops its own stack), then
# the summary against DESIGN §8: bench/results/*.json and bench/results/summary.md. About 20 minutes
# on the 2-core machine. Arguments: --quick for small sizes (a smoke run of every script, ~6 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh --with-browser >/dev/null  # bench/web.py drives Debian's Chromium
.venv/bin/pip install --quiet -e '.[bench]'
py=.venv/bin/python

if [[ "${1:-}" == "--quick" ]]; then
    ingest=(--reports 20000 --rounds 1)
    lineage=(--raw-lots 200 --components 800 --products 1000 --tiers 4 --delay-samples 3)
    freshness=(--seconds 20 --calibrate-reports 10000)
    queries=(--sizes 100000 --runs 10)
    memory=(--raw-lots 200 --components 1400 --products 2400)
    access=(--runs 20 --raw-lots 40 --components 450 --products 600 --recall-size 150 --principals 20)
    web=(--runs 3 --hub-toys 200)
    forms=(--toys 1000 --runs 3)
else
    ingest=(--reports 100000 --rounds 2)
    lineage=()
    freshness=(--seconds 60)
    queries=(--sizes 1000000,10000000 --runs 20)
    memory=()
    access=()
    web=()
    forms=()
fi

began=$SECONDS
for bench in ingest lineage freshness memory queries access web forms; do
    echo "== bench/$bench.py" >&2
    args="$bench[@]"
    "$py" "bench/$bench.py" "${!args}"
    echo >&2
done
"$py" bench/summary.py
echo "whole set: $(( (SECONDS - began) / 60 )) min $(( (SECONDS - began) % 60 )) s" >&2
