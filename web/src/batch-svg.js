// SVG elements for the lineage graph. common.el makes `a` in the HTML namespace (it knows no SVG
// `a`), and a link inside an <svg> must be an SVG one to render and take focus, so the graph
// builds its elements here: always in the SVG namespace, text always as text.
const SVG = "http://www.w3.org/2000/svg";

/** An SVG element: `svg("rect", {width: 4, class: "frame"}, child…)`; empty attributes are left out. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A path through dagre's points: horizontal tangents at each point, so edges leave and enter boxes level. */
export function curveThrough(points) {
  let path = `M${round(points[0].x)},${round(points[0].y)}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const middle = round((a.x + b.x) / 2);
    path += `C${middle},${round(a.y)} ${middle},${round(b.y)} ${round(b.x)},${round(b.y)}`;
  }
  return path;
}

/** A cubic Bézier from its four points (start, control, control, end). */
export function bezier([start, c1, c2, end]) {
  return `M${round(start.x)},${round(start.y)}C${round(c1.x)},${round(c1.y)} ${round(c2.x)},${round(c2.y)} ${round(end.x)},${round(end.y)}`;
}

function round(value) {
  return Math.round(value * 10) / 10;
}
