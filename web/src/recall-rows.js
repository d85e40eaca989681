// The rows of a table view, without the DOM: which rows match the filters, in which order, and which
// of them fall on the page shown. Pure functions, so a sort or a filter never waits on the page.

/** How a sort is written in the URL: `quantity` ascending, `-quantity` descending, "" the API's order. */
export function parseSort(text) {
  if (!text) return { key: "", descending: false };
  return text.startsWith("-") ? { key: text.slice(1), descending: true } : { key: text, descending: false };
}

/** The sort after a click on a column's header: ascending first, then it flips. */
export function nextSort(current, key) {
  const { key: sorted, descending } = parseSort(current);
  return sorted === key && !descending ? `-${key}` : key;
}

const TEXT = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Order two sort values: numbers by size, text as a reader would (ORG-R-9 before ORG-R-10). */
function compareValues(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return TEXT.compare(String(a), String(b));
}

function isBlank(value) {
  return value === null || value === undefined || value === "" || Number.isNaN(value);
}

/**
 * The entries sorted by one column. Blank values go last in both directions, since a missing
 * quantity is neither the least nor the most; ties keep the API's order (the sort is stable).
 */
export function sortEntries(entries, column, descending) {
  if (!column) return entries;
  const sign = descending ? -1 : 1;
  const keyed = entries.map((entry) => ({ entry, value: column.sortValue(entry.row) }));
  keyed.sort((x, y) => {
    const xBlank = isBlank(x.value);
    const yBlank = isBlank(y.value);
    if (xBlank || yBlank) return Number(xBlank) - Number(yBlank);
    return sign * compareValues(x.value, y.value);
  });
  return keyed.map((k) => k.entry);
}

/** The words of a text filter: every one must occur somewhere in the row, in any case. */
export function filterTerms(text) {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/** The entries matching the text terms and every chosen select filter. */
export function filterEntries(entries, terms, selects) {
  return entries.filter((entry) =>
    terms.every((term) => entry.text.includes(term)) &&
    selects.every(({ filter, value }) => !value || filter.matches(entry.row, value)));
}

/** The slice of one page (1-based; a page past the end shows the last one). */
export function pageSlice(entries, page, size) {
  const pages = Math.max(1, Math.ceil(entries.length / size));
  const current = Math.min(Math.max(1, page || 1), pages);
  const start = (current - 1) * size;
  return { page: current, pages, start, rows: entries.slice(start, start + size) };
}
