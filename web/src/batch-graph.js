// The lineage as a layered graph: inputs left, products right, the page's batch in the middle.
// Only what is shown is laid out (collapsed levels are one node each), and the whole drawing is
// built off-document and inserted once, so a 1,000-batch lineage renders without a stall.
import { el, number } from "./common.js";
import { columnOf, levelWords } from "./batch-model.js";
import { COLLAPSE_OVER, isCollapsible, shownGraph } from "./batch-levels.js";
import { layoutOf } from "./batch-layout.js";
import { batchBox, groupBox, sizeOf } from "./batch-nodes.js";
import { bezier, curveThrough, svg } from "./batch-svg.js";
import { zoomable } from "./batch-zoom.js";
import { legendOf } from "./batch-legend.js";

/**
 * The graph section and what to do once it is in the document (sizing and pan/zoom need its box).
 *
 * @param {object} lineage from `lineageOf`
 * @param {object} options `expanded` level keys, `highlight` batch id, `focus` what takes keyboard
 *   focus after the reader's action (`{level}`: the level's top box; `{batch}`: that batch's box),
 *   `onLevel(key, open)` when the reader expands or collapses a level
 * @returns {{section: HTMLElement, mount: () => void}}
 */
export function graphSection(lineage, { expanded, highlight, focus, onLevel }) {
  const shown = shownGraph(lineage, expanded);
  const laid = layoutOf(shown, sizeOf);
  const { drawing, viewport, shapes } = drawingOf(lineage, laid, { highlight, onExpand: (key) => onLevel(key, true) });
  const zoom = zoomable(drawing, viewport, laid, shapes);
  const section = el("section", { id: "graph", "aria-labelledby": "graph-title" },
    el("h2", { id: "graph-title" }, "Lineage"),
    el("p", { id: "graph-help", class: "note" },
      "Inputs on the left, products on the right. Drag to pan; pinch or Ctrl + wheel to zoom ",
      "(or focus the drawing and use the arrow keys, + and −). Tab to a batch and press Enter to open it; ",
      "a counted group opens with Enter or Space."),
    toolbarOf(lineage, shown, expanded, zoom, onLevel),
    el("div", { class: "graph-frame" }, drawing),
    legendOf());
  const target = focusTarget(shapes, shown, focus);
  return { section, mount: () => zoom.mount(target ?? startShape(shapes, shown, lineage, highlight), target) };
}

// After an expand or collapse the old box is gone, so focus goes to the top box of that level and
// the keyboard carries on where the reader was; after "Show" in the reports table, to that batch.
function focusTarget(shapes, shown, focus) {
  if (!focus) return null;
  const batchKey = focus.batch && shown.standsFor.get(focus.batch);
  for (const [shape, box] of shapes) {
    if (batchKey ? box.item.key === batchKey : levelOf(box.item) === focus.level) return shape;
  }
  return null;
}

function levelOf(item) {
  return item.kind === "group" ? item.level.key : item.node.level;
}

// The view opens on the highlighted batch (or the group holding it), else on this batch.
function startShape(shapes, shown, lineage, highlight) {
  const key = shown.standsFor.get(highlight) ?? shown.standsFor.get(lineage.focal);
  for (const [shape, box] of shapes) if (box.item.key === key) return shape;
  return null;
}

function drawingOf(lineage, laid, { highlight, onExpand }) {
  const shapes = new Map();
  const fragment = document.createDocumentFragment();
  // Document order is reading order (column by column, top to bottom), which is also Tab's order.
  const boxes = [...laid.boxes.values()].sort((a, b) => a.x - b.x || a.y - b.y);
  for (const box of boxes) {
    const shape = box.item.kind === "group"
      ? groupBox(box.item, box, { highlighted: box.item.level.members.some((m) => m.id === highlight), onExpand })
      : batchBox(box.item, box, { highlight });
    shapes.set(shape, box);
    fragment.append(shape);
  }
  const nodes = svg("g", { class: "nodes" });
  nodes.append(fragment);
  const viewport = svg("g", { class: "viewport" }, columnLabels(laid), edgesOf(laid), nodes);
  const drawing = svg("svg", {
    id: "graph-svg", role: "group", tabindex: 0, "aria-label": graphLabel(lineage, laid), "aria-describedby": "graph-help",
  }, arrowHeads(), viewport);
  return { drawing, viewport, shapes };
}

function graphLabel(lineage, laid) {
  const count = lineage.nodes.size - 1;
  return `Lineage graph of ${lineage.focal}: ${number(count)} related batches, ${number(laid.boxes.size)} boxes shown`;
}

function arrowHeads() {
  const head = (id) => svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
    svg("path", { d: "M0,0L10,5L0,10z" }));
  return svg("defs", {}, head("arrow"), head("arrow-risk"));
}

function edgesOf(laid) {
  const fragment = document.createDocumentFragment();
  for (const edge of laid.drawn) {
    const risky = carriesRisk(laid.boxes.get(edge.from).item);
    fragment.append(svg("path", {
      class: `edge${risky ? " risk" : ""}${edge.forward ? "" : " against"}`,
      d: edge.forward ? curveThrough(edge.points) : bezier(edge.points),
      "marker-end": `url(#${risky ? "arrow-risk" : "arrow"})`,
    }));
  }
  const group = svg("g", { class: "edges", "aria-hidden": "true" });
  group.append(fragment);
  return group;
}

// Risk flows from an input to its products: an edge out of a failed or at-risk batch (or a group
// holding one) carries it.
function carriesRisk(item) {
  if (item.kind === "group") return item.counts.failed + item.counts.at_risk > 0;
  return item.node.status === "failed" || item.node.status === "at_risk";
}

function columnLabels(laid) {
  const labels = svg("g", { class: "columns", "aria-hidden": "true" });
  for (const [column, x] of laid.columns) {
    const words = column === 0 ? "this batch" : column < 0 ? `← inputs, depth ${-column}` : `products, depth ${column} →`;
    labels.append(svg("text", { x: Math.round(x), y: 20, "text-anchor": "middle" }, words));
  }
  return labels;
}

function toolbarOf(lineage, shown, expanded, zoom, onLevel) {
  const open = [...lineage.levels.values()].filter((level) => isCollapsible(level) && expanded.has(level.key));
  const collapsed = [...shown.items.values()].filter((item) => item.kind === "group").length;
  return el("div", { class: "graph-tools" },
    el("div", { class: "zoom", role: "group", "aria-label": "Zoom" },
      el("button", { type: "button", id: "zoom-in", "aria-label": "Zoom in", onclick: zoom.zoomIn }, "+"),
      el("button", { type: "button", id: "zoom-out", "aria-label": "Zoom out", onclick: zoom.zoomOut }, "−"),
      el("button", { type: "button", id: "zoom-reset", onclick: zoom.reset }, "Reset view")),
    el("p", { id: "graph-summary", class: "note" }, summaryOf(lineage, shown, collapsed)),
    open.length ? expandedList(open, onLevel) : null);
}

function summaryOf(lineage, shown, collapsed) {
  const batches = [...shown.items.values()].filter((item) => item.kind === "batch").length;
  const text = `Showing ${number(batches)} of ${number(lineage.nodes.size)} batches`;
  if (!collapsed) return `${text}.`;
  const levels = collapsed > 1 ? `${collapsed} levels` : "1 level";
  return `${text}; ${levels} of more than ${COLLAPSE_OVER} batches ${collapsed > 1 ? "stand as counted groups" : "stands as a counted group"}.`;
}

function expandedList(levels, onLevel) {
  const items = levels
    .sort((a, b) => columnOf(a) - columnOf(b))
    .map((level) => el("li", {},
      el("button", { type: "button", class: "collapse-level", "data-level": level.key, onclick: () => onLevel(level.key, false) },
        `Collapse ${levelWords(level)} (${number(level.members.length)})`)));
  if (levels.length > 1) {
    items.push(el("li", {}, el("button", { type: "button", id: "collapse-all", onclick: () => onLevel(null, false) }, "Collapse all")));
  }
  return el("ul", { id: "expanded-levels", class: "expanded-levels", "aria-label": "Expanded levels" }, items);
}
