// Pan and zoom for the lineage graph (d3-zoom), plus what keyboard readers need: the buttons' zoom
// steps, arrow keys and + / − on the focused drawing, and a pan that brings a box into view when
// Tab moves focus to it (the browser's own scrolling knows nothing of an SVG transform).
import { select } from "d3-selection";
import { zoom as d3zoom, zoomTransform } from "d3-zoom";

// The first view shows the whole graph when that needs no smaller scale than READABLE (below it
// a box's 13px text is hard to read); otherwise it opens at PANNING, near full size, and the reader
// pans (or zooms out further to see the whole shape).
const READABLE = 0.7;
const PANNING = 0.85;
const STEP = 1.4;
const EDGE_MARGIN = 40;
const ARROW_PAN = 80;
const ARROWS = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

/**
 * @param {SVGSVGElement} drawing the graph's <svg>
 * @param {SVGGElement} viewport the group the zoom transform moves
 * @param {{width: number, height: number}} laid the layout's size
 * @param {Map<Element, {x: number, y: number}>} shapes each box's element and its centre
 */
export function zoomable(drawing, viewport, laid, shapes) {
  const behaviour = d3zoom()
    .scaleExtent([0.05, 2.5])
    .extent(() => { const { width, height } = sizeOf(drawing); return [[0, 0], [width, height]]; })
    .translateExtent([[0, 0], [laid.width, laid.height]])
    .filter(zoomGesture)
    .on("zoom", (event) => viewport.setAttribute("transform", event.transform.toString()));
  const selection = select(drawing);
  let home = null;

  function centreOn(shape) {
    const box = shapes.get(shape);
    if (box) behaviour.translateTo(selection, box.x, box.y);
  }

  function mount(startShape, focusShape) {
    const scale = startScale(drawing, laid);
    drawing.style.height = `${frameHeight(laid, scale)}px`;
    selection.call(behaviour).on("dblclick.zoom", null);
    home = () => {
      behaviour.scaleTo(selection, scale);
      centreOn(startShape);
    };
    home();
    drawing.addEventListener("focusin", (event) => keepInView(event.target.closest(".node, .node-group")));
    drawing.addEventListener("keydown", keyboardView);
    focusShape?.focus({ preventScroll: true });
  }

  function keepInView(shape) {
    const box = shape && shapes.get(shape);
    if (!box) return;
    const [x, y] = zoomTransform(drawing).apply([box.x, box.y]);
    const { width, height } = sizeOf(drawing);
    const inside = x > EDGE_MARGIN && y > EDGE_MARGIN && x < width - EDGE_MARGIN && y < height - EDGE_MARGIN;
    if (!inside) centreOn(shape);
  }

  // Keys on the drawing itself (not on a box, whose Enter and Space belong to it).
  function keyboardView(event) {
    if (event.target !== drawing || event.altKey || event.ctrlKey || event.metaKey) return;
    const arrow = ARROWS[event.key];
    if (arrow) {
      const scale = zoomTransform(drawing).k;
      behaviour.translateBy(selection, (arrow[0] * ARROW_PAN) / scale, (arrow[1] * ARROW_PAN) / scale);
    } else if (event.key === "+" || event.key === "=") behaviour.scaleBy(selection, STEP);
    else if (event.key === "-") behaviour.scaleBy(selection, 1 / STEP);
    else if (event.key === "0") home?.();
    else return;
    event.preventDefault();
  }

  return {
    mount,
    zoomIn: () => behaviour.scaleBy(selection, STEP),
    zoomOut: () => behaviour.scaleBy(selection, 1 / STEP),
    reset: () => home?.(),
  };
}

// A plain wheel scrolls the page, as everywhere else; Ctrl + wheel (and a trackpad pinch, which
// browsers report as one) zooms. Drags pan; a right button or Ctrl + drag does nothing.
function zoomGesture(event) {
  if (event.type === "wheel") return event.ctrlKey || event.metaKey;
  return !event.ctrlKey && !event.button;
}

function startScale(drawing, laid) {
  const fit = Math.min(sizeOf(drawing).width / laid.width, maxHeight() / laid.height);
  return fit >= READABLE ? Math.min(1, fit) : PANNING;
}

// As tall as the graph needs at its first scale, never taller than most of the screen.
function frameHeight(laid, scale) {
  return Math.round(Math.max(200, Math.min(laid.height * scale, maxHeight())));
}

// The drawn size of the <svg> (clientWidth is not reported for SVG elements by every browser).
function sizeOf(drawing) {
  const { width, height } = drawing.getBoundingClientRect();
  return { width, height };
}

function maxHeight() {
  return Math.max(320, window.innerHeight * 0.7);
}
