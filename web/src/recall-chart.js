// Horizontal bar charts of the recall totals (loaded on demand: Chart.js is most of the page's
// weight). Only the pieces a bar chart uses are registered, so the rest of Chart.js is left out.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from "chart.js";
import { number } from "./common.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const INK = "#15171a";
const BAR = "#2f6bb8"; // the map's second-darkest shade: the same quantity reads the same everywhere
const GRID = "#e3e6ea";

/**
 * Draw bars on a canvas whose box the caller sized.
 * @param {HTMLCanvasElement} canvas
 * @param {{label: string, quantity: number, shipments: number}[]} bars largest first
 * @param {string} unit the one unit every bar is in
 * @returns {Chart} to `destroy()` before the canvas goes
 */
export function drawBars(canvas, bars, unit) {
  return new Chart(canvas, {
    type: "bar",
    data: { labels: bars.map((b) => b.label), datasets: [{ data: bars.map((b) => b.quantity), backgroundColor: BAR, maxBarThickness: 22 }] },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false, // a table of facts, not a show; and no motion for those who asked for none
      color: INK,
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
      scales: {
        x: { beginAtZero: true, grid: { color: GRID }, ticks: { color: INK, callback: (value) => number(value) },
          title: { display: true, text: `Quantity (${unit})`, color: INK } },
        y: { grid: { display: false }, ticks: { color: INK, autoSkip: false } },
      },
      plugins: {
        tooltip: { callbacks: { label: (item) => tipText(bars[item.dataIndex], unit) } },
      },
    },
  });
}

function tipText(bar, unit) {
  return `${number(bar.quantity)} ${unit} in ${number(bar.shipments)} shipment${bar.shipments === 1 ? "" : "s"}`;
}
