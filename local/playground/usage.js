// The Usage tab (admin): a brand's tokens and cost per day and model, as a small bar chart
// (tokens, stacked by model) with the same figures in a table.
import { get } from "./api.js";
import { say } from "./dom.js";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#2f6fdf", "#d9822b", "#2e9e5b", "#a83fbf", "#c23b3b", "#5f6b7a"];

export async function showUsage() {
  const brand = $("usage-brand").value;
  const days = Number($("usage-days").value) || 14;
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86_400_000);
  const query = new URLSearchParams({ brand_id: brand, from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) });
  try {
    const report = await get(`/v1/usage?${query}`);
    draw(report);
    say("usage-status", `${report.total_tokens} tokens, $${report.cost_usd.toFixed(4)}, ${report.requests} requests from ${report.from} to ${report.to}.`);
  } catch (error) {
    say("usage-status", `Usage: ${error.message}`);
  }
}

/** Every day from `from` to `to`, with the report's usage or none. */
function calendar(report) {
  const byDate = new Map(report.days.map((d) => [d.date, d]));
  const days = [];
  for (let t = Date.parse(`${report.from}T00:00:00Z`); t <= Date.parse(`${report.to}T00:00:00Z`); t += 86_400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    days.push(byDate.get(date) || { date, total_tokens: 0, cost_usd: 0, requests: 0, models: [] });
  }
  return days;
}

function draw(report) {
  const models = [...new Set(report.days.flatMap((d) => d.models.map((m) => m.model)))];
  const days = calendar(report);
  const width = 640, height = 220, left = 60, bottom = 30;
  const most = Math.max(1, ...report.days.map((d) => d.total_tokens));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Tokens per day for ${report.brand_id}`);
  const slot = (width - left) / Math.max(1, days.length);
  days.forEach((day, n) => {
    let y = height - bottom;
    for (const usage of day.models) {
      const h = ((height - bottom - 10) * usage.total_tokens) / most;
      y -= h;
      const bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", String(left + n * slot + 4));
      bar.setAttribute("y", String(y));
      bar.setAttribute("width", String(Math.min(48, Math.max(2, slot - 8))));
      bar.setAttribute("height", String(h));
      bar.setAttribute("fill", COLOURS[models.indexOf(usage.model) % COLOURS.length]);
      const title = document.createElementNS(SVG, "title");
      title.textContent = `${day.date} ${usage.model}: ${usage.total_tokens} tokens, $${usage.cost_usd}`;
      bar.append(title);
      svg.append(bar);
    }
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", String(left + n * slot + 4 + Math.min(48, Math.max(2, slot - 8)) / 2));
    label.setAttribute("y", String(height - 10));
    label.setAttribute("text-anchor", "middle");
    label.setAttribute("font-size", "10");
    label.textContent = days.length > 16 && n % 2 ? "" : day.date.slice(5);
    svg.append(label);
  });
  const axis = document.createElementNS(SVG, "text");
  axis.setAttribute("x", "4");
  axis.setAttribute("y", "14");
  axis.setAttribute("font-size", "10");
  axis.textContent = `${most} tokens`;
  svg.append(axis);
  $("usage-chart").replaceChildren(svg);
  $("usage-caption").textContent = models.length ? `Tokens per day, by model: ${models.map((m, i) => `${m} (${["blue", "orange", "green", "purple", "red", "grey"][i % 6]})`).join(", ")}.` : "No usage in these days.";
  $("usage-figure").hidden = false;
  const rows = report.days.flatMap((day) => day.models.map((m) => {
    const row = document.createElement("tr");
    for (const value of [day.date, m.model, m.total_tokens, m.cost_usd.toFixed(6), m.calls]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    return row;
  }));
  $("usage-table").tBodies[0].replaceChildren(...rows);
  $("usage-table").hidden = rows.length === 0;
}
