// Export buttons: the SVG as drawn, a PNG rendered from it, the data as CSV and JSON.

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

export function exportButtons(id: string, svg: () => SVGSVGElement | null, table: () => { columns: string[]; rows: Array<Array<string | number>> },
                              json: () => unknown): HTMLElement {
  return el("div", { class: "exports", role: "group", "aria-label": "export" },
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
