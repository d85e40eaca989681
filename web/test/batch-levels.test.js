// What the graph shows of a lineage: big levels collapse into one group node unless expanded.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { COLLAPSE_OVER, expandedText, isCollapsible, parseExpanded, shownGraph } from "../src/batch-levels.js";
import { DOWN, FOCAL, UP, levelKey, lineageOf, statusCounts, worstStatus } from "../src/batch-model.js";

// Trace and recall answers in the shape the API returns (query/answers.py), cut to what matters here.
const related = (batchId, depth, status) => ({ batch_id: batchId, depth, status, product_id: `P-${batchId}` });
const link = (parent, child) => ({ event_id: `link-${parent}-${child}`, parent, child, input_quantity: 1, input_unit: "kg",
  product_id: `P-${child}`, output_quantity: 1, output_unit: "kg", org_id: "ORG-1", site: "S-1", occurred_at: null });
const production = (batchId, inputs) => ({ event_id: `prod-${batchId}`, batch_id: batchId, product_id: `P-${batchId}`,
  quantity: 1, unit: "kg", inputs: inputs.map((input) => ({ batch_id: input, quantity: 1, unit: "kg" })) });
const report = (eventId, batchId, verdict, counts) => ({ report_id: `R-${eventId}`, event_id: eventId, lab_id: "LAB-1",
  batch_id: batchId, verdict, outcome: "authentic", acceptance: counts ? "accredited" : "lab_unknown", counts });
const withheld = { batches: 0, productions: 0, shipments: 0, reports: 0 };

const ids = (prefix, count) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`);
const STATUSES = ["clear", "at_risk", "untested", "failed"];

// F is the page's batch. One input level one batch too many to show (U1-…), all going into F, with
// one lot U2 that went into the first five of them and one U1 batch that went into another. One
// product level of exactly as many batches as may be shown (D1-…), all made from F.
const wide = ids("U1", COLLAPSE_OVER + 1);
const full = ids("D1", COLLAPSE_OVER);
const upstream = [...wide.map((id, i) => related(id, 1, STATUSES[i % STATUSES.length])), related("U2", 2, "at_risk")];
const links = [...wide.map((id) => link(id, "F")), ...wide.slice(0, 5).map((id) => link("U2", id)), link(wide[0], wide[1])];
const reports = [report("e-fail", wide[3], "fail", true), report("e-odd", wide[4], "pass", false),
  report("e-odd2", wide[5], "fail", false), report("e-pass", wide[6], "pass", true)];
const trace = { batch_id: "F", status: "at_risk", risk_sources: [], production: null, upstream, downstream: [], links,
  reports, shipments: [], completeness: {}, withheld };
const recall = { batch_id: "F", status: "at_risk", affected: [related("F", 0, "at_risk"), ...full.map((id) => related(id, 1, "at_risk"))],
  productions: full.map((id) => production(id, ["F"])), shipments: [], reports: [], withheld };
const lineage = lineageOf(trace, recall);

const wideKey = levelKey(UP, 1);
const fullKey = levelKey(DOWN, 1);
const edgeKeys = (edges) => edges.map(({ from, to }) => `${from}->${to}`).sort();

describe("parseExpanded and expandedText", () => {
  test("the URL's expand value reads as the set of level keys it names", () => {
    assert.deepEqual(parseExpanded("u5,d2"), new Set(["u5", "d2"]));
  });

  test("words that are not level keys are dropped, spaces around keys ignored", () => {
    assert.deepEqual(parseExpanded(" u5 , x, d0, f, u05, d12,,u-1, U3 "), new Set(["u5", "d12"]));
  });

  test("an empty expand value expands nothing", () => {
    assert.deepEqual(parseExpanded(""), new Set());
  });

  test("a set of level keys written and read back is the same set", () => {
    for (const keys of [[], ["u1"], ["d2", "u10", "u3"], ["u1", "d1", "u2", "d20"]]) {
      assert.deepEqual(parseExpanded(expandedText(new Set(keys))), new Set(keys));
    }
  });

  test("the same keys are written the same way whatever order they were opened in", () => {
    const keys = ["u3", "d2", "u10", "d1"];
    const reversed = [...keys].reverse();
    assert.equal(expandedText(new Set(keys)), expandedText(new Set(reversed)));
    assert.equal(expandedText(parseExpanded(expandedText(new Set(keys)))), expandedText(new Set(keys)));
  });
});

describe("isCollapsible", () => {
  const members = (count) => ids("B", count).map((id) => ({ id }));

  test("a level of more than COLLAPSE_OVER batches collapses, one of COLLAPSE_OVER does not", () => {
    assert.equal(isCollapsible({ side: UP, depth: 1, members: members(COLLAPSE_OVER + 1) }), true);
    assert.equal(isCollapsible({ side: DOWN, depth: 1, members: members(COLLAPSE_OVER + 1) }), true);
    assert.equal(isCollapsible({ side: UP, depth: 1, members: members(COLLAPSE_OVER) }), false);
  });

  test("the page's own batch never collapses, however its level is filled", () => {
    assert.equal(isCollapsible({ side: FOCAL, depth: 0, members: members(COLLAPSE_OVER + 1) }), false);
  });
});

describe("shownGraph", () => {
  test("a level of more than COLLAPSE_OVER batches stands as one group node", () => {
    const { items } = shownGraph(lineage, new Set());
    const groups = [...items.values()].filter((item) => item.kind === "group");
    assert.deepEqual(groups.map((g) => g.key), [`g:${wideKey}`]);
    for (const id of wide) assert.ok(!items.has(`b:${id}`), `${id} is drawn on its own`);
  });

  test("the group counts its batches, their statuses and their report problems", () => {
    const group = shownGraph(lineage, new Set()).items.get(`g:${wideKey}`);
    const members = upstream.filter((b) => b.depth === 1);
    const onWide = reports.filter((r) => wide.includes(r.batch_id));
    assert.equal(group.count, wide.length);
    assert.equal(group.side, UP);
    assert.equal(group.depth, 1);
    assert.deepEqual(group.counts, statusCounts(members));
    assert.equal(group.worst, worstStatus(statusCounts(members)));
    assert.equal(group.fails, onWide.filter((r) => r.counts && r.verdict === "fail").length);
    assert.equal(group.uncounted, onWide.filter((r) => !r.counts).length);
  });

  test("a level of COLLAPSE_OVER batches, and the page's batch, are drawn batch by batch", () => {
    const { items } = shownGraph(lineage, new Set());
    for (const id of [...full, "F", "U2"]) assert.equal(items.get(`b:${id}`)?.kind, "batch", id);
    assert.ok(!items.has(`g:${fullKey}`));
  });

  test("an expanded level is drawn batch by batch, whatever its size", () => {
    const { items } = shownGraph(lineage, parseExpanded(wideKey));
    assert.ok(!items.has(`g:${wideKey}`));
    for (const id of wide) assert.equal(items.get(`b:${id}`)?.kind, "batch", id);
    assert.equal(items.size, lineage.nodes.size);
  });

  test("expanding another level leaves the big one collapsed", () => {
    const { items } = shownGraph(lineage, parseExpanded(`${fullKey},u9`));
    assert.ok(items.has(`g:${wideKey}`));
  });

  test("every batch stands for itself or for its collapsed level's group", () => {
    const { items, standsFor } = shownGraph(lineage, new Set());
    assert.deepEqual([...standsFor.keys()].sort(), [...lineage.nodes.keys()].sort());
    for (const [id, key] of standsFor) {
      assert.equal(key, wide.includes(id) ? `g:${wideKey}` : `b:${id}`, id);
      assert.ok(items.has(key), key);
    }
  });

  test("edges into and out of collapsed batches go to their group, once each", () => {
    const { edges } = shownGraph(lineage, new Set());
    const group = `g:${wideKey}`;
    // U2 went into five members of the group and every member into F: one edge each way.
    const expected = [`b:U2->${group}`, `${group}->b:F`, ...full.map((id) => `b:F->b:${id}`)];
    assert.deepEqual(edgeKeys(edges), expected.sort());
  });

  test("an edge between two batches of one collapsed level is not drawn", () => {
    const { edges } = shownGraph(lineage, new Set());
    assert.ok(edges.every(({ from, to }) => from !== to));
  });

  test("with the level expanded every edge of the lineage is drawn between its batches", () => {
    const { edges } = shownGraph(lineage, parseExpanded(wideKey));
    assert.deepEqual(edgeKeys(edges), edgeKeys(lineage.edges.map(({ from, to }) => ({ from: `b:${from}`, to: `b:${to}` }))));
    assert.equal(edges.length, links.length + full.length);
  });
});
