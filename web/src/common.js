// What every page shares: DOM building without innerHTML, the API's answers, the URL as the view's
// state, statuses shown by symbol and words (never colour alone), the as-of selector.

/** An element: `el("a", {href, class: "x", "aria-label": "…"}, "text", child)`. Text is always text. */
export function el(tag, attrs = {}, ...children) {
  const node = tag === "svg" || SVG_TAGS.has(tag)
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const SVG_TAGS = new Set(["g", "path", "rect", "circle", "line", "text", "title", "polyline", "polygon", "defs", "marker", "tspan"]);

/** An answer the API refused: `status` is the HTTP status, `message` its detail in words. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** GET a JSON answer of this origin's API with the session cookie; a 401 sends the reader to sign in. */
export async function api(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    location.assign(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}&expired=1`);
    throw new ApiError(401, "your session has ended: sign in again");
  }
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new ApiError(response.status, detailText(body.detail));
  return body;
}

function detailText(detail) {
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(-1)[0] || "request"}: ${d.msg}`).join("; ");
  return String(detail ?? "the request failed");
}

/** The view's state lives in the URL's query: read it, or change it (a new history entry). */
export const view = {
  get(name) {
    return new URL(location.href).searchParams.get(name) ?? "";
  },
  set(changes, { replace = false } = {}) {
    const url = new URL(location.href);
    for (const [name, value] of Object.entries(changes)) {
      if (value === "" || value === null || value === undefined) url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    }
    history[replace ? "replaceState" : "pushState"](null, "", url);
    window.dispatchEvent(new Event("lotline:view"));
  },
};

/** The batch id of this page, as the server put it in `<main data-batch-id>`. */
export function pageBatch() {
  return document.getElementById("main").dataset.batchId;
}

/** Links between the pages; every page link carries the as-of moment being looked at. */
export function batchHref(batchId, asOf = view.get("as_of")) {
  return `/batches/${encodeURIComponent(batchId)}${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`;
}
export function recallHref(batchId, asOf = view.get("as_of")) {
  return `/batches/${encodeURIComponent(batchId)}/recall${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`;
}
export function reportHref(labId, reportId) {
  return `/r/${encodeURIComponent(labId)}/${encodeURIComponent(reportId)}`;
}
/** An API path with the as-of moment (and other query parameters) of the view. */
export function apiPath(path, params = {}) {
  const query = new URLSearchParams();
  const asOf = view.get("as_of");
  if (asOf) query.set("as_of", asOf);
  for (const [k, v] of Object.entries(params)) if (v) query.set(k, v);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Batch statuses: a symbol, words and a class; colour only repeats what the symbol and words say. */
export const STATUS = {
  failed: { symbol: "✘", words: "failed", css: "st-failed" },
  at_risk: { symbol: "▲", words: "at risk", css: "st-at-risk" },
  clear: { symbol: "✔", words: "clear", css: "st-clear" },
  untested: { symbol: "○", words: "untested", css: "st-untested" },
};
export function statusOf(status) {
  return STATUS[status] ?? { symbol: "?", words: String(status), css: "st-untested" };
}
/** A status badge: `<span class="status st-failed"><span aria-hidden>✘</span> failed</span>`. */
export function statusBadge(status) {
  const s = statusOf(status);
  return el("span", { class: `status ${s.css}` }, el("span", { class: "sym", "aria-hidden": "true" }, s.symbol), ` ${s.words}`);
}

/** Does a report count against the batch: words for its outcome and acceptance. */
export function trustWords(report) {
  if (report.outcome !== "authentic" && report.outcome !== "unsigned") return `not authentic (${report.outcome.replaceAll("_", " ")})`;
  if (report.acceptance !== "accredited") return report.acceptance.replaceAll("_", " ");
  return report.outcome === "unsigned" ? "unsigned, accredited" : "signed, accredited";
}

const NUMBER = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
export function number(value) {
  return value === null || value === undefined ? "" : NUMBER.format(value);
}
/** A UTC moment as the API gives it, shown as `2026-11-23 00:08 UTC`. */
export function when(text) {
  return text ? `${text.slice(0, 10)} ${text.slice(11, 16)} UTC` : "";
}
let names;
/** A country's name in the reader's language (`DE` -> `Germany`), its code when unknown. */
export function countryName(code) {
  try {
    names ??= new Intl.DisplayNames([navigator.language || "en"], { type: "region" });
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/**
 * The as-of selector: a UTC date and time and a "now" button, writing `as_of` into the URL.
 * `onChange` runs after every change (and on back/forward).
 */
export function asOfControl(onChange) {
  const current = view.get("as_of");
  const input = el("input", { type: "datetime-local", id: "as-of", step: "1", value: current ? current.slice(0, 19) : "" });
  const form = el("form", { class: "as-of", role: "group", "aria-labelledby": "as-of-label" },
    el("label", { for: "as-of", id: "as-of-label" }, "As of (UTC)"), input,
    el("button", { type: "submit" }, "Show"),
    el("button", { type: "button", onclick: () => { input.value = ""; view.set({ as_of: "" }); } }, "Now"),
    el("span", { class: "hint", "aria-live": "polite" }, current ? `as known at ${when(current)}` : "as known now"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    view.set({ as_of: input.value ? `${input.value.length === 16 ? `${input.value}:00` : input.value}Z` : "" });
  });
  window.addEventListener("lotline:view", onChange);
  window.addEventListener("popstate", onChange);
  return form;
}

/** Replace a container's content with a message (role=alert for errors). */
export function message(container, text, { error = false } = {}) {
  container.replaceChildren(el("p", { class: error ? "error" : "note", role: error ? "alert" : "status" }, text));
}
