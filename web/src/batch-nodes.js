// The graph's boxes: a batch is an SVG link to its page, a collapsed level a counted button. Each
// says its status by symbol, words and frame style (solid, dashed, dotted) as well as by colour,
// and carries its report problems on the box and in its accessible name.
import { batchHref, number, statusOf } from "./common.js";
import { FOCAL, levelWords, SEVERITY } from "./batch-model.js";
import { svg } from "./batch-svg.js";

const WIDTH = 224;
const LINE = 17;
const PAD = 10;
// Characters that fit on a line of the box at the sizes batch.css sets (13px, bold ids a little wider).
const FITS = { id: 25, line: 30 };

/** Lines of text a shown item puts in its box; the box's size follows from them. */
export function linesOf(item) {
  return item.kind === "group" ? groupLines(item) : batchLines(item.node);
}

/** The box an item needs: a fixed width, a height for its lines. */
export function sizeOf(item) {
  return { width: WIDTH, height: PAD * 2 + LINE * linesOf(item).length - 4 };
}

function batchLines(node) {
  const status = statusOf(node.status);
  const lines = [];
  if (node.side === FOCAL) lines.push({ css: "tag", text: "● this batch" });
  lines.push({ css: "id", symbol: status.symbol, text: fit(node.id, FITS.id) });
  lines.push({ css: "sub", text: fit(node.product ? `${status.words} · ${node.product}` : status.words, FITS.line) });
  if (node.marks.length) lines.push({ css: `marks ${marksKind(node.marks)}`, text: fit(marksShort(node.marks), FITS.line) });
  return lines;
}

function groupLines(group) {
  const lines = [
    { css: "id", symbol: "+", text: `${number(group.count)} batches` },
    { css: "sub", text: `${levelWords(group)} · expand` },
  ];
  const risky = statusPhrase(group.counts, ["failed", "at_risk"], true);
  lines.push({ css: "sub", text: risky || "none failed or at risk" });
  if (group.fails || group.uncounted) {
    lines.push({ css: `marks ${group.fails ? "fails" : "uncounted"}`, text: marksCount(group.fails, group.uncounted, true) });
  }
  return lines;
}

function fit(text, chars) {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

// A failing report outweighs one that does not count: it sets the colour of the marks line.
function marksKind(marks) {
  return marks.some((mark) => mark.kind === "fails") ? "fails" : "uncounted";
}

function marksShort(marks) {
  if (marks.length === 1) return `${marks[0].symbol} ${marks[0].short}`;
  const fails = marks.filter((mark) => mark.kind === "fails").length;
  return marksCount(fails, marks.length - fails, true);
}

function marksCount(fails, uncounted, withSymbols) {
  const parts = [];
  if (fails) parts.push(`${withSymbols ? "✘ " : ""}${fails} failing report${fails > 1 ? "s" : ""}`);
  if (uncounted) parts.push(`${withSymbols ? "⚠ " : ""}${uncounted} ${withSymbols ? "not counted" : `report${uncounted > 1 ? "s" : ""} not counted`}`);
  return parts.join(withSymbols ? " · " : ", ");
}

function statusPhrase(counts, statuses, withSymbols) {
  return statuses
    .filter((status) => counts[status] > 0)
    .map((status) => `${withSymbols ? `${statusOf(status).symbol} ` : ""}${number(counts[status])} ${statusOf(status).words}`)
    .join(withSymbols ? " · " : ", ");
}

/** "PIG-RED-2610-07, failed, depth 2 upstream, 1 failing report". */
export function batchLabel(node) {
  const parts = [node.id, statusOf(node.status).words, levelWords(node)];
  if (node.product) parts.push(`product ${node.product}`);
  const fails = node.marks.filter((mark) => mark.kind === "fails").length;
  if (fails) parts.push(`${fails} failing report${fails > 1 ? "s" : ""}`);
  for (const mark of node.marks) if (mark.kind === "uncounted") parts.push(`1 ${mark.words}`);
  return parts.join(", ");
}

/** "40 batches, depth 5 upstream, collapsed: 1 failed, 39 at risk; 1 failing report. Press Enter…" */
export function groupLabel(group) {
  const statuses = statusPhrase(group.counts, SEVERITY, false);
  const marks = group.fails || group.uncounted ? `; ${marksCount(group.fails, group.uncounted, false)}` : "";
  return `${number(group.count)} batches, ${levelWords(group)}, collapsed: ${statuses}${marks}. Press Enter to show them.`;
}

/** A batch's box: an SVG link, so Tab reaches it and Enter opens its page. */
export function batchBox(item, box, { highlight }) {
  const node = item.node;
  const classes = ["node", statusOf(node.status).css];
  if (node.side === FOCAL) classes.push("focal");
  if (node.id === highlight) classes.push("highlight");
  if (node.marks.length) classes.push("marked");
  return svg("a", {
    href: batchHref(node.id), class: classes.join(" "), "data-batch": node.id, "data-level": node.level,
    "data-status": node.status, "aria-label": batchLabel(node), transform: cornerOf(box),
  }, ...frameOf(box, node.side === FOCAL), ...textOf(linesOf(item)));
}

/** A collapsed level's box: a focusable button (click, Enter or Space) that expands the level. */
export function groupBox(item, box, { highlighted, onExpand }) {
  const classes = ["node-group", statusOf(item.worst).css];
  if (highlighted) classes.push("highlight");
  const group = svg("g", {
    class: classes.join(" "), role: "button", tabindex: 0, "aria-expanded": "false",
    "data-level": item.level.key, "data-count": item.count, "aria-label": groupLabel(item), transform: cornerOf(box),
  }, svg("rect", { class: "stack", x: 6, y: 6, width: box.width, height: box.height, rx: 6 }),
  ...frameOf(box, false), ...textOf(linesOf(item)));
  group.addEventListener("click", () => onExpand(item.level.key));
  group.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    onExpand(item.level.key);
  });
  return group;
}

function cornerOf(box) {
  return `translate(${Math.round(box.x - box.width / 2)},${Math.round(box.y - box.height / 2)})`;
}

// The focus ring is drawn, not left to `outline`, which SVG elements do not show in every browser.
function frameOf(box, focal) {
  const frames = [];
  if (focal) frames.push(svg("rect", { class: "focal-halo", x: -5, y: -5, width: box.width + 10, height: box.height + 10, rx: 9 }));
  frames.push(svg("rect", { class: "focus-ring", x: -4, y: -4, width: box.width + 8, height: box.height + 8, rx: 8 }));
  frames.push(svg("rect", { class: "frame", width: box.width, height: box.height, rx: 6 }));
  return frames;
}

function textOf(lines) {
  return lines.map((line, i) => svg("text", { class: line.css, x: PAD, y: PAD + 9 + i * LINE },
    line.symbol ? svg("tspan", { class: "sym" }, `${line.symbol} `) : null, line.text));
}
