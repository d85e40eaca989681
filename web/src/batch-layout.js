// Where the shown items sit: dagre's layered layout, left to right, with each item's column fixed
// by its depth (upstream depth d at column -d, downstream depth d at column +d).
//
// The columns are known before the layout starts, so they are handed to dagre as ranks and its
// ranker is switched off ("none"). That places every item in its column even when the edges that
// would put it there were withheld, with no invisible edges, and it skips dagre's network simplex:
// with every level of DEEP-TOP open (1,145 batches, 3,352 edges) it took about 21 s of a 22 s layout
// (node 20), while ordering and positioning the same graph take about 1 s.
import { graphlib, layout } from "@dagrejs/dagre";
import { columnOf } from "./batch-model.js";

// dagre doubles every edge's length to leave a rank between two columns for edge labels (and
// relies on the dummy node it puts there); with preset ranks that is done here: column c is rank
// 2c, and the halved ranksep twice over is the gap between two columns.
const RANKS_PER_COLUMN = 2;
const SPACING = { rankdir: "LR", ranker: "none", ranksep: 56, nodesep: 14, edgesep: 6, marginx: 24, marginy: 40 };

/**
 * Lay out a shown graph.
 *
 * @param {{items: Map, edges: Array}} shown from `shownGraph`
 * @param {(item: object) => {width: number, height: number}} sizeOf an item's box
 * @returns {{boxes: Map<string, object>, drawn: Array, width: number, height: number, columns: Map<number, number>}}
 */
export function layoutOf(shown, sizeOf) {
  const graph = new graphlib.Graph();
  graph.setGraph({ ...SPACING });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const [key, item] of shown.items) graph.setNode(key, { ...sizeOf(item), rank: RANKS_PER_COLUMN * columnOf(item), item });
  const { forward, against } = splitByDirection(shown);
  for (const edge of forward) graph.setEdge(edge.from, edge.to);
  layout(graph);
  return placed(graph, against);
}

// An edge runs forward when its child sits right of its parent. Depths are shortest distances, so an
// input can sit in its product's column or right of it (used directly and through an intermediate);
// such edges are drawn but take no part in the layout, which needs edges from lower to higher rank.
function splitByDirection(shown) {
  const forward = [];
  const against = [];
  for (const edge of shown.edges) {
    const span = columnOf(shown.items.get(edge.to)) - columnOf(shown.items.get(edge.from));
    (span >= 1 ? forward : against).push(edge);
  }
  return { forward, against };
}

function placed(graph, against) {
  const boxes = new Map();
  const columns = new Map();
  for (const key of graph.nodes()) {
    const { x, y, width, height, item } = graph.node(key);
    boxes.set(key, { x, y, width, height, item });
    columns.set(columnOf(item), x);
  }
  const drawn = graph.edges().map((ends) => ({ from: ends.v, to: ends.w, points: graph.edge(ends).points, forward: true }));
  for (const edge of against) drawn.push({ ...edge, points: againstPoints(boxes.get(edge.from), boxes.get(edge.to)), forward: false });
  const { width, height } = graph.graph();
  return { boxes, drawn, width, height, columns };
}

// A cubic Bézier (start, two controls, end) out of the parent's left side, into the child's right
// side when the child sits further left, or into its left side when both share a column; it bows
// out to the left so it does not run through the boxes of the column.
function againstPoints(from, to) {
  const start = { x: from.x - from.width / 2, y: from.y };
  const sameColumn = Math.abs(from.x - to.x) < 1;
  const end = { x: sameColumn ? to.x - to.width / 2 : to.x + to.width / 2, y: to.y };
  const bow = sameColumn ? 36 : Math.max(36, (start.x - end.x) / 2);
  return [start, { x: start.x - bow, y: start.y }, { x: sameColumn ? end.x - bow : end.x + bow, y: end.y }, end];
}
