// What the graph shows of a lineage: a level with more batches than a reader can scan stands as
// one counted group node until the reader expands it, so a 1,000-batch lineage lays out and draws
// only a few dozen nodes. Pure: no DOM.
import { FOCAL, statusCounts, worstStatus } from "./batch-model.js";

/** A level with more batches than this collapses to one group node. */
export const COLLAPSE_OVER = 12;

/** The expanded levels as the URL's `expand` writes them (`u5,d2`), unknown words dropped. */
export function parseExpanded(text) {
  return new Set(text.split(",").map((word) => word.trim()).filter((word) => /^[ud][1-9]\d*$/.test(word)));
}

/** The URL's `expand` value for a set of level keys, in a stable order. */
export function expandedText(expanded) {
  return [...expanded].sort().join(",");
}

export function isCollapsible(level) {
  return level.side !== FOCAL && level.members.length > COLLAPSE_OVER;
}

/**
 * The items the graph draws and the edges between them.
 *
 * Every batch stands for itself or, in a collapsed level, for its group; edges are rewritten to
 * what their ends stand for and deduplicated, so forty edges into one group draw as one.
 *
 * @param {object} lineage from `lineageOf`
 * @param {Set<string>} expanded level keys the reader opened
 * @returns {{items: Map<string, object>, edges: Array<{from: string, to: string}>, standsFor: Map}}
 */
export function shownGraph(lineage, expanded) {
  const items = new Map();
  const standsFor = new Map();
  for (const level of lineage.levels.values()) {
    if (isCollapsible(level) && !expanded.has(level.key)) addGroup(items, standsFor, level);
    else for (const node of level.members) addBatch(items, standsFor, node);
  }
  return { items, edges: shownEdges(lineage.edges, standsFor), standsFor };
}

function addBatch(items, standsFor, node) {
  const key = `b:${node.id}`;
  items.set(key, { key, kind: "batch", node, side: node.side, depth: node.depth });
  standsFor.set(node.id, key);
}

function addGroup(items, standsFor, level) {
  const key = `g:${level.key}`;
  items.set(key, groupOf(key, level));
  for (const node of level.members) standsFor.set(node.id, key);
}

function groupOf(key, level) {
  const counts = statusCounts(level.members);
  let fails = 0;
  let uncounted = 0;
  for (const node of level.members) {
    for (const mark of node.marks) mark.kind === "fails" ? fails++ : uncounted++;
  }
  return {
    key, kind: "group", level, side: level.side, depth: level.depth,
    count: level.members.length, counts, worst: worstStatus(counts), fails, uncounted,
  };
}

function shownEdges(edges, standsFor) {
  const seen = new Set();
  const shown = [];
  for (const edge of edges) {
    const from = standsFor.get(edge.from);
    const to = standsFor.get(edge.to);
    const key = `${from}\n${to}`;
    if (from === to || seen.has(key)) continue;
    seen.add(key);
    shown.push({ from, to });
  }
  return shown;
}
