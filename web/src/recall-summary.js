// The top of the recall page: what is recalled and why, how far it reaches, what the reader is not
// shown, where the record has gaps, and the regulator's spreadsheet of the same answer.
import { apiPath, batchHref, el, number, statusBadge } from "./common.js";

const LISTED = 25; // ids named in a warning before "and N more"

function plural(count, one, many) {
  return `${number(count)} ${count === 1 ? one : many}`;
}

/** "Recall scope of ‹batch›" with its status badge. */
export function heading(answer) {
  return el("h1", { id: "recall-title" }, `Recall scope of ${answer.batch_id} `, statusBadge(answer.status));
}

/** The risk sources (why the batch is recalled) and the way back to the batch's page. */
export function context(answer) {
  const sources = answer.risk_sources.length
    ? [answer.risk_sources.length === 1 ? "Risk source: " : "Risk sources: ", ...joined(answer.risk_sources.map(batchLink))]
    : ["No risk source: no failing report reaches this batch."];
  return el("div", { class: "context" },
    el("p", { id: "risk-sources" }, sources),
    el("p", {}, el("a", { id: "batch-link", href: batchHref(answer.batch_id) }, `‹ Batch page of ${answer.batch_id}`)));
}

/** "N batches affected · M shipments · K countries". */
export function summary(answer) {
  const countries = new Set(answer.shipments.map((s) => s.to_country)).size;
  return el("p", { id: "summary", class: "summary" },
    el("strong", {}, plural(answer.affected.length, "batch", "batches")), " affected · ",
    el("strong", {}, plural(answer.shipments.length, "shipment", "shipments")), " · ",
    el("strong", {}, plural(countries, "country", "countries")));
}

/** Said when the reader's organisation sees only its share of the recall. */
export function withheldNotice(withheld) {
  const parts = [["batches", "batch", "batches"], ["productions", "production", "productions"],
    ["shipments", "shipment", "shipments"], ["reports", "report", "reports"]]
    .filter(([key]) => withheld[key] > 0).map(([key, one, many]) => plural(withheld[key], one, many));
  if (!parts.length) return null;
  return el("div", { id: "withheld", class: "withheld", role: "note" },
    el("p", {}, el("strong", {}, "You see your organisation's share of this recall. "),
      `Other parties' records are left out: ${parts.join(", ")}. `,
      "The counts, totals, chart and map cover only the shipments shown here."));
}

/** The record's gaps, when it has any: the scope may reach further than shown. */
export function completenessWarning(completeness) {
  if (completeness.complete) return null;
  const items = [
    ["No production record (the chain ends here)", completeness.unsourced_batches, batchLink],
    ["Shipped with no production record", completeness.shipped_without_production, batchLink],
    ["Reports from labs not in the registry", completeness.unregistered_labs, (id) => el("code", {}, id)],
  ].filter(([, ids]) => ids.length);
  return el("div", { id: "completeness", class: "warning", role: "note" },
    el("h2", {}, el("span", { "aria-hidden": "true" }, "⚠ "), "The record is incomplete"),
    el("ul", {}, items.map(([words, ids, show]) => el("li", {}, `${words}: `, ...listed(ids, show)))));
}

/** The regulator's spreadsheet of this same answer (and as-of moment). */
export function downloads(batchId) {
  const path = `/v1/batches/${encodeURIComponent(batchId)}/recall`;
  const link = (format, words) => el("a", { id: `download-${format}`, href: apiPath(path, { format }), download: `recall-${batchId}.${format}` }, words);
  return el("p", { id: "downloads", class: "downloads" }, "Download this scope: ",
    link("csv", "CSV"), " · ", link("xlsx", "Excel (XLSX)"));
}

function batchLink(id) {
  return el("a", { href: batchHref(id) }, id);
}

function joined(nodes) {
  return nodes.flatMap((node, i) => (i ? [", ", node] : [node]));
}

function listed(ids, show) {
  const shown = joined(ids.slice(0, LISTED).map(show));
  return ids.length > LISTED ? [...shown, ` and ${number(ids.length - LISTED)} more (the XLSX download lists them all)`] : shown;
}
