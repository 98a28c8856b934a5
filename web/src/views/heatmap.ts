// A heatmap (Observable Plot cell marks) with exact values on hover, click and keyboard
// navigation to a cell, and PNG/SVG/CSV/JSON export. Renders only what it is given.

import * as Plot from "@observablehq/plot";
import { dropProhibitedAriaLabels, el, formatNumber } from "./dom";
import { exportButtons } from "./export";
import { matrixRows, uniqueLabels } from "../analysis/matrix";

export interface HeatmapSpec {
  /** Stable id: test hooks and export file names. */
  id: string;
  title: string;
  rowLabels: string[];
  colLabels: string[];
  /** Row-major [rows][cols]. */
  values: ArrayLike<number>;
  xLabel: string;
  yLabel: string;
  /** diverging: RdBu centred at 0 (patching, attribution); sequential: viridis (patterns, scores). */
  scale: "diverging" | "sequential";
  domain?: [number, number];
  onCellClick?: (row: number, col: number) => void;
  cellSize?: number;
  /** Row-major indices of cells to outline (e.g. where an estimate disagrees with the exact sweep). */
  flagged?: number[];
  /** More about a cell (row-major index), shown after its value on hover and in its tooltip. */
  cellDetail?: (index: number) => string;
  /** Extra attributes of the figure (what the values were computed from, for tests and readers). */
  data?: Record<string, string>;
}

/** The Plot drawing of the cells; each rect carries data-row, data-col and data-value. */
function heatmapSvg(spec: HeatmapSpec, detail: (i: number) => string): HTMLElement {
  const rows = spec.rowLabels.length, cols = spec.colLabels.length;
  const x = uniqueLabels(spec.colLabels), y = uniqueLabels(spec.rowLabels);
  const cells = Array.from({ length: rows * cols }, (_, i) => ({
    row: Math.floor(i / cols), col: i % cols, x: x[i % cols], y: y[Math.floor(i / cols)], value: spec.values[i],
  }));
  const flagged = new Set(spec.flagged ?? []);
  let maxAbs = 0;
  for (let i = 0; i < spec.values.length; i++) if (Number.isFinite(spec.values[i])) maxAbs = Math.max(maxAbs, Math.abs(spec.values[i]));
  const cell = spec.cellSize ?? Math.max(14, Math.min(34, Math.floor(640 / Math.max(cols, 1))));
  const longestCol = Math.max(...x.map((l) => l.length), 1);
  const color = spec.scale === "diverging"
    ? { type: "diverging" as const, scheme: "RdBu" as const, pivot: 0, domain: spec.domain ?? [-(maxAbs || 1), maxAbs || 1], legend: true, label: "value" }
    : { type: "linear" as const, scheme: "viridis" as const, domain: spec.domain ?? [0, maxAbs || 1], legend: true, label: "value" };
  const svg = Plot.plot({
    width: 120 + cols * cell,
    height: 60 + rows * cell + Math.min(120, longestCol * 6),
    marginLeft: 110,
    marginBottom: 30 + Math.min(110, longestCol * 6),
    style: { background: "transparent", color: "var(--fg)" },
    x: { domain: x, label: spec.xLabel, tickRotate: cols > 6 ? -50 : 0 },
    y: { domain: y, label: spec.yLabel },
    color,
    marks: [
      Plot.cell(cells, {
        x: "x", y: "y", fill: "value", inset: 0.5,
        title: (d: (typeof cells)[number]) => `${d.y} · ${d.x}: ${formatNumber(d.value, 4)}${detail(d.row * cols + d.col)}`,
        render: (index, scales, values, dimensions, context, next) => {
          const g = next!(index, scales, values, dimensions, context) as SVGGElement;
          g.querySelectorAll("rect").forEach((rect, k) => {
            const d = cells[index[k]];
            rect.setAttribute("data-row", String(d.row));
            rect.setAttribute("data-col", String(d.col));
            rect.setAttribute("data-value", String(d.value));
            if (flagged.has(d.row * cols + d.col)) {
              rect.setAttribute("data-flagged", "true");
              rect.setAttribute("stroke", "var(--fg)");
              rect.setAttribute("stroke-width", "2");
            }
          });
          return g;
        },
      }),
    ],
  }) as HTMLElement;
  dropProhibitedAriaLabels(svg);
  return svg;
}

/** Pointer and keyboard: hover or arrow keys describe a cell in the status line, click or Enter selects it. */
function makeNavigable(figure: HTMLElement, status: HTMLElement, spec: HeatmapSpec, detail: (i: number) => string): void {
  const rows = spec.rowLabels.length, cols = spec.colLabels.length;
  let cursor = { row: 0, col: 0 };
  const describe = (row: number, col: number) =>
    `${spec.yLabel} ${spec.rowLabels[row]} · ${spec.xLabel} ${spec.colLabels[col]}: ${formatNumber(spec.values[row * cols + col], 4)}${detail(row * cols + col)}`;
  const highlight = () => {
    figure.querySelectorAll("rect[data-cursor]").forEach((r) => r.removeAttribute("data-cursor"));
    const rect = figure.querySelector(`rect[data-row="${cursor.row}"][data-col="${cursor.col}"]`);
    rect?.setAttribute("data-cursor", "true");
    (rect as SVGRectElement | null)?.setAttribute("stroke", "var(--focus)");
    status.textContent = describe(cursor.row, cursor.col);
  };
  figure.addEventListener("mouseover", (event) => {
    const rect = (event.target as Element).closest("rect[data-row]");
    if (rect) status.textContent = describe(Number(rect.getAttribute("data-row")), Number(rect.getAttribute("data-col")));
  });
  figure.addEventListener("click", (event) => {
    const rect = (event.target as Element).closest("rect[data-row]");
    if (!rect) return;
    spec.onCellClick?.(Number(rect.getAttribute("data-row")), Number(rect.getAttribute("data-col")));
  });
  figure.addEventListener("keydown", (event) => {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (event.key in moves) {
      figure.querySelector("rect[data-cursor]")?.removeAttribute("stroke");
      const [dr, dc] = moves[event.key];
      cursor = { row: Math.min(rows - 1, Math.max(0, cursor.row + dr)), col: Math.min(cols - 1, Math.max(0, cursor.col + dc)) };
      highlight();
      event.preventDefault();
    } else if (event.key === "Enter" || event.key === " ") {
      spec.onCellClick?.(cursor.row, cursor.col);
      event.preventDefault();
    }
  });
  figure.addEventListener("focus", highlight);
}

export function renderHeatmap(spec: HeatmapSpec): HTMLElement {
  const rows = spec.rowLabels.length, cols = spec.colLabels.length;
  const detail = (i: number) => (spec.cellDetail ? ` · ${spec.cellDetail(i)}` : "");
  const status = el("div", { class: "status", "aria-live": "polite" });
  const figure = el("figure", {
    class: "heatmap", tabindex: 0, "data-heatmap": spec.id,
    "aria-label": `${spec.title}: ${rows} by ${cols} heatmap; arrow keys move, Enter selects`,
  }, el("figcaption", {}, spec.title), heatmapSvg(spec, detail), status);
  for (const [k, v] of Object.entries(spec.data ?? {})) figure.setAttribute(`data-${k}`, v);
  makeNavigable(figure, status, spec, detail);

  const table = () => ({ columns: [spec.yLabel, ...spec.colLabels], rows: matrixRows(spec.rowLabels, spec.values, cols) });
  const mainSvg = () => {
    const all = figure.querySelectorAll("svg");  // a colour legend comes first
    return all[all.length - 1] as SVGSVGElement;
  };
  return el("div", { class: "heatmap-block" }, figure, exportButtons(spec.id, mainSvg, table, () => ({
    title: spec.title, rows: spec.rowLabels, cols: spec.colLabels, rowLabel: spec.yLabel, colLabel: spec.xLabel,
    values: Array.from(spec.values),
  })));
}
