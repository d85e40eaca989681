#!/usr/bin/env bash
# The main job on the local stack: start it (broker, ClickHouse, a worker, the HTTP API), publish
# the demo supply chain (toy factories in Yiwu: its registry, lineage, lab reports, one failing lead
# test, plus 3 deliberately bad lines), with one lab signing its reports with a registered key and
# an impostor forging a "corrected" pass of the failed lot; then trace a toy, scope the recall of the
# failed lot and write the FDA's sortable spreadsheet and an EU Safety Gate draft of it, verify its
# report, and show the forgery refused; then give a brand, an importer, a
# regulator and a lab API keys and show what each of them sees of the same recall.
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

echo; echo "== current answers come from the workers' serving store: lotline serving status"
lotline serving status
echo; echo "== trace of a finished toy: lotline trace TOY-CAR-2611-01"
lotline trace TOY-CAR-2611-01

echo; echo "== recall scope of the failed pigment lot: lotline recall PIG-RED-2610-07"
lotline recall PIG-RED-2610-07
lotline recall PIG-RED-2610-07 --xlsx "$out/recall-PIG-RED-2610-07.xlsx"

echo; echo "== the FDA's sortable spreadsheet of that recall scope: lotline export fsma --recall PIG-RED-2610-07"
lotline export fsma --recall PIG-RED-2610-07 --out "$out/fsma-PIG-RED-2610-07.xlsx"
echo; echo "== an EU Safety Gate notification draft for it: lotline notify safety-gate PIG-RED-2610-07"
lotline notify safety-gate PIG-RED-2610-07
lotline notify safety-gate PIG-RED-2610-07 --html "$out/safety-gate-PIG-RED-2610-07.html"

echo; echo "== is the failing report real, and does Zhejiang's regulator recognise it? lotline verify LAB-CTI-YW RPT-CTI-0002 --jurisdiction CN-ZJ"
lotline verify LAB-CTI-YW RPT-CTI-0002 --jurisdiction CN-ZJ
echo; echo "== the forged correction: lotline verify LAB-CTI-YW RPT-CTI-0002 --version 2"
lotline verify LAB-CTI-YW RPT-CTI-0002 --version 2 || [ $? -eq 1 ]   # exit 1 = not authentic, as intended
lotline qr LAB-CTI-YW RPT-CTI-0002 --out "$out/RPT-CTI-0002.svg"
lotline log checkpoint --out "$out/checkpoint.txt"
lotline log check "$out/checkpoint.txt"

api="$(lotline stack status | awk '$1 == "endpoint" && $2 == "api" {print $3}')"
echo; echo "== access by role: a brand, an importer, a regulator and a lab each get an API key (shown once)"
key() { lotline principals add "$@" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])'; }
brand="$(key --role org --org ORG-YW-TOYS --name 'Yiwu Happy Toys')"
importer="$(key --role org --org ORG-DE-SPIELWAREN --name 'Hamburg importer')"
regulator="$(key --role regulator --regulator DE-BAuA --name 'BAuA market surveillance')"
lab="$(key --role lab --lab LAB-CTI-YW --name 'CTI report desk')"
lotline principals list
seen() {  # what one caller sees of an answer: the status, or what the recall holds and what was withheld
  local auth=(); [ -n "$2" ] && auth=(-H "Authorization: Bearer $2")
  curl -s -o "$out/seen.json" -w '%{http_code}' "${auth[@]}" "$api$3" > "$out/status"
  python3 - "$1" "$(cat "$out/status")" "$out/seen.json" <<'PY'
import json, sys
who, status, path = sys.argv[1], sys.argv[2], sys.argv[3]
body = json.load(open(path))
if status != "200":
    print(f"  {who:<24} {status} {body['detail']}")
else:
    shipped = ", ".join(f"{s['to_org']} ({s['to_country']}) {s['quantity']:g} {s['unit']}" for s in body["shipments"])
    held = ", ".join(f"{n} {what}" for what, n in body["withheld"].items() if n) or "nothing"
    n = len(body["affected"])
    print(f"  {who:<24} 200 {n} batch{'' if n == 1 else 'es'}; shipments: {shipped or 'none'}; withheld: {held}")
PY
}
echo; echo "== the same recall, GET /v1/batches/TOY-CAR-2611-01/recall, as each of them sees it"
seen "brand (made it)" "$brand" /v1/batches/TOY-CAR-2611-01/recall
seen "importer (received it)" "$importer" /v1/batches/TOY-CAR-2611-01/recall
seen "regulator DE" "$regulator" /v1/batches/TOY-CAR-2611-01/recall
seen "lab" "$lab" /v1/batches/TOY-CAR-2611-01/recall
seen "no key" "" /v1/batches/TOY-CAR-2611-01/recall
echo; echo "== the failed pigment lot's recall: the regulator follows the goods into Germany; the brand had no hand in the lot"
seen "regulator DE" "$regulator" /v1/batches/PIG-RED-2610-07/recall
seen "brand" "$brand" /v1/batches/PIG-RED-2610-07/recall
seen "brand, a lot nobody knows" "$brand" /v1/batches/PIG-RED-2610-99/recall
echo; echo "== a write as somebody else is refused, and nothing of it is published"
curl -s -H "Authorization: Bearer $importer" -H 'Content-Type: application/json' "$api/v1/events" \
  -d '[{"type": "shipment", "event_id": "shp-forged-1", "shipment_id": "SHP-FORGED", "batch_id": "TOY-CAR-2611-01", "quantity": 1, "unit": "ea", "from_org": "ORG-YW-TOYS", "to_org": "ORG-DE-SPIELWAREN", "to_location": "Hamburg", "to_country": "DE", "occurred_at": "2026-11-25T10:00:00Z"}]'
echo; echo; echo "== the audit log: lotline audit --since 5m"
sleep 1
lotline audit --since 5m --limit 12

echo
echo "== the web pages: $api/"
echo "  sign in at $api/sign-in as the brand ($brand)"
echo "  or as the German regulator ($regulator), then open:"
echo "  $api/batches/TOY-CAR-2611-01            (the toy car: its chain as a graph, click the failed pigment lot)"
echo "  $api/batches/PIG-RED-2610-07/recall     (the recall: shipments to sort and filter, a chart, a map, CSV/XLSX)"
echo
echo "The stack keeps running. Try:"
echo "  lotline trace TOY-DOLL-2611-01 --json        lotline recall PIG-RED-2610-07 --csv recall.csv"
echo "  curl -H \"Authorization: Bearer $brand\" $api/v1/batches/TOY-CAR-2611-01/trace    (the brand's key; API docs: $api/docs)"
echo "  $api/r/LAB-CTI-YW/RPT-CTI-0002               (the report's page; the QR code in $out/RPT-CTI-0002.svg leads there)"
echo "Stop it with 'lotline stack down'."
