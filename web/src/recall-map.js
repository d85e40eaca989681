// The world map of a recall's totals, shaded by quantity (loaded on demand). The geometry is
// fetched at run time, not bundled; the map repeats the "By country" table, never replaces it.
import { geoEqualEarth, geoPath } from "d3-geo";
import { feature } from "topojson-client";
import { countryName, el, number } from "./common.js";
import { alpha2Of } from "./recall-countries.js";
import { shadeSteps, stepOf } from "./recall-scale.js";

const WIDTH = 960;
const ANTARCTICA = "010"; // nothing is shipped there, and it would take a fifth of the height
const GEOMETRY = new URL("./countries-110m.json", import.meta.url);

let world = null;

/** The countries' outlines, projected once and kept for every redraw (a failed fetch is retried). */
export function loadWorld() {
  world ??= fetch(GEOMETRY, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(`the map's geometry did not load (HTTP ${response.status})`);
      return response.json();
    })
    .then(project)
    .catch((error) => {
      world = null;
      throw error;
    });
  return world;
}

function project(topology) {
  const shapes = feature(topology, topology.objects.countries).features.filter((f) => f.id !== ANTARCTICA);
  const land = { type: "FeatureCollection", features: shapes };
  const path = geoPath(geoEqualEarth().fitWidth(WIDTH, land));
  const [[, top], [, bottom]] = path.bounds(land);
  return {
    viewBox: `0 ${Math.floor(top) - 2} ${WIDTH} ${Math.ceil(bottom - top) + 4}`,
    outline: path({ type: "Sphere" }),
    countries: shapes.map((f) => ({ alpha2: alpha2Of(f.id), name: f.properties.name, d: path(f) })),
  };
}

/** Per country, the quantity and shipments in one unit. */
function amounts(totals, unit) {
  const byCountry = new Map();
  for (const t of totals) {
    if (t.unit !== unit) continue;
    const seen = byCountry.get(t.country) ?? { quantity: 0, shipments: 0 };
    byCountry.set(t.country, { quantity: seen.quantity + t.quantity, shipments: seen.shipments + t.shipments });
  }
  return byCountry;
}

/**
 * Draw the map into `frame`: the SVG, its legend and the shipped countries too small to draw.
 * @param {Element} frame emptied and refilled
 * @param {{country: string, unit: string, quantity: number, shipments: number}[]} totals by country
 * @param {string} unit the unit shaded
 */
export async function drawMap(frame, totals, unit) {
  const shape = await loadWorld();
  const byCountry = amounts(totals, unit);
  const shippedAtAll = new Set(totals.map((t) => t.country));
  const steps = shadeSteps(Math.max(0, ...[...byCountry.values()].map((a) => a.quantity)));
  const paths = shape.countries.map((c) => countryPath(c, byCountry.get(c.alpha2), shippedAtAll.has(c.alpha2), steps, unit));
  const svg = el("svg", { viewBox: shape.viewBox, class: "world", role: "img", focusable: "false",
    "aria-label": `World map of the quantity shipped to each country, in ${unit}; the table "By country" lists the same numbers.` },
  el("path", { class: "sphere", d: shape.outline }), el("g", {}, paths));
  const drawn = new Set(shape.countries.map((c) => c.alpha2));
  frame.replaceChildren(...[svg, legend(steps, unit), unplaced(byCountry, drawn, unit)].filter(Boolean));
}

function countryPath(country, amount, shipped, steps, unit) {
  const name = country.alpha2 ? countryName(country.alpha2) : country.name;
  const shade = amount ? `shade-${stepOf(amount.quantity, steps).shade}` : "none";
  return el("path", {
    d: country.d, class: `country ${shade}`,
    "data-country": shipped ? country.alpha2 : null,
    "data-quantity": amount ? amount.quantity : null,
  }, el("title", {}, `${name}: ${amountWords(amount, unit, shipped)}`));
}

function amountWords(amount, unit, shipped) {
  if (amount) return `${number(amount.quantity)} ${unit} in ${number(amount.shipments)} shipment${amount.shipments === 1 ? "" : "s"}`;
  return shipped ? `no shipments in ${unit} (some in other units)` : "no shipments";
}

function legend(steps, unit) {
  const items = steps.map((s, i) => legendItem(`shade-${s.shade}`, i === 0 ? `up to ${number(s.to)}` : `over ${number(s.from)} to ${number(s.to)}`));
  return el("div", { id: "map-legend", class: "legend" },
    el("p", { class: "legend-title" }, `Quantity shipped (${unit})`),
    el("ul", {}, items, legendItem("none", "no shipments")));
}

function legendItem(shade, words) {
  return el("li", {}, el("span", { class: `swatch ${shade}`, "aria-hidden": "true" }), words);
}

/** Shipped countries the map has no shape for (small islands and city states at this scale). */
function unplaced(byCountry, drawn, unit) {
  const missing = [...byCountry].filter(([code]) => !drawn.has(code));
  if (!missing.length) return null;
  const words = missing.map(([code, a]) => `${countryName(code)} (${code}): ${number(a.quantity)} ${unit}`);
  return el("p", { id: "map-unplaced", class: "note" }, `Too small to draw at this scale: ${words.join("; ")}.`);
}
