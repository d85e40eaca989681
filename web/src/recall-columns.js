// The columns of the recall page's tables: what each shows, what the text filter reads in it, and
// the value it sorts by (numbers numerically, times by time, statuses by severity).
import { batchHref, countryName, el, number, statusBadge, statusOf, when } from "./common.js";

// Worst first, so sorting by status ascending puts the failed lots on top.
const STATUS_RANK = { failed: 0, at_risk: 1, untested: 2, clear: 3 };
const NONE = "—";

function textColumn(key, label) {
  return { key, label, sortValue: (row) => row[key] ?? "", text: (row) => row[key] ?? "" };
}

function numberColumn(key, label) {
  return {
    key, label, numeric: true,
    sortValue: (row) => row[key],
    text: (row) => number(row[key]),
    cell: (row) => (row[key] === null || row[key] === undefined ? NONE : number(row[key])),
  };
}

function batchColumn(key, label) {
  return { ...textColumn(key, label), cell: (row) => el("a", { href: batchHref(row[key]) }, row[key]) };
}

/** A text column where "" means not recorded or not shown to this reader: a dash, not a blank. */
function maybeColumn(key, label) {
  return { ...textColumn(key, label), cell: (row) => row[key] || NONE };
}

const status = {
  key: "status", label: "Status",
  sortValue: (row) => STATUS_RANK[row.status] ?? 9,
  text: (row) => `${statusOf(row.status).words} ${row.status}`,
  cell: (row) => statusBadge(row.status),
};

function countryColumn(key, label) {
  return {
    key, label,
    sortValue: (row) => countryName(row[key]),
    text: (row) => `${countryName(row[key])} ${row[key]}`,
    cell: (row) => [countryName(row[key]), " ", el("span", { class: "code" }, row[key])],
  };
}

const shippedAt = {
  key: "occurred_at", label: "Shipped",
  sortValue: (row) => Date.parse(row.occurred_at),
  text: (row) => when(row.occurred_at),
  cell: (row) => el("time", { datetime: row.occurred_at }, when(row.occurred_at)),
};

export const AFFECTED_COLUMNS = [
  batchColumn("batch_id", "Batch"), numberColumn("depth", "Depth"), status,
  maybeColumn("product_id", "Product"), numberColumn("quantity", "Quantity"), maybeColumn("unit", "Unit"),
];

export const SHIPMENT_COLUMNS = [
  textColumn("shipment_id", "Shipment"), batchColumn("batch_id", "Batch"),
  numberColumn("quantity", "Quantity"), textColumn("unit", "Unit"),
  textColumn("from_org", "From"), textColumn("to_org", "To"), maybeColumn("to_location", "Location"),
  countryColumn("to_country", "Country"), shippedAt,
];

export const COUNTRY_TOTAL_COLUMNS = [
  countryColumn("country", "Country"), textColumn("unit", "Unit"),
  numberColumn("quantity", "Quantity"), numberColumn("shipments", "Shipments"),
];

export const RECIPIENT_TOTAL_COLUMNS = [
  textColumn("to_org", "Recipient"), textColumn("unit", "Unit"),
  numberColumn("quantity", "Quantity"), numberColumn("shipments", "Shipments"),
];
