// The top of the batch page: the batch id and status, why it is at risk, how it was made, the way
// to its recall scope, and a notice when records of other organisations were left out.
import { batchHref, el, number, recallHref, statusBadge, when } from "./common.js";

/** The heading, risk sources, production facts and recall link of a batch. */
export function headingOf(trace, recall) {
  return [
    el("h1", { id: "batch-title" }, el("span", { class: "batch-id" }, trace.batch_id), " ",
      el("span", { id: "batch-status" }, statusBadge(trace.status))),
    riskSources(trace),
    productionFacts(trace.production),
    el("p", { class: "recall-link" }, el("a", { id: "open-recall", href: recallHref(trace.batch_id) }, recallWords(recall))),
  ];
}

function recallWords(recall) {
  const products = recall.affected.length - 1;
  return `Open the recall scope: ${number(products)} downstream batch${products === 1 ? "" : "es"}, ` +
    `${number(recall.shipments.length)} shipment${recall.shipments.length === 1 ? "" : "s"} →`;
}

function riskSources(trace) {
  const others = trace.risk_sources.filter((id) => id !== trace.batch_id);
  const own = others.length < trace.risk_sources.length;
  if (!own && !others.length) return null;
  const reasons = [];
  if (own) reasons.push("its own failing lab report");
  if (others.length) {
    const links = others.map((id) => el("a", { href: batchHref(id), class: "risk-source", "data-batch": id }, id));
    reasons.push(el("span", {}, others.length > 1 ? "the failed upstream batches " : "the failed upstream batch ", joined(links)));
  }
  return el("p", { id: "risk-sources" }, trace.status === "failed" ? "Failed through " : "At risk through ", joined(reasons), ".");
}

function joined(nodes) {
  return nodes.flatMap((node, i) => (i === 0 ? [node] : [i === nodes.length - 1 ? " and " : ", ", node]));
}

function productionFacts(production) {
  if (!production) return el("p", { id: "production", class: "note" }, "No production record is known for this batch.");
  const facts = [
    ["Product", production.product_id],
    ["Quantity", `${number(production.quantity)} ${production.unit}`],
    ["Made by", production.org_id],
    ["Site", production.site],
    ["Made", when(production.occurred_at)],
    ["Inputs", `${production.inputs.length} batch${production.inputs.length === 1 ? "" : "es"}`],
  ];
  return el("dl", { id: "production", class: "facts" }, facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

/**
 * A notice saying what other organisations' records were left out, or null when none were.
 * The trace counts what it withheld upstream, the recall what it withheld downstream.
 */
export function withheldNotice(trace, recall) {
  const lines = [withheldLine("Upstream", trace.withheld), withheldLine("Downstream", recall.withheld)].filter(Boolean);
  if (!lines.length) return null;
  return el("div", { id: "withheld", class: "withheld", role: "note" },
    el("p", {}, el("strong", {}, "Some records belong to other organisations and are withheld from you. "),
      "Their batches show only id, depth and status; their production links, lab reports and shipments are left out."),
    el("ul", {}, lines.map((line) => el("li", {}, line))));
}

function withheldLine(side, withheld) {
  const parts = [
    [withheld.batches, "batch", "batches", "shown by id, depth and status only"],
    [withheld.productions, "production link", "production links", "withheld"],
    [withheld.reports, "lab report", "lab reports", "withheld"],
    [withheld.shipments, "shipment", "shipments", "withheld"],
  ].filter(([count]) => count > 0)
    .map(([count, one, many, what]) => `${number(count)} ${count === 1 ? one : many} ${what}`);
  return parts.length ? `${side}: ${parts.join("; ")}.` : null;
}
