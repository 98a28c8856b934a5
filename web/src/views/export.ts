// Export buttons: the SVG as drawn, a PNG rendered from it, the data as CSV and JSON, and a
// "Table" toggle that shows the same data as an HTML table: the chart's text alternative for
// screen readers and for anyone who wants the numbers.

import { el } from "./dom";
import { toCsv } from "../analysis/matrix";

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  // Resolve the theme's CSS variables so the file looks the same outside the page.
  const style = getComputedStyle(document.documentElement);
  const text = new XMLSerializer().serializeToString(copy);
  return text.replace(/var\((--[\w-]+)\)/g, (_, name: string) => style.getPropertyValue(name).trim() || "currentColor");
}

export async function svgToPng(svg: SVGSVGElement, scale = 2): Promise<Blob> {
  const text = svgText(svg);
  const width = svg.width.baseVal.value || svg.getBoundingClientRect().width;
  const height = svg.height.baseVal.value || svg.getBoundingClientRect().height;
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
  await image.decode();
  const canvas = el("canvas", { width: Math.ceil(width * scale), height: Math.ceil(height * scale) });
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor || "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.scale(scale, scale);
  ctx.drawImage(image, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG export failed"))), "image/png"));
}

type TableData = { columns: string[]; rows: Array<Array<string | number>> };

/** A big sweep has tens of thousands of cells: the page shows the first rows, CSV has them all. */
const MAX_TABLE_ROWS = 1000;

function formatCell(v: string | number): string {
  return typeof v === "number" && Number.isFinite(v) && !Number.isInteger(v) ? v.toPrecision(4) : String(v);
}

/** The chart's data as a table (text nodes only: labels may be token strings from the prompt). */
export function dataTable(id: string, data: TableData): HTMLElement {
  const shown = data.rows.slice(0, MAX_TABLE_ROWS);
  const caption = data.rows.length > shown.length
    ? `${id}: the first ${shown.length} of ${data.rows.length} rows (CSV has every row)` : `${id}: ${data.rows.length} rows`;
  return el("div", { class: "data-table", "data-table-for": id },
    el("table", {},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, ...data.columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, ...shown.map((row) => el("tr", {}, ...row.map((v) => el("td", {}, formatCell(v))))))));
}

function tableToggle(id: string, table: () => TableData): HTMLElement {
  const holder = el("div", { class: "data-table-holder" });
  const button = el("button", { class: "secondary", "data-export": "table", "aria-expanded": "false", onclick: () => {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    holder.replaceChildren(...(open ? [] : [dataTable(id, table())]));
  } }, "Table");
  return el("span", { class: "table-toggle" }, button, holder);
}

export function exportButtons(id: string, svg: () => SVGSVGElement | null, table: () => TableData,
                              json: () => unknown): HTMLElement {
  return el("div", { class: "exports", role: "group", "aria-label": "export" }, tableToggle(id, table),
    el("button", { class: "secondary", "data-export": "png", onclick: async () => {
      const s = svg();
      if (s) download(`${id}.png`, await svgToPng(s));
    } }, "PNG"),
    el("button", { class: "secondary", "data-export": "svg", onclick: () => {
      const s = svg();
      if (s) download(`${id}.svg`, new Blob([svgText(s)], { type: "image/svg+xml" }));
    } }, "SVG"),
    el("button", { class: "secondary", "data-export": "csv", onclick: () => {
      const t = table();
      download(`${id}.csv`, new Blob([toCsv(t.columns, t.rows)], { type: "text/csv" }));
    } }, "CSV"),
    el("button", { class: "secondary", "data-export": "json", onclick: () => {
      download(`${id}.json`, new Blob([JSON.stringify(json(), null, 1)], { type: "application/json" }));
    } }, "JSON"));
}
