// The table rows without the DOM: sorting, filtering and paging as the recall page's tables use them.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseSort, nextSort, sortEntries, filterTerms, filterEntries, pageSlice } from "../src/recall-rows.js";

/** Entries as the table builds them: the row and its lowercased search text. */
function entriesOf(values) {
  return values.map((value, index) => ({ row: { id: index, value }, text: String(value ?? "").toLowerCase() }));
}
const byValue = { sortValue: (row) => row.value };
const valuesOf = (entries) => entries.map((entry) => entry.row.value);
const idsOf = (entries) => entries.map((entry) => entry.row.id);
const isBlank = (value) => value === null || value === undefined || value === "" || Number.isNaN(value);

describe("parseSort", () => {
  test("an empty sort keeps the API's order and is not descending", () => {
    assert.deepEqual(parseSort(""), { key: "", descending: false });
    assert.deepEqual(parseSort(undefined), { key: "", descending: false });
  });

  test("a bare column name sorts that column ascending", () => {
    assert.deepEqual(parseSort("quantity"), { key: "quantity", descending: false });
  });

  test("a leading minus sorts the column after it descending", () => {
    assert.deepEqual(parseSort("-to_country"), { key: "to_country", descending: true });
  });
});

describe("nextSort", () => {
  test("a click on an unsorted column sorts it ascending", () => {
    assert.equal(nextSort("", "quantity"), "quantity");
  });

  test("a click on the column sorted ascending flips it to descending", () => {
    assert.equal(nextSort("quantity", "quantity"), "-quantity");
  });

  test("a click on the column sorted descending flips it back to ascending", () => {
    assert.equal(nextSort("-quantity", "quantity"), "quantity");
  });

  test("a click on another column sorts that one ascending whatever the current direction", () => {
    assert.equal(nextSort("quantity", "batch_id"), "batch_id");
    assert.equal(nextSort("-quantity", "batch_id"), "batch_id");
  });

  test("every sort it writes reads back as the column clicked", () => {
    for (const current of ["", "quantity", "-quantity", "unit", "-unit"]) {
      assert.equal(parseSort(nextSort(current, "quantity")).key, "quantity");
    }
  });
});

describe("sortEntries", () => {
  test("without a column the entries stay in the API's order", () => {
    const entries = entriesOf([3, 1, 2]);
    assert.deepEqual(idsOf(sortEntries(entries, null, false)), idsOf(entries));
  });

  test("numbers sort by size, not by their digits, in both directions", () => {
    const numbers = [10, 9, 100, 2, 0.5, -3, 25];
    const ascending = [...numbers].sort((a, b) => a - b);
    assert.deepEqual(valuesOf(sortEntries(entriesOf(numbers), byValue, false)), ascending);
    assert.deepEqual(valuesOf(sortEntries(entriesOf(numbers), byValue, true)), [...ascending].reverse());
  });

  test("text sorts in natural order, so ORG-R-9 comes before ORG-R-10", () => {
    const ids = ["ORG-R-10", "ORG-R-9", "ORG-R-100", "ORG-R-1", "ORG-R-21"];
    const numberOf = (id) => Number(id.split("-").pop());
    const natural = [...ids].sort((a, b) => numberOf(a) - numberOf(b));
    assert.deepEqual(valuesOf(sortEntries(entriesOf(ids), byValue, false)), natural);
    assert.deepEqual(valuesOf(sortEntries(entriesOf(ids), byValue, true)), [...natural].reverse());
  });

  test("text sorts without regard to case", () => {
    const words = ["banana", "Apple", "cherry", "apricot"];
    const folded = [...words].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    assert.deepEqual(valuesOf(sortEntries(entriesOf(words), byValue, false)), folded);
  });

  test("blank values go last when sorting ascending, in their original order", () => {
    const values = [3, null, 1, "", undefined, NaN, 2];
    const sorted = sortEntries(entriesOf(values), byValue, false);
    const filled = values.filter((v) => !isBlank(v)).sort((a, b) => a - b);
    const blankIds = values.map((v, i) => [v, i]).filter(([v]) => isBlank(v)).map(([, i]) => i);
    assert.deepEqual(valuesOf(sorted).slice(0, filled.length), filled);
    assert.deepEqual(idsOf(sorted).slice(filled.length), blankIds);
  });

  test("blank values go last when sorting descending too, in their original order", () => {
    const values = [null, 3, "", 1, undefined, 2, NaN];
    const sorted = sortEntries(entriesOf(values), byValue, true);
    const filled = values.filter((v) => !isBlank(v)).sort((a, b) => b - a);
    const blankIds = values.map((v, i) => [v, i]).filter(([v]) => isBlank(v)).map(([, i]) => i);
    assert.deepEqual(valuesOf(sorted).slice(0, filled.length), filled);
    assert.deepEqual(idsOf(sorted).slice(filled.length), blankIds);
  });

  test("equal numbers keep the API's order in both directions (the sort is stable)", () => {
    const values = [2, 1, 2, 1, 2, 3, 1];
    const distinct = [...new Set(values)].sort((a, b) => a - b);
    const grouped = (order) => order.flatMap((v) => values.map((w, i) => [w, i]).filter(([w]) => w === v).map(([, i]) => i));
    assert.deepEqual(idsOf(sortEntries(entriesOf(values), byValue, false)), grouped(distinct));
    assert.deepEqual(idsOf(sortEntries(entriesOf(values), byValue, true)), grouped([...distinct].reverse()));
  });

  test("texts differing only in case tie and keep the API's order in both directions", () => {
    const values = ["lot-A", "LOT-B", "LOT-a", "lot-b", "Lot-A"];
    const distinct = [...new Set(values.map((v) => v.toLowerCase()))].sort();
    const grouped = (order) => order.flatMap((v) => values.map((w, i) => [w.toLowerCase(), i]).filter(([w]) => w === v).map(([, i]) => i));
    assert.deepEqual(idsOf(sortEntries(entriesOf(values), byValue, false)), grouped(distinct));
    assert.deepEqual(idsOf(sortEntries(entriesOf(values), byValue, true)), grouped([...distinct].reverse()));
  });

  test("sorting leaves the given entries untouched", () => {
    const entries = entriesOf([3, 1, 2]);
    const before = idsOf(entries);
    sortEntries(entries, byValue, false);
    assert.deepEqual(idsOf(entries), before);
  });
});

describe("filterTerms", () => {
  test("a filter text splits into lowercased words, extra spaces dropped", () => {
    const text = "  Red   LOT-7\tDE ";
    assert.deepEqual(filterTerms(text), text.trim().split(/\s+/).map((w) => w.toLowerCase()));
  });

  test("an empty or blank filter text has no terms", () => {
    assert.deepEqual(filterTerms(""), []);
    assert.deepEqual(filterTerms("   "), []);
  });
});

describe("filterEntries", () => {
  const rows = [
    { batch: "TOY-1", country: "DE" },
    { batch: "TOY-2", country: "FR" },
    { batch: "PEN-1", country: "DE" },
  ];
  const entries = rows.map((row) => ({ row, text: `${row.batch} ${row.country}`.toLowerCase() }));
  const country = { matches: (row, value) => row.country === value };

  test("without terms or chosen selects every entry matches", () => {
    assert.deepEqual(filterEntries(entries, [], []), entries);
  });

  test("every term must occur in an entry's text for it to match", () => {
    const matched = filterEntries(entries, filterTerms("toy DE"), []);
    assert.deepEqual(matched.map((e) => e.row), rows.filter((r) => r.batch.startsWith("TOY") && r.country === "DE"));
  });

  test("a term occurring in no entry matches nothing", () => {
    assert.deepEqual(filterEntries(entries, filterTerms("toy zz"), []), []);
  });

  test("a chosen select keeps only the rows its filter matches", () => {
    const matched = filterEntries(entries, [], [{ filter: country, value: "DE" }]);
    assert.deepEqual(matched.map((e) => e.row), rows.filter((r) => r.country === "DE"));
  });

  test("a select with no value chosen filters nothing", () => {
    assert.deepEqual(filterEntries(entries, [], [{ filter: country, value: "" }]), entries);
  });

  test("terms and selects must all hold together", () => {
    const matched = filterEntries(entries, filterTerms("pen"), [{ filter: country, value: "DE" }]);
    assert.deepEqual(matched.map((e) => e.row), rows.filter((r) => r.batch.startsWith("PEN") && r.country === "DE"));
    assert.deepEqual(filterEntries(entries, filterTerms("pen"), [{ filter: country, value: "FR" }]), []);
  });
});

describe("pageSlice", () => {
  const entries = Array.from({ length: 25 }, (_, i) => i);
  const size = 10;

  test("a page shows its rows and says how many pages there are", () => {
    const slice = pageSlice(entries, 2, size);
    assert.equal(slice.pages, Math.ceil(entries.length / size));
    assert.equal(slice.page, 2);
    assert.equal(slice.start, size);
    assert.deepEqual(slice.rows, entries.slice(size, 2 * size));
  });

  test("the last page holds the rows left over", () => {
    const last = Math.ceil(entries.length / size);
    assert.deepEqual(pageSlice(entries, last, size).rows, entries.slice((last - 1) * size));
  });

  test("a page past the end shows the last page", () => {
    const last = Math.ceil(entries.length / size);
    const slice = pageSlice(entries, last + 5, size);
    assert.equal(slice.page, last);
    assert.deepEqual(slice.rows, entries.slice((last - 1) * size));
  });

  test("a missing, zero or negative page shows the first page", () => {
    for (const page of [undefined, 0, -3]) {
      const slice = pageSlice(entries, page, size);
      assert.equal(slice.page, 1);
      assert.deepEqual(slice.rows, entries.slice(0, size));
    }
  });

  test("no entries still make one empty page", () => {
    assert.deepEqual(pageSlice([], 3, size), { page: 1, pages: 1, start: 0, rows: [] });
  });

  test("the pages together show every entry once, in order", () => {
    const { pages } = pageSlice(entries, 1, size);
    const shown = Array.from({ length: pages }, (_, i) => pageSlice(entries, i + 1, size).rows).flat();
    assert.deepEqual(shown, entries);
  });
});
