#!/usr/bin/env bash
# The main job on the local stack: start it (broker, ClickHouse, a worker, the HTTP API), publish
# the demo supply chain (toy factories in Yiwu: its registry, lineage, lab reports, one failing lead
# test, plus 3 deliberately bad lines), with one lab signing its reports with a registered key and
# an impostor forging a "corrected" pass of the failed lot; then trace a toy, scope the recall of the
# failed lot, verify its report, and show the forgery refused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

lotline stack up
out="$(mktemp -d)"
sample="$out/yiwu-toys.jsonl"
lotline sample --out "$sample"
signed_lab='"lab_id": "LAB-CTI-YW"'
grep -v "^{\"type\": \"lab_result\".*$signed_lab" "$sample" > "$out/unsigned.jsonl"
grep "^{\"type\": \"lab_result\".*$signed_lab" "$sample" > "$out/cti-reports.jsonl"
cat deploy/demo/bad-lines.jsonl >> "$out/unsigned.jsonl"

echo; echo "== publishing the registry, the lineage and $(wc -l < "$out/unsigned.jsonl") events (the last 3 lines are deliberately bad)"
lotline publish "$out/unsigned.jsonl" || [ $? -eq 1 ]   # exit 1 = some lines were rejected, as intended
lotline sync --timeout 120

echo; echo "== the Yiwu Product Testing Centre makes a signing key and registers it"
lotline keys new --lab LAB-CTI-YW --out "$out/cti" --force
kid="$(sed -n 's/.*"kid": "\([^"]*\)".*/\1/p' "$out/cti.pub.jwk")"
lotline keys register "$out/cti.pub.jwk" --lab LAB-CTI-YW --not-before "$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)"
lotline sync --timeout 120
echo; echo "== it signs its $(wc -l < "$out/cti-reports.jsonl") reports (compact JWS, EdDSA, a W3C VC): lotline publish --sign-with"
lotline publish --sign-with "$out/cti.key.pem" --accreditation "CNAS L1234" "$out/cti-reports.jsonl"

echo; echo "== an impostor forges a 'corrected' v2 of the failed pigment report that passes, under the lab's key id"
lotline keys new --lab LAB-CTI-YW --out "$out/impostor" --force > /dev/null
grep '"report_id": "RPT-CTI-0002"' "$out/cti-reports.jsonl" \
  | sed -e 's/"fail"/"pass"/g' -e 's/"report_version": 1/"report_version": 2/' \
        -e 's/"event_id": "\([^"]*\)"/"event_id": "\1-v2"/' > "$out/forged.jsonl"
lotline publish --sign-with "$out/impostor.key.pem" --kid "$kid" --accreditation "CNAS L1234" "$out/forged.jsonl"
lotline sync --timeout 120

echo; echo "== rejected events (also in the dead-letter topic)"
lotline rejects --limit 6

echo; echo "== trace of a finished toy: lotline trace TOY-CAR-2611-01"
lotline trace TOY-CAR-2611-01

echo; echo "== recall scope of the failed pigment lot: lotline recall PIG-RED-2610-07"
lotline recall PIG-RED-2610-07
lotline recall PIG-RED-2610-07 --xlsx "$out/recall-PIG-RED-2610-07.xlsx"

echo; echo "== is the failing report real, and does Zhejiang's regulator recognise it? lotline verify LAB-CTI-YW RPT-CTI-0002 --jurisdiction CN-ZJ"
lotline verify LAB-CTI-YW RPT-CTI-0002 --jurisdiction CN-ZJ
echo; echo "== the forged correction: lotline verify LAB-CTI-YW RPT-CTI-0002 --version 2"
lotline verify LAB-CTI-YW RPT-CTI-0002 --version 2 || [ $? -eq 1 ]   # exit 1 = not authentic, as intended
lotline qr LAB-CTI-YW RPT-CTI-0002 --out "$out/RPT-CTI-0002.svg"
lotline log checkpoint --out "$out/checkpoint.txt"
lotline log check "$out/checkpoint.txt"

api="$(lotline stack status | awk '$1 == "endpoint" && $2 == "api" {print $3}')"
echo
echo "The stack keeps running. Try:"
echo "  lotline trace TOY-DOLL-2611-01 --json        lotline recall PIG-RED-2610-07 --csv recall.csv"
echo "  curl $api/v1/batches/TOY-CAR-2611-01/trace    (API docs: $api/docs)"
echo "  $api/r/LAB-CTI-YW/RPT-CTI-0002               (the report's page; the QR code in $out/RPT-CTI-0002.svg leads there)"
echo "Stop it with 'lotline stack down'."
