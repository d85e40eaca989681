// The recall page: everything a recall of one batch reaches (the affected batches, their shipments,
// the totals per country and recipient as tables, charts and a map) and the regulator's download.
//
// The URL holds the whole view, so a copied link shows the same thing (every parameter optional):
//   as_of                      the moment looked at (changing it fetches the answer again)
//   a_sort a_q a_status a_page the affected batches: sort (`depth`, `-quantity`), text filter, status, page
//   s_sort s_q s_country s_page the shipments: sort, text filter, country (alpha-2), page
//   c_sort c_page              the totals by country: sort, page
//   r_sort r_q r_page          the totals by recipient: sort, text filter, page
//   unit                       the unit the charts and the map show, when the totals have several
import "./recall.css";
import { ApiError, api, apiPath, asOfControl, message, pageBatch, view, when } from "./common.js";
import { recallPage } from "./recall-page.js";
import { prefetchTotals } from "./recall-totals.js";

const app = document.getElementById("app");
const batchId = pageBatch();
let shown = null; // {asOf, page}: the answer on screen, and the as_of it was asked for
let asOfForm = null;
let loads = 0;

/** Fetch the answer for the URL's as_of and draw the page; a later load outruns an earlier one. */
async function load() {
  const ticket = ++loads;
  const asOf = view.get("as_of");
  busy(true);
  try {
    const answer = await api(apiPath(`/v1/batches/${encodeURIComponent(batchId)}/recall`));
    if (ticket !== loads) return;
    const page = recallPage(answer, follow);
    shown?.page.dispose();
    replaceKeepingFocus(page.nodes, page.asOfForm);
    shown = { asOf, page };
    document.title = `Recall scope of ${batchId} — Lotline`;
    await page.update();
  } catch (error) {
    if (ticket !== loads) return;
    showError(error);
  }
  if (ticket === loads) busy(false);
}

/** Every change of the URL: a new as_of is a new answer; anything else only redraws. */
async function follow() {
  if (!shown || view.get("as_of") !== shown.asOf) return load();
  busy(true);
  const ticket = loads;
  await shown.page.update();
  if (ticket === loads) busy(false);
}

/** `data-ready` tells browser tests the page has settled: absent while loading, "1" after. */
function busy(loading) {
  if (loading) delete app.dataset.ready;
  else app.dataset.ready = "1";
  app.setAttribute("aria-busy", String(loading));
}

function showError(error) {
  shown?.page.dispose();
  shown = null;
  const text = error instanceof ApiError && error.status === 404
    ? `No batch ${batchId} is known to you${view.get("as_of") ? ` as of ${when(view.get("as_of"))}` : ""}.`
    : `The recall scope could not be loaded: ${error.message}`;
  message(app, text, { error: true });
  // Another as-of moment may know the batch: keep the selector.
  const form = asOfControl(follow);
  app.append(form);
  asOfForm = form;
}

/**
 * Put the new content in place. The as-of selector is rebuilt with the page; if the reader was
 * using it, their focus moves to the same control of the new one instead of falling to the body.
 */
function replaceKeepingFocus(nodes, newAsOfForm) {
  const controls = (form) => (form ? [...form.querySelectorAll("input, button")] : []);
  const focused = controls(asOfForm).indexOf(document.activeElement);
  app.replaceChildren(...nodes);
  asOfForm = newAsOfForm;
  if (focused >= 0) controls(newAsOfForm)[focused]?.focus();
}

prefetchTotals();
load();
