// The totals per country and per recipient: each as a bar chart with its table, and the countries
// on a map. Chart.js and the map load on demand, after the tables are already on the page.
import { countryName, el, number, view } from "./common.js";
import { COUNTRY_TOTAL_COLUMNS, RECIPIENT_TOTAL_COLUMNS } from "./recall-columns.js";
import { dataTable } from "./recall-table.js";

const TABLE_PAGE = 25;
const MOST_BARS = 20; // more bars than this read better in the table
const BAR_PX = 26;

/** The units of the totals, the most shipped first: the first is shown unless the URL says `unit`. */
function unitsOf(rows) {
  const shipments = new Map();
  for (const r of rows) shipments.set(r.unit, (shipments.get(r.unit) ?? 0) + r.shipments);
  return [...shipments.keys()].sort((a, b) => shipments.get(b) - shipments.get(a) || a.localeCompare(b));
}

function chosenUnit(units) {
  return units.includes(view.get("unit")) ? view.get("unit") : units[0] ?? "";
}

function unitChoice(units) {
  if (units.length < 2) {
    const words = units.length ? `All quantities are in ${units[0]}.` : "Nothing of this scope was shipped, as far as you can see.";
    return { node: el("p", { id: "unit-note", class: "note" }, words), sync() {} };
  }
  const select = el("select", { id: "unit-select" }, units.map((u) => el("option", { value: u }, u)));
  select.addEventListener("change", () => view.set({ unit: select.value }));
  return {
    node: el("div", { class: "table-tools" }, el("div", { class: "field" },
      el("label", { for: "unit-select" }, "Unit shown in the charts and on the map"), select)),
    sync() { select.value = chosenUnit(units); },
  };
}

/** A chart's figure: a canvas sized to its bars, announced as an image with the numbers in words. */
function chartFigure(id, noun) {
  const box = el("div", { class: "chart-box" });
  const caption = el("figcaption", { class: "note" });
  let chart = null;
  let drawing = 0;
  return {
    node: el("figure", { class: "chart", id: `${id}-figure` }, box, caption),
    async draw(rows, unit, labelOf) {
      const ticket = ++drawing;
      const bars = rows.filter((r) => r.unit === unit).sort((a, b) => b.quantity - a.quantity).slice(0, MOST_BARS)
        .map((r) => ({ label: labelOf(r), quantity: r.quantity, shipments: r.shipments }));
      const all = rows.filter((r) => r.unit === unit).length;
      const { drawBars } = await import("./recall-chart.js");
      if (ticket !== drawing) return; // a later unit was chosen meanwhile
      chart?.destroy();
      chart = null;
      caption.textContent = all > bars.length ? `The ${bars.length} largest of ${number(all)} ${noun[1]}, in ${unit}; the table lists them all.` : `In ${unit}; the table lists the same numbers.`;
      if (!bars.length) return box.replaceChildren(el("p", { class: "note" }, `Nothing shipped in ${unit}.`));
      const canvas = el("canvas", { id, role: "img", "aria-label": chartWords(bars, unit, noun) });
      box.style.height = `${bars.length * BAR_PX + 64}px`;
      box.replaceChildren(canvas);
      chart = drawBars(canvas, bars, unit);
    },
    dispose() { chart?.destroy(); },
  };
}

function chartWords(bars, unit, noun) {
  return `Bar chart of the quantity shipped per ${noun[0]}, in ${unit}: ${bars.map((b) => `${b.label} ${number(b.quantity)}`).join("; ")}.`;
}

function part(id, title, ...children) {
  return el("section", { id, class: "totals-part", "aria-labelledby": `${id}-title` }, el("h3", { id: `${id}-title` }, title), ...children);
}

/**
 * Start loading what the charts and the map need while the answer is still on its way, so they
 * are not one more round trip after it. A failure here is only reported when the map is drawn.
 */
export function prefetchTotals() {
  import("./recall-chart.js").catch(() => {});
  import("./recall-map.js").then((m) => m.loadWorld()).catch(() => {});
}

/** The totals section; URL parameters unit, c_sort, c_page, r_sort, r_q, r_page. */
export function totalsSection(answer) {
  const { by_country: countries, by_recipient: recipients } = answer.totals;
  const units = unitsOf([...countries, ...recipients]);
  const choice = unitChoice(units);
  const countryTable = dataTable({ id: "by-country", prefix: "c_", caption: "Totals by country", noun: ["country", "countries"],
    rows: countries, columns: COUNTRY_TOTAL_COLUMNS, pageSize: TABLE_PAGE, searchable: false });
  const recipientTable = dataTable({ id: "by-recipient", prefix: "r_", caption: "Totals by recipient", noun: ["recipient", "recipients"],
    rows: recipients, columns: RECIPIENT_TOTAL_COLUMNS, pageSize: TABLE_PAGE });
  const countryChart = chartFigure("by-country-chart", ["country", "countries"]);
  const recipientChart = chartFigure("by-recipient-chart", ["recipient", "recipients"]);
  const mapFrame = el("div", { class: "map-frame" }, el("p", { class: "note" }, "Drawing the map…"));
  const node = el("section", { id: "totals", "aria-labelledby": "totals-title" },
    el("h2", { id: "totals-title" }, "Totals"), withheldCaveat(answer), choice.node,
    part("by-country", "By country", el("div", { class: "pair" }, countryChart.node, countryTable.node)),
    part("map", "On the map", mapFrame),
    part("by-recipient", "By recipient", el("div", { class: "pair" }, recipientChart.node, recipientTable.node)));
  let drawnUnit = null;

  /** Follow the URL; the charts and the map are redrawn only when the unit changed. */
  async function update() {
    choice.sync();
    countryTable.update();
    recipientTable.update();
    const unit = chosenUnit(units);
    if (unit === drawnUnit) return;
    drawnUnit = unit;
    if (!unit) return mapFrame.replaceChildren(el("p", { class: "note" }, "No shipments to map."));
    await Promise.all([
      countryChart.draw(countries, unit, (r) => countryName(r.country)),
      recipientChart.draw(recipients, unit, (r) => r.to_org),
      drawMapInto(mapFrame, countries, unit),
    ]);
  }
  return { node, update, dispose() { countryChart.dispose(); recipientChart.dispose(); } };
}

/** Another party's shipments are not in these totals: say so where the numbers are. */
function withheldCaveat(answer) {
  if (!answer.withheld.shipments) return null;
  return el("p", { class: "note" }, `These totals cover only the shipments shown; ${number(answer.withheld.shipments)} more are withheld.`);
}

async function drawMapInto(frame, countries, unit) {
  try {
    const { drawMap } = await import("./recall-map.js");
    await drawMap(frame, countries, unit);
  } catch (error) {
    // The map only repeats the table above it: a failure here leaves the page usable.
    frame.replaceChildren(el("p", { class: "error", role: "alert" }, `The map could not be drawn: ${error.message}`));
  }
}
