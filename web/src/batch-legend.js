// The graph's key: each status's symbol, words and frame style, the marks a report leaves, the
// focal batch, counted groups and edges. The swatches use the same classes as the graph's boxes.
import { el, STATUS } from "./common.js";
import { COLLAPSE_OVER } from "./batch-levels.js";

const MEANINGS = {
  failed: "a lab report that counts failed it (thick frame)",
  at_risk: "made from a failed batch upstream (dashed frame)",
  untested: "no counting report and no failed input (dotted frame)",
  clear: "a counting report passed it (thin frame)",
};

/** The legend below the graph. */
export function legendOf() {
  const statuses = Object.entries(STATUS).map(([status, s]) => entry(
    el("span", { class: `swatch ${s.css}`, "aria-hidden": "true" }, s.symbol), `${s.symbol} ${s.words}: ${MEANINGS[status]}`));
  return el("div", { id: "legend", class: "legend" },
    el("h3", {}, "Key"),
    el("ul", {}, statuses,
      entry(el("span", { class: "swatch focal", "aria-hidden": "true" }, "●"), "● this batch: the batch of this page (outlined)"),
      entry(el("span", { class: "swatch group", "aria-hidden": "true" }, "+"),
        `+ N batches: a level of more than ${COLLAPSE_OVER} batches; open it with a click, Enter or Space`),
      entry(el("span", { class: "swatch mark", "aria-hidden": "true" }, "✘"), "✘ report fails: a counting lab report failed this batch"),
      entry(el("span", { class: "swatch mark", "aria-hidden": "true" }, "⚠"),
        "⚠ not counted: a report that does not count (lab unknown or not accredited, not authentic, out of scope)"),
      entry(el("span", { class: "swatch edge", "aria-hidden": "true" }, "→"), "arrow: an input goes into a product; a thick red arrow carries risk")));
}

function entry(swatch, words) {
  return el("li", {}, swatch, " ", words);
}
