// The recall page's content for one answer, in reading order; `update` follows the URL without
// fetching again (a sort, a filter, a page, the unit), `dispose` lets the charts go.
import { asOfControl, el } from "./common.js";
import { context, completenessWarning, downloads, heading, summary, withheldNotice } from "./recall-summary.js";
import { affectedSection, shipmentsSection } from "./recall-tables.js";
import { totalsSection } from "./recall-totals.js";

function pageNav() {
  const link = (id, words) => el("li", {}, el("a", { href: `#${id}` }, words));
  return el("nav", { class: "on-page", "aria-label": "On this page" },
    el("ul", {}, link("affected", "Affected batches"), link("shipments", "Shipments"), link("by-country", "Totals by country"),
      link("map", "Map"), link("by-recipient", "Totals by recipient")));
}

/**
 * Build the page for one recall answer.
 * @param {object} answer the API's recall answer
 * @param {() => void} onViewChange what the as-of selector calls on every change of the URL
 * @returns {{nodes: Node[], asOfForm: Element, update: () => Promise<void>, dispose: () => void}}
 */
export function recallPage(answer, onViewChange) {
  const affected = affectedSection(answer);
  const shipments = shipmentsSection(answer);
  const totals = totalsSection(answer);
  // asOfControl listens for URL changes on every call; given the same function each time, the
  // browser keeps one listener, so rebuilding the page for a new as_of does not pile them up.
  const asOfForm = asOfControl(onViewChange);
  const nodes = [
    heading(answer), context(answer), summary(answer), withheldNotice(answer.withheld),
    completenessWarning(answer.completeness), asOfForm, downloads(answer.batch_id), pageNav(),
    affected.node, shipments.node, totals.node,
  ];
  return {
    nodes: nodes.filter(Boolean),
    asOfForm,
    async update() {
      affected.update();
      shipments.update();
      await totals.update();
    },
    dispose: totals.dispose,
  };
}
