// The lineage around one batch, joined from the trace and recall answers.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  DOWN, FOCAL, SEVERITY, UP, columnOf, levelKey, lineageOf, reportMark, statusCounts, worstStatus,
} from "../src/batch-model.js";

// Small trace and recall answers in the shape the API returns (query/answers.py).

/** A related batch as `upstream`, `downstream` and `affected` list it. */
function related(batchId, depth, status = "untested", productId = `P-${batchId}`) {
  return { batch_id: batchId, depth, status, product_id: productId };
}

/** A production link of the trace: `parent` went into `child`. */
function link(parent, child, eventId = `link-${parent}-${child}`) {
  return { event_id: eventId, parent, child, input_quantity: 1, input_unit: "kg", product_id: `P-${child}`,
    output_quantity: 1, output_unit: "kg", org_id: "ORG-1", site: "S-1", occurred_at: "2026-11-01T00:00:00Z" };
}

/** A production of the recall answer: `batchId` made from the `inputs` batches. */
function production(batchId, inputs) {
  return { event_id: `prod-${batchId}`, batch_id: batchId, product_id: `P-${batchId}`, quantity: 1, unit: "kg",
    org_id: "ORG-1", site: "S-1", occurred_at: "2026-11-02T00:00:00Z",
    inputs: inputs.map((input) => ({ batch_id: input, quantity: 1, unit: "kg" })) };
}

/** A report at the version that counts, with its judgement. */
function report(eventId, batchId, { verdict = "pass", counts = true, outcome = "authentic", acceptance = "accredited" } = {}) {
  return { report_id: `R-${eventId}`, version: 1, event_id: eventId, lab_id: "LAB-1", batch_id: batchId,
    sample_id: "S-1", method: "M-1", verdict, tested_at: "2026-11-03T00:00:00Z", issued_at: "2026-11-03T00:00:00Z",
    measurements: [], outcome, acceptance, counts, lab_registered: true, superseded: [] };
}

const NOTHING = { batches: 0, productions: 0, shipments: 0, reports: 0 };
const COMPLETE = { complete: true, unsourced_batches: [], shipped_without_production: [], unregistered_labs: [] };

/** A `/trace` answer. */
function traceAnswer({ batchId, status = "untested", upstream = [], downstream = [], links = [], reports = [] }) {
  return { batch_id: batchId, as_of: null, status, risk_sources: [], production: null, upstream, downstream, links,
    reports, shipments: [], completeness: COMPLETE, withheld: NOTHING };
}

/** A `/recall` answer. */
function recallAnswer({ batchId, status = "untested", affected = [], productions = [], reports = [] }) {
  return { batch_id: batchId, as_of: null, status, risk_sources: [],
    affected: affected.map((a) => ({ ...a, quantity: 1, unit: "kg" })), productions, shipments: [],
    totals: { by_country: [], by_recipient: [] }, reports, completeness: COMPLETE, withheld: NOTHING };
}

// F is the page's batch. Upstream: U2 went into U1a, U1a and U1b into F (and another supplier's lot
// OUT into U1b). Downstream: F (with OTHER) made D1, D1 made D2 and D3; the trace lists D1 and D2, only
// the recall lists D3. C is in both directions, as a cycle in the data would put it.
const upstream = [related("U1a", 1, "failed"), related("U1b", 1, "clear"), related("U2", 2, "at_risk"), related("C", 2)];
const downstream = [related("D1", 1, "at_risk"), related("D2", 2, "at_risk"), related("C", 1)];
const affected = [related("F", 0, "at_risk"), ...downstream, related("D3", 2, "at_risk")];
const links = [link("U1a", "F"), link("U1b", "F"), link("U2", "U1a"), link("U2", "U1a", "link-again"),
  link("OUT", "U1b"), link("C", "U1b")];
const productions = [production("D1", ["F", "OTHER"]), production("D2", ["D1"]), production("D3", ["D1"])];
const failing = report("e-fail", "U1a", { verdict: "fail" });
const unknownLab = report("e-unknown", "F", { counts: false, acceptance: "lab_unknown" });
const passing = report("e-pass", "D1");
const altered = report("e-altered", "D2", { verdict: "fail", counts: false, outcome: "altered" });
const trace = traceAnswer({ batchId: "F", status: "at_risk", upstream, downstream, links, reports: [failing, unknownLab] });
const recall = recallAnswer({ batchId: "F", status: "at_risk", affected, productions, reports: [failing, passing, altered] });
const lineage = lineageOf(trace, recall);
const inAnswers = new Set([trace.batch_id, ...[...upstream, ...affected].map((b) => b.batch_id)]);

const edgeKeys = (edges) => edges.map(({ from, to }) => `${from}->${to}`).sort();

describe("lineageOf", () => {
  test("the page's batch is the focal node, at column 0", () => {
    const focal = lineage.nodes.get(lineage.focal);
    assert.equal(lineage.focal, trace.batch_id);
    assert.equal(focal.side, FOCAL);
    assert.equal(focal.status, trace.status);
    assert.equal(columnOf(focal), 0);
  });

  test("upstream batches sit at negative columns, as far left as they are deep", () => {
    for (const batch of upstream) {
      const node = lineage.nodes.get(batch.batch_id);
      assert.equal(node.side, UP, batch.batch_id);
      assert.equal(columnOf(node), -batch.depth, batch.batch_id);
    }
  });

  test("downstream batches sit at positive columns, as far right as they are deep", () => {
    for (const batch of affected.filter((a) => a.depth > 0 && !upstream.some((u) => u.batch_id === a.batch_id))) {
      const node = lineage.nodes.get(batch.batch_id);
      assert.equal(node.side, DOWN, batch.batch_id);
      assert.equal(columnOf(node), batch.depth, batch.batch_id);
    }
  });

  test("a descendant only the recall answer lists joins the lineage downstream", () => {
    assert.equal(lineage.nodes.get("D3").side, DOWN);
    assert.equal(lineage.nodes.get("D3").status, "at_risk");
  });

  test("a batch listed both upstream and downstream keeps its upstream place", () => {
    const c = lineage.nodes.get("C");
    assert.equal(c.side, UP);
    assert.equal(c.depth, upstream.find((u) => u.batch_id === "C").depth);
  });

  test("every batch of either answer is one node, and no other batch is", () => {
    assert.deepEqual([...lineage.nodes.keys()].sort(), [...inAnswers].sort());
  });

  test("a node carries its status and product, and its level's key", () => {
    for (const batch of upstream.filter((u) => u.batch_id !== "C")) {
      const node = lineage.nodes.get(batch.batch_id);
      assert.equal(node.status, batch.status);
      assert.equal(node.product, batch.product_id);
      assert.equal(node.level, levelKey(UP, batch.depth));
    }
  });

  test("edges come from the trace's links and the recall's productions, once each", () => {
    const expected = new Set([
      ...links.map((l) => `${l.parent}->${l.child}`),
      ...productions.flatMap((p) => p.inputs.map((i) => `${i.batch_id}->${p.batch_id}`)),
    ].filter((key) => key.split("->").every((id) => inAnswers.has(id))));
    assert.deepEqual(edgeKeys(lineage.edges), [...expected].sort());
  });

  test("an input from outside the lineage draws no edge", () => {
    const ends = lineage.edges.flatMap(({ from, to }) => [from, to]);
    assert.ok(!ends.includes("OUT"));
    assert.ok(!ends.includes("OTHER"));
  });

  test("a report in both answers is listed once", () => {
    const events = lineage.reports.map((r) => r.event_id);
    assert.deepEqual(events.sort(), [...new Set([...trace.reports, ...recall.reports].map((r) => r.event_id))].sort());
  });

  test("each batch carries the marks of its failing and uncounted reports, a repeated report once", () => {
    assert.deepEqual(lineage.nodes.get("U1a").marks.map((m) => m.kind), ["fails"]);
    assert.deepEqual(lineage.nodes.get("F").marks.map((m) => m.kind), ["uncounted"]);
    assert.deepEqual(lineage.nodes.get("D2").marks.map((m) => m.kind), ["uncounted"]);
    assert.deepEqual(lineage.nodes.get("D1").marks, [], "a passing report that counts leaves no mark");
  });

  test("the batches are grouped in levels by side and depth", () => {
    for (const level of lineage.levels.values()) {
      assert.equal(level.key, levelKey(level.side, level.depth));
      for (const member of level.members) assert.equal(member.level, level.key);
    }
    const members = [...lineage.levels.values()].flatMap((level) => level.members.map((m) => m.id));
    assert.deepEqual(members.sort(), [...lineage.nodes.keys()].sort());
    assert.deepEqual(lineage.levels.get(levelKey(UP, 1)).members.map((m) => m.id), ["U1a", "U1b"]);
  });

  test("a lineage without relatives is the focal batch alone", () => {
    const alone = lineageOf(traceAnswer({ batchId: "SOLO", status: "clear" }),
      recallAnswer({ batchId: "SOLO", affected: [related("SOLO", 0, "clear")] }));
    assert.deepEqual([...alone.nodes.keys()], ["SOLO"]);
    assert.deepEqual(alone.edges, []);
    assert.deepEqual([...alone.levels.keys()], [FOCAL]);
  });
});

describe("reportMark", () => {
  test("a passing report that counts leaves no mark", () => {
    assert.equal(reportMark(report("e", "B")), null);
  });

  test("a failing report that counts is marked as failing", () => {
    const mark = reportMark(report("e", "B", { verdict: "fail" }));
    assert.equal(mark.kind, "fails");
    assert.match(mark.words, /failing report/);
  });

  test("a report that does not count is marked as uncounted, saying why in words", () => {
    const mark = reportMark(report("e", "B", { counts: false, acceptance: "method_out_of_scope" }));
    assert.equal(mark.kind, "uncounted");
    assert.equal(mark.short, "method out of scope");
    assert.match(mark.words, /^report not counted: .*method out of scope/);
  });

  test("a failing report that does not count is still marked uncounted, and says it fails", () => {
    const mark = reportMark(report("e", "B", { verdict: "fail", counts: false, acceptance: "accreditation_inactive" }));
    assert.equal(mark.kind, "uncounted");
    assert.match(mark.words, /^failing report not counted/);
  });

  test("a report that is not authentic says so, whatever its lab's accreditation", () => {
    for (const outcome of ["altered", "signature_invalid", "key_revoked"]) {
      const mark = reportMark(report("e", "B", { counts: false, outcome }));
      assert.equal(mark.short, "not authentic", outcome);
      assert.match(mark.words, new RegExp(outcome.replaceAll("_", " ")), outcome);
    }
  });
});

describe("statusCounts and worstStatus", () => {
  const members = ["clear", "at_risk", "clear", "untested", "at_risk", "at_risk"].map((status, i) => ({ id: `B${i}`, status }));

  test("the counts say how many members have each status, every status listed", () => {
    const counts = statusCounts(members);
    for (const status of SEVERITY) assert.equal(counts[status], members.filter((m) => m.status === status).length, status);
  });

  test("no members count zero of every status", () => {
    assert.deepEqual(statusCounts([]), Object.fromEntries(SEVERITY.map((s) => [s, 0])));
  });

  test("the worst status is the first, by severity, that any member has", () => {
    assert.equal(worstStatus(statusCounts(members)), "at_risk");
    assert.equal(worstStatus(statusCounts([...members, { id: "X", status: "failed" }])), "failed");
    assert.equal(worstStatus(statusCounts(members.filter((m) => m.status === "clear"))), "clear");
  });

  test("each status is worse than the ones after it in SEVERITY", () => {
    SEVERITY.forEach((status, i) => {
      const counts = statusCounts(SEVERITY.slice(i).map((s) => ({ status: s })));
      assert.equal(worstStatus(counts), status);
    });
  });

  test("nothing counted reads as untested", () => {
    assert.equal(worstStatus(statusCounts([])), "untested");
  });
});
