// A table of an answer's rows that the reader sorts, filters and pages. Every choice is written to
// the URL first and the table redraws from the URL, so a copied link, a reload and the back button
// all show the same view. Only the rows of one page are in the DOM: 2,000 shipments stay quick.
import { el, number, view } from "./common.js";
import { filterEntries, filterTerms, nextSort, pageSlice, parseSort, sortEntries } from "./recall-rows.js";

// Typing writes the URL once it pauses: one history entry replaced, not one per key.
const TYPING_PAUSE_MS = 150;

/**
 * A sortable, filterable, paged table.
 * @param {object} spec `id` (the DOM id prefix), `prefix` (of its URL parameters), `caption`,
 *   `noun` ([one, many]), `rows`, `columns` ({key, label, numeric, sortValue, text, cell}),
 *   `pageSize`, `filters` (select filters: {id, param, label, all, options, matches}),
 *   `searchable` (a text filter box, default true).
 * @returns {{node: Element, update: () => void}} `update` redraws from the URL.
 */
export function dataTable(spec) {
  const params = { sort: `${spec.prefix}sort`, q: `${spec.prefix}q`, page: `${spec.prefix}page` };
  const entries = spec.rows.map((row) => ({ row, text: searchText(spec.columns, row) }));
  const head = tableHead(spec.columns, (key) => view.set({ [params.sort]: nextSort(view.get(params.sort), key), [params.page]: "" }));
  const body = el("tbody");
  const tools = toolBar(spec, params);
  const pager = pagerBar(spec, params);
  const node = el("div", { class: "data-table" }, tools.node, pager.node,
    el("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": spec.caption },
      el("table", {}, el("caption", { class: "vh" }, spec.caption), head.node, body)));
  const chosen = memoOrder(entries, spec);

  function update() {
    tools.sync();
    const order = chosen(view.get(params.sort), view.get(params.q), tools.selectValues());
    const slice = pageSlice(order, Number.parseInt(view.get(params.page), 10), spec.pageSize);
    head.show(parseSort(view.get(params.sort)));
    body.replaceChildren(...bodyRows(spec.columns, slice.rows, entries.length ? "No rows match these filters." : "None."));
    pager.show(slice, order.length, entries.length);
  }
  return { node, update };
}

/** What the text filter looks through: every column's words, in lower case, computed once. */
function searchText(columns, row) {
  return columns.map((c) => c.text(row)).join(" \u0001 ").toLowerCase();
}

/** The filtered and sorted entries, kept while only the page changes. */
function memoOrder(entries, spec) {
  let lastKey = null;
  let last = entries;
  return (sort, q, selects) => {
    const key = JSON.stringify([sort, q, selects.map((s) => s.value)]);
    if (key === lastKey) return last;
    const { key: column, descending } = parseSort(sort);
    const filtered = filterEntries(entries, filterTerms(q), selects);
    last = sortEntries(filtered, spec.columns.find((c) => c.key === column), descending);
    lastKey = key;
    return last;
  };
}

function tableHead(columns, onSort) {
  const cells = columns.map((column) => {
    const mark = el("span", { class: "sort-mark", "aria-hidden": "true" });
    const button = el("button", { type: "button", "data-sort": column.key, onclick: () => onSort(column.key) }, column.label, mark);
    return { column, mark, th: el("th", { scope: "col", class: column.numeric ? "num" : null }, button) };
  });
  return {
    node: el("thead", {}, el("tr", {}, cells.map((c) => c.th))),
    show({ key, descending }) {
      for (const { column, mark, th } of cells) {
        const sorted = column.key === key;
        if (sorted) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        else th.removeAttribute("aria-sort");
        mark.textContent = sorted ? (descending ? "▼" : "▲") : "↕";
        th.classList.toggle("sorted", sorted);
      }
    },
  };
}

function bodyRows(columns, entries, emptyWords) {
  if (!entries.length) return [el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, emptyWords))];
  return entries.map(({ row }) => el("tr", {}, columns.map((c) =>
    el("td", { class: c.numeric ? "num" : null }, c.cell ? c.cell(row) : c.text(row)))));
}

/** The text box and select filters above the table; they write the URL and follow it. */
function toolBar(spec, params) {
  const selects = (spec.filters || []).map((filter) => selectFilter(filter, params));
  const search = spec.searchable === false ? null : searchBox(spec, params);
  const controls = [search?.node, ...selects.map((s) => s.node)].filter(Boolean);
  return {
    node: controls.length ? el("div", { class: "table-tools" }, controls) : null,
    sync() {
      search?.sync();
      for (const s of selects) s.sync();
    },
    // The selects' own values after `sync`: a URL value that no option offers filters nothing.
    selectValues: () => selects.map((s) => ({ filter: s.filter, value: s.value() })),
  };
}

function searchBox(spec, params) {
  const input = el("input", { type: "search", id: `${spec.id}-filter`, autocomplete: "off", spellcheck: "false" });
  let pending = null;
  input.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      view.set({ [params.q]: input.value.trim(), [params.page]: "" }, { replace: true });
    }, TYPING_PAUSE_MS);
  });
  return {
    node: el("div", { class: "field" }, el("label", { for: input.id }, `Filter ${spec.noun[1]}`), input),
    // While a pause is pending the box is ahead of the URL: leave what the reader is typing alone.
    sync() {
      if (pending === null && input.value.trim() !== view.get(params.q)) input.value = view.get(params.q);
    },
  };
}

function selectFilter(filter, params) {
  const select = el("select", { id: filter.id },
    el("option", { value: "" }, filter.all),
    filter.options.map((o) => el("option", { value: o.value }, o.label)));
  select.addEventListener("change", () => view.set({ [filter.param]: select.value, [params.page]: "" }));
  return {
    filter,
    node: el("div", { class: "field" }, el("label", { for: filter.id }, filter.label), select),
    sync() {
      select.value = view.get(filter.param);
      if (select.value !== view.get(filter.param)) select.value = ""; // a value no row has: show all
    },
    value: () => select.value,
  };
}

/** "Showing X of Y" and the previous/next buttons of a long table. */
function pagerBar(spec, params) {
  const count = el("p", { id: `${spec.id}-count`, class: "count", role: "status" });
  const where = el("span", { id: `${spec.id}-page`, class: "page-of" });
  const goTo = (page) => view.set({ [params.page]: page > 1 ? String(page) : "" });
  let current = 1;
  const prev = el("button", { type: "button", id: `${spec.id}-prev`, onclick: () => goTo(current - 1) }, "‹ Previous");
  const next = el("button", { type: "button", id: `${spec.id}-next`, onclick: () => goTo(current + 1) }, "Next ›");
  const pages = el("div", { class: "pager", role: "group", "aria-label": `Pages of ${spec.caption.toLowerCase()}` }, prev, where, next);
  return {
    node: el("div", { class: "table-status" }, count, pages),
    show(slice, matching, total) {
      current = slice.page;
      say(count, `Showing ${number(matching)} of ${number(total)} ${total === 1 ? spec.noun[0] : spec.noun[1]}`);
      pages.hidden = slice.pages <= 1;
      where.textContent = `Page ${number(slice.page)} of ${number(slice.pages)} (rows ${number(matching ? slice.start + 1 : 0)}–${number(slice.start + slice.rows.length)})`;
      keepFocus(prev, next, slice);
    },
  };
}

/** Change a status region's words only when they change: rewriting the same words re-announces them. */
function say(region, words) {
  if (region.textContent !== words) region.textContent = words;
}

/** A button that became disabled drops the keyboard's focus: hand it to the other one. */
function keepFocus(prev, next, slice) {
  const focused = document.activeElement;
  prev.disabled = slice.page <= 1;
  next.disabled = slice.page >= slice.pages;
  if (focused === prev && prev.disabled && !next.disabled) next.focus();
  if (focused === next && next.disabled && !prev.disabled) prev.focus();
}
