#!/usr/bin/env bash
# The main job on the local stack: start it (broker, ClickHouse, a worker, the HTTP API), publish
# the demo supply chain (toy factories in Yiwu, one failing lead test, plus 3 deliberately bad
# lines), wait until it is stored, then trace a finished toy and scope the recall of the failed lot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

lotline stack up
out="$(mktemp -d)"
sample="$out/yiwu-toys.jsonl"
lotline sample --out "$sample"
cat deploy/demo/bad-lines.jsonl >> "$sample"

echo; echo "== publishing $(wc -l < "$sample") events (the last 3 lines are deliberately bad)"
lotline publish "$sample" || [ $? -eq 1 ]   # exit 1 = some lines were rejected, as intended
lotline sync --timeout 120

echo; echo "== rejected events (also in the dead-letter topic)"
lotline rejects --limit 5

echo; echo "== trace of a finished toy: lotline trace TOY-CAR-2611-01"
lotline trace TOY-CAR-2611-01

echo; echo "== recall scope of the failed pigment lot: lotline recall PIG-RED-2610-07"
lotline recall PIG-RED-2610-07
lotline recall PIG-RED-2610-07 --xlsx "$out/recall-PIG-RED-2610-07.xlsx"

api="$(lotline stack status | awk '$1 == "endpoint" && $2 == "api" {print $3}')"
echo
echo "The stack keeps running. Try:"
echo "  lotline trace TOY-DOLL-2611-01 --json        lotline recall PIG-RED-2610-07 --csv recall.csv"
echo "  curl $api/v1/batches/TOY-CAR-2611-01/trace    (API docs: $api/docs)"
echo "Stop it with 'lotline stack down'."
