// The two long tables of the recall page: the affected batches and their shipments.
import { countryName, el, statusOf } from "./common.js";
import { AFFECTED_COLUMNS, SHIPMENT_COLUMNS } from "./recall-columns.js";
import { dataTable } from "./recall-table.js";

// A hundred rows draw in a few milliseconds and are still a page a reader can scan.
const PAGE_SIZE = 100;
const STATUS_ORDER = ["failed", "at_risk", "untested", "clear"];

function section(id, title, table, intro) {
  return el("section", { id, "aria-labelledby": `${id}-title` },
    el("h2", { id: `${id}-title` }, title), intro, table.node);
}

/** The batch and every descendant; URL parameters a_sort, a_q, a_status, a_page. */
export function affectedSection(answer) {
  const present = new Set(answer.affected.map((b) => b.status));
  const statuses = [...STATUS_ORDER.filter((s) => present.has(s)), ...[...present].filter((s) => !STATUS_ORDER.includes(s))];
  const table = dataTable({
    id: "affected", prefix: "a_", caption: "Affected batches", noun: ["batch", "batches"],
    rows: answer.affected, columns: AFFECTED_COLUMNS, pageSize: PAGE_SIZE,
    filters: [{
      id: "status-filter", param: "a_status", label: "Status", all: "All statuses",
      options: statuses.map((s) => ({ value: s, label: `${statusOf(s).symbol} ${statusOf(s).words}` })),
      matches: (row, value) => row.status === value,
    }],
  });
  const intro = el("p", { class: "note" }, "Depth 0 is the batch itself; depth 1 was made from it, depth 2 from those, and so on.");
  return { node: section("affected", "Affected batches", table, intro), update: table.update };
}

/** Every shipment of an affected batch; URL parameters s_sort, s_q, s_country, s_page. */
export function shipmentsSection(answer) {
  const codes = [...new Set(answer.shipments.map((s) => s.to_country))];
  const byName = codes.map((code) => ({ value: code, label: `${countryName(code)} (${code})` }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const table = dataTable({
    id: "shipments", prefix: "s_", caption: "Shipments", noun: ["shipment", "shipments"],
    rows: answer.shipments, columns: SHIPMENT_COLUMNS, pageSize: PAGE_SIZE,
    filters: [{
      id: "country-filter", param: "s_country", label: "Country", all: "All countries",
      options: byName, matches: (row, value) => row.to_country === value,
    }],
  });
  return { node: section("shipments", "Shipments", table, null), update: table.update };
}
