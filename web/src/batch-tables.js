// The batch page's tables and notes below the graph: lab reports, the batch's shipments, and what
// the records leave open (completeness).
import { batchHref, countryName, el, number, reportHref, trustWords, when } from "./common.js";
import { columnOf, reportMark } from "./batch-model.js";

const VERDICT = { fail: "✘ fail", pass: "✔ pass" };
// Problems first: a failing report that counts, then one that does not count, then the rest.
const MARK_ORDER = { fails: 0, uncounted: 1 };

/**
 * Every report on this batch, its inputs and its products; `onShow(batchId)` highlights its batch
 * in the graph; `withheld` is non-zero when reports of other organisations were left out.
 */
export function reportsSection(lineage, onShow, withheld = 0) {
  const reports = [...lineage.reports].sort((a, b) => reportOrder(lineage, a) - reportOrder(lineage, b)
    || a.batch_id.localeCompare(b.batch_id) || a.report_id.localeCompare(b.report_id));
  return el("section", { id: "reports", "aria-labelledby": "reports-title" },
    el("h2", { id: "reports-title" }, "Lab reports"),
    el("p", { class: "note" }, "On this batch, its inputs and its products. A report counts against a batch when it is ",
      "authentic (signed or unsigned) and its lab is accredited for the test."),
    reports.length ? reportsTable(lineage, reports, onShow) : el("p", { class: "note" }, "No lab reports are known for these batches."),
    withheldNote(withheld, "lab reports"));
}

// The counts are in the withheld notice at the top (the trace and recall answers may both count one
// record), so the table only says that some are missing.
function withheldNote(count, many) {
  return count ? el("p", { class: "note withheld-count" }, `Some ${many} of other organisations are withheld from you (see the notice above).`) : null;
}

function reportOrder(lineage, report) {
  const mark = reportMark(report);
  const node = lineage.nodes.get(report.batch_id);
  return (mark ? MARK_ORDER[mark.kind] : 2) * 1000 + Math.abs(node ? columnOf(node) : 999);
}

function reportsTable(lineage, reports, onShow) {
  const head = ["Report", "Batch", "Lab", "Method", "Verdict", "Trust", "Counts", "Issued", "Graph"];
  return tableOf("Lab reports on this batch, its inputs and its products", head,
    reports.map((report) => reportRow(lineage, report, onShow)));
}

function reportRow(lineage, report, onShow) {
  const mark = reportMark(report);
  const isFocal = report.batch_id === lineage.focal;
  return el("tr", { class: mark ? `problem ${mark.kind}` : null, "data-report": report.report_id, "data-batch": report.batch_id },
    el("td", {}, el("a", { href: reportHref(report.lab_id, report.report_id) }, report.report_id),
      report.version > 1 ? ` v${report.version}` : ""),
    el("td", {}, isFocal ? report.batch_id : el("a", { href: batchHref(report.batch_id) }, report.batch_id),
      isFocal ? el("span", { class: "note" }, " (this batch)") : ""),
    el("td", {}, el("span", { class: "lab-id" }, report.lab_id), report.lab_registered ? "" : el("span", { class: "note" }, " (not registered)")),
    el("td", {}, report.method),
    el("td", { class: `verdict verdict-${report.verdict}` }, VERDICT[report.verdict] ?? report.verdict),
    el("td", {}, trustWords(report), supersededNote(report.superseded)),
    el("td", {}, report.counts ? "yes" : el("strong", {}, "⚠ no")),
    el("td", {}, when(report.issued_at)),
    el("td", {}, el("button", {
      type: "button", class: "show-in-graph", "data-batch": report.batch_id,
      "aria-label": `Show ${report.batch_id} in the graph`, onclick: () => onShow(report.batch_id),
    }, "Show")));
}

// Other versions of the report (a correction, or a forged re-issue) that do not stand.
function supersededNote(versions) {
  if (!versions?.length) return "";
  const words = versions.map((v) => `v${v.version} ${v.verdict}, ${trustWords(v)}${v.counts ? "" : ", not counted"}`);
  return el("div", { class: "note superseded" }, `Not standing: ${words.join("; ")}`);
}

/** The batch's own shipments; `withheld` is non-zero when some were left out. */
export function shipmentsSection(shipments, withheld = 0) {
  const head = ["Shipment", "Quantity", "From", "To", "Destination", "Shipped"];
  const rows = shipments.map((s) => el("tr", { "data-shipment": s.shipment_id },
    el("td", {}, s.shipment_id),
    el("td", { class: "num" }, `${number(s.quantity)} ${s.unit}`),
    el("td", {}, s.from_org),
    el("td", {}, s.to_org),
    el("td", {}, [s.to_location, s.to_country ? countryName(s.to_country) : ""].filter(Boolean).join(", ")),
    el("td", {}, when(s.occurred_at))));
  return el("section", { id: "shipments", "aria-labelledby": "shipments-title" },
    el("h2", { id: "shipments-title" }, "Shipments of this batch"),
    rows.length ? tableOf("Shipments of this batch", head, rows, new Set(["Quantity"])) : el("p", { class: "note" }, "No shipments of this batch are known."),
    withheldNote(withheld, "shipments"));
}

function tableOf(caption, head, rows, numeric = new Set()) {
  return el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    el("table", {},
      el("caption", { class: "vh" }, caption),
      el("thead", {}, el("tr", {}, head.map((name) => el("th", { scope: "col", class: numeric.has(name) ? "num" : null }, name)))),
      el("tbody", {}, rows)));
}

/**
 * What the records leave open upstream (trace) and downstream (recall), or null when complete.
 */
export function completenessSection(trace, recall) {
  if (trace.completeness.complete && recall.completeness.complete) return null;
  const union = (field) => [...new Set([...trace.completeness[field], ...recall.completeness[field]])];
  const notes = [
    ["No production record, so their inputs are unknown", union("unsourced_batches"), true],
    ["Shipped without a production record", union("shipped_without_production"), true],
    ["Reports from labs missing from the register", union("unregistered_labs"), false],
  ].filter(([, ids]) => ids.length);
  return el("section", { id: "completeness", "aria-labelledby": "completeness-title" },
    el("h2", { id: "completeness-title" }, "What the records leave open"),
    el("ul", { class: "completeness" }, notes.map(([words, ids, batches]) => el("li", {}, `${words} (${number(ids.length)}): `, idList(ids, batches)))));
}

// Long lists fold away so forty raw-material lots do not push the page down.
function idList(ids, batches) {
  const items = ids.flatMap((id, i) => [i ? ", " : "", batches ? el("a", { href: batchHref(id) }, id) : id]);
  return ids.length > 12 ? el("details", {}, el("summary", {}, `show all ${number(ids.length)}`), items) : items;
}
