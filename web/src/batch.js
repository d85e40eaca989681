// The batch page: one batch's status, lineage graph, lab reports and shipments as of a moment.
// The URL holds the whole view (as_of, expand, highlight), so a copied link shows the same page;
// a change of as_of fetches again, a change of the others only redraws the graph.
import "./batch.css";
import { api, ApiError, apiPath, asOfControl, el, message, pageBatch, view, when } from "./common.js";
import { FOCAL, lineageOf } from "./batch-model.js";
import { expandedText, isCollapsible, parseExpanded } from "./batch-levels.js";
import { headingOf, withheldNotice } from "./batch-heading.js";
import { graphSection } from "./batch-graph.js";
import { completenessSection, reportsSection, shipmentsSection } from "./batch-tables.js";
import { outlineSection } from "./batch-outline.js";

const app = document.getElementById("app");
const batchId = pageBatch();
const head = el("div", { id: "batch-head" }, el("h1", { id: "batch-title" }, batchId));
const asOf = asOfControl(render);
const body = el("div", { id: "batch-body" });
// What was fetched for which as-of moment; `generation` counts renders, so an answer that a newer
// render overtook is dropped.
let loaded = null;
let generation = 0;
// Where keyboard focus goes after the next redraw: `{level}` or `{batch}`, set by the reader's action.
let pendingFocus = null;

app.replaceChildren(head, asOf, body);
render();

async function render() {
  const mine = ++generation;
  delete app.dataset.ready;
  const moment = view.get("as_of");
  try {
    if (loaded?.moment === moment) drawGraph();
    else await load(moment, mine);
  } catch (error) {
    showFailure(error);
  }
  if (mine === generation) app.dataset.ready = "1";
}

// Errors of the API (and of drawing) come back to render() as a thrown error.
async function load(moment, mine) {
  syncAsOf(moment);
  message(body, "Loading…");
  const [trace, recall] = await Promise.all([api(apiPath(batchPath("trace"))), api(apiPath(batchPath("recall")))]);
  if (mine !== generation) return;
  loaded = { moment, trace, recall, lineage: lineageOf(trace, recall) };
  drawPage();
}

function showFailure(error) {
  loaded = null;
  head.replaceChildren(el("h1", { id: "batch-title" }, batchId));
  message(body, failureText(error), { error: true });
  if (!(error instanceof ApiError)) console.error(error);
}

function batchPath(answer) {
  return `/v1/batches/${encodeURIComponent(batchId)}/${answer}`;
}

/** What the reader is told when the page cannot be shown; a 404 never hints the batch may exist. */
function failureText(error) {
  if (!(error instanceof ApiError)) return `The page could not be shown: ${error.message}`;
  if (error.status === 404) return `No batch ${batchId} is known to you.`;
  if (error.status === 422) return `The request was refused: ${error.message}.`;
  if (error.status === 503) return `A service is down, so this batch cannot be shown now (${error.message}). Try again in a moment.`;
  return `This batch could not be loaded (${error.status}): ${error.message}`;
}

function drawPage() {
  const { trace, recall, lineage } = loaded;
  head.replaceChildren(...headingOf(trace, recall).filter(Boolean));
  body.replaceChildren(...[
    withheldNotice(trace, recall),
    el("section", { id: "graph" }),
    reportsSection(lineage, showInGraph, trace.withheld.reports + recall.withheld.reports),
    shipmentsSection(trace.shipments, trace.withheld.shipments),
    completenessSection(trace, recall),
    outlineSection(lineage),
  ].filter(Boolean));
  drawGraph();
}

function drawGraph() {
  const graph = graphSection(loaded.lineage, {
    expanded: parseExpanded(view.get("expand")),
    highlight: view.get("highlight"),
    focus: pendingFocus,
    onLevel: toggleLevel,
  });
  pendingFocus = null;
  document.getElementById("graph").replaceWith(graph.section);
  graph.mount();
}

// A level opens or closes (`key` null closes them all); focus follows to that level's top box
// (to this batch after closing them all).
function toggleLevel(key, open) {
  const expanded = parseExpanded(view.get("expand"));
  if (key === null) expanded.clear();
  else if (open) expanded.add(key);
  else expanded.delete(key);
  pendingFocus = { level: key ?? FOCAL };
  view.set({ expand: expandedText(expanded) });
}

// From the reports table: open the batch's level if it is collapsed, highlight it and go there.
function showInGraph(id) {
  const node = loaded.lineage.nodes.get(id);
  const expanded = parseExpanded(view.get("expand"));
  if (node && isCollapsible(loaded.lineage.levels.get(node.level))) expanded.add(node.level);
  pendingFocus = { batch: id };
  view.set({ highlight: id, expand: expandedText(expanded) });
  document.getElementById("graph").scrollIntoView({ block: "start" });
}

// The as-of form is built once (it subscribes to view changes when built); after back or forward
// its field and hint are brought in line with the URL here.
function syncAsOf(moment) {
  const input = asOf.querySelector("#as-of");
  if (input && document.activeElement !== input) input.value = moment ? moment.slice(0, 19) : "";
  const hint = asOf.querySelector(".hint");
  if (hint) hint.textContent = moment ? `as known at ${when(moment)}` : "as known now";
}
