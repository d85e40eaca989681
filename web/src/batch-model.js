// The lineage around one batch, joined from the API's trace (upstream) and recall (downstream)
// answers: every batch with its side, depth, status and report problems, the production edges
// between them, and the batches grouped into levels (side + depth). Pure: no DOM, no fetching.
import { trustWords } from "./common.js";

export const UP = "u";
export const DOWN = "d";
export const FOCAL = "f";

/** Worst first: the order a level's summary and a group's frame use. */
export const SEVERITY = ["failed", "at_risk", "untested", "clear"];

/** A level's key as the URL writes it: `u5` is depth 5 upstream, `d2` depth 2 downstream. */
export function levelKey(side, depth) {
  return side === FOCAL ? FOCAL : `${side}${depth}`;
}

/** The graph column of a batch or level: inputs to the left (negative), products to the right. */
export function columnOf({ side, depth }) {
  return side === UP ? -depth : side === DOWN ? depth : 0;
}

/** Words for where a level sits: "depth 2 upstream". */
export function levelWords({ side, depth }) {
  if (side === FOCAL) return "this batch";
  return `depth ${depth} ${side === UP ? "upstream" : "downstream"}`;
}

/**
 * The lineage of the page's batch.
 *
 * @param {object} trace the `/trace` answer (the batch, its inputs, their links and reports)
 * @param {object} recall the `/recall` answer (the batch's products and their productions)
 * @returns {{focal: string, nodes: Map, edges: Array, reports: Array, levels: Map}}
 */
export function lineageOf(trace, recall) {
  const nodes = new Map();
  addNode(nodes, { id: trace.batch_id, side: FOCAL, depth: 0, status: trace.status, product: trace.production?.product_id });
  for (const batch of trace.upstream) addNode(nodes, nodeOf(batch, UP));
  for (const batch of trace.downstream) addNode(nodes, nodeOf(batch, DOWN));
  // The recall answer lists the same descendants; it only fills in any the trace did not give.
  for (const batch of recall.affected) if (batch.depth > 0) addNode(nodes, nodeOf(batch, DOWN));
  const reports = uniqueBy([...trace.reports, ...recall.reports], (r) => r.event_id);
  for (const report of reports) markReport(nodes.get(report.batch_id), report);
  const edges = edgesOf(nodes, [...upstreamPairs(trace.links), ...downstreamPairs(recall.productions)]);
  return { focal: trace.batch_id, nodes, edges, reports, levels: levelsOf(nodes) };
}

function nodeOf(batch, side) {
  return { id: batch.batch_id, side, depth: batch.depth, status: batch.status, product: batch.product_id };
}

// The first answer for a batch wins: a batch seen on both sides (a cycle in the data) keeps one place.
function addNode(nodes, node) {
  if (nodes.has(node.id)) return;
  nodes.set(node.id, { ...node, product: node.product || "", level: levelKey(node.side, node.depth), marks: [] });
}

/**
 * The mark a report leaves on its batch's node, or none when it passes and counts: `short` fits
 * on the node, `words` are for its accessible name.
 */
export function reportMark(report) {
  if (!report.counts) {
    const verdict = report.verdict === "fail" ? "failing report" : "report";
    return { kind: "uncounted", symbol: "⚠", short: whyNotCounted(report), words: `${verdict} not counted: ${trustWords(report)}` };
  }
  if (report.verdict === "fail") return { kind: "fails", symbol: "✘", short: "report fails", words: "failing report" };
  return null;
}

function whyNotCounted(report) {
  if (report.outcome !== "authentic" && report.outcome !== "unsigned") return "not authentic";
  return report.acceptance.replaceAll("_", " ");
}

function markReport(node, report) {
  const mark = reportMark(report);
  if (node && mark) node.marks.push(mark);
}

function* upstreamPairs(links) {
  for (const link of links) yield [link.parent, link.child];
}

function* downstreamPairs(productions) {
  for (const production of productions) {
    for (const input of production.inputs) yield [input.batch_id, production.batch_id];
  }
}

// Inputs of a product that are outside this lineage (another supplier's lot) have no node: no edge.
function edgesOf(nodes, pairs) {
  const seen = new Set();
  const edges = [];
  for (const [from, to] of pairs) {
    const key = `${from}\n${to}`;
    if (from === to || seen.has(key) || !nodes.has(from) || !nodes.has(to)) continue;
    seen.add(key);
    edges.push({ from, to });
  }
  return edges;
}

function levelsOf(nodes) {
  const levels = new Map();
  for (const node of nodes.values()) {
    let level = levels.get(node.level);
    if (!level) levels.set(node.level, (level = { key: node.level, side: node.side, depth: node.depth, members: [] }));
    level.members.push(node);
  }
  return levels;
}

function uniqueBy(items, keyOf) {
  const byKey = new Map();
  for (const item of items) if (!byKey.has(keyOf(item))) byKey.set(keyOf(item), item);
  return [...byKey.values()];
}

/** How many of these batches have each status: `{failed: 1, at_risk: 35, …}`. */
export function statusCounts(members) {
  const counts = Object.fromEntries(SEVERITY.map((status) => [status, 0]));
  for (const member of members) counts[member.status] = (counts[member.status] ?? 0) + 1;
  return counts;
}

/** The worst status among these counts (failed before at risk before untested before clear). */
export function worstStatus(counts) {
  return SEVERITY.find((status) => counts[status] > 0) ?? "untested";
}
