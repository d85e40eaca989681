#!/usr/bin/env bash
# The main job on the local stack: start it, publish a demo supply chain (with a few bad lines),
# wait until it is stored, and show what ClickHouse holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

lotline stack up
sample="$(mktemp -d)/yiwu-toys.jsonl"
lotline simulate --seed 2026 --out "$sample"
cat deploy/demo/bad-lines.jsonl >> "$sample"

echo; echo "== publishing $(wc -l < "$sample") events (the last 3 lines are deliberately bad)"
lotline publish "$sample" || [ $? -eq 1 ]   # exit 1 = some lines were rejected, as intended
lotline sync --timeout 120

echo; echo "== what ClickHouse holds"
lotline history --limit 3
echo "== rejected events"
lotline rejects
echo
echo "The stack keeps running: try 'lotline --help'; stop it with 'lotline stack down'."
