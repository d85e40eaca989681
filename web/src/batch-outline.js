// The graph in words: every related batch by side and depth, with its status, as links. It serves
// readers who do not use the drawing and keeps the lineage navigable if the SVG is of no help.
import { batchHref, el, number, statusBadge } from "./common.js";
import { columnOf, DOWN, levelWords, UP } from "./batch-model.js";
import { batchLabel } from "./batch-nodes.js";

/** A `<details id="outline">` listing upstream and downstream batches level by level. */
export function outlineSection(lineage) {
  const levels = [...lineage.levels.values()].sort((a, b) => columnOf(a) - columnOf(b));
  const upstream = levels.filter((level) => level.side === UP).reverse();
  const downstream = levels.filter((level) => level.side === DOWN);
  return el("section", { id: "lineage-list", "aria-labelledby": "lineage-list-title" },
    el("h2", { id: "lineage-list-title" }, "Lineage as a list"),
    el("details", { id: "outline" },
      el("summary", {}, `All ${number(lineage.nodes.size - 1)} related batches by depth`),
      sideList("Upstream (inputs)", "outline-upstream", upstream),
      sideList("Downstream (products)", "outline-downstream", downstream)));
}

function sideList(title, id, levels) {
  const count = levels.reduce((sum, level) => sum + level.members.length, 0);
  return el("div", { id, class: "outline-side" },
    el("h3", {}, `${title}: ${number(count)}`),
    levels.length ? levels.map(levelList) : el("p", { class: "note" }, "None known."));
}

function levelList(level) {
  const members = [...level.members].sort((a, b) => a.id.localeCompare(b.id));
  const fragment = document.createDocumentFragment();
  for (const node of members) {
    fragment.append(el("li", { "data-batch": node.id },
      el("a", { href: batchHref(node.id), "aria-label": batchLabel(node) }, node.id), " ", statusBadge(node.status),
      node.marks.length ? el("span", { class: "marks" }, " ", node.marks.map((mark) => `${mark.symbol} ${mark.short}`).join(", ")) : ""));
  }
  return el("div", { class: "outline-level", "data-level": level.key },
    el("h4", {}, `${levelWords(level)} (${number(members.length)})`),
    el("ul", {}, fragment));
}
