// Small charts (Observable Plot): a line per layer, bars per component, estimate vs exact.
import * as Plot from "@observablehq/plot";
import type { ScatterPoint } from "../analysis/attribution";
import { dropProhibitedAriaLabels, el } from "./dom";
import { exportButtons } from "./export";

export function lineChart(id: string, title: string, xLabels: string[], values: ArrayLike<number>, yLabel: string): HTMLElement {
  const data = Array.from(values, (v, i) => ({ x: xLabels[i], i, v }));
  const svg = Plot.plot({
    width: Math.max(320, 60 + xLabels.length * 38), height: 220, marginLeft: 60,
    style: { background: "transparent", color: "var(--fg)" },
    x: { domain: xLabels, label: null, tickRotate: xLabels.length > 12 ? -45 : 0 },
    y: { label: yLabel, grid: true },
    marks: [Plot.line(data, { x: "x", y: "v", stroke: "var(--accent)" }), Plot.dot(data, { x: "x", y: "v", fill: "var(--accent)", tip: true })],
  }) as HTMLElement;
  dropProhibitedAriaLabels(svg);
  return el("figure", { "data-chart": id }, el("figcaption", {}, title), svg,
    exportButtons(id, () => svg.querySelector("svg") ?? (svg as unknown as SVGSVGElement), () => ({ columns: ["x", yLabel], rows: data.map((d) => [d.x, d.v]) }), () => data));
}

export function barChart(id: string, title: string, labels: string[], values: ArrayLike<number>, yLabel: string): HTMLElement {
  const data = Array.from(values, (v, i) => ({ label: labels[i], v }));
  const svg = Plot.plot({
    width: Math.max(320, 80 + labels.length * 30), height: 260, marginLeft: 60, marginBottom: 80,
    style: { background: "transparent", color: "var(--fg)" },
    x: { domain: labels, label: null, tickRotate: -45 },
    y: { label: yLabel, grid: true },
    color: { type: "diverging", scheme: "RdBu", pivot: 0 },
    marks: [Plot.barY(data, { x: "label", y: "v", fill: "v", tip: true }), Plot.ruleY([0])],
  }) as HTMLElement;
  dropProhibitedAriaLabels(svg);
  return el("figure", { "data-chart": id }, el("figcaption", {}, title), svg,
    exportButtons(id, () => svg.querySelector("svg") ?? (svg as unknown as SVGSVGElement), () => ({ columns: ["component", yLabel], rows: data.map((d) => [d.label, d.v]) }), () => data));
}

/** Estimate (y) against exact (x) per cell, the diagonal for reference, flagged cells ringed. */
export function scatterChart(id: string, title: string, points: ScatterPoint[], xLabel: string, yLabel: string): HTMLElement {
  const values = points.flatMap((p) => [p.exact, p.estimate]).filter(Number.isFinite);
  const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
  const svg = Plot.plot({
    width: 340, height: 300, marginLeft: 60,
    style: { background: "transparent", color: "var(--fg)" },
    x: { label: xLabel, grid: true, domain: [lo, hi] },
    y: { label: yLabel, grid: true, domain: [lo, hi] },
    marks: [
      Plot.line([[lo, lo], [hi, hi]], { stroke: "currentColor", strokeOpacity: 0.3 }),
      Plot.dot(points, { x: "exact", y: "estimate", fill: "var(--accent)", r: 2.5, title: (p: ScatterPoint) => p.label, tip: true }),
      Plot.dot(points.filter((p) => p.flagged), { x: "exact", y: "estimate", stroke: "var(--fg)", r: 6 }),
    ],
  }) as HTMLElement;
  dropProhibitedAriaLabels(svg);
  return el("figure", { "data-chart": id }, el("figcaption", {}, title), svg,
    exportButtons(id, () => svg.querySelector("svg") ?? (svg as unknown as SVGSVGElement),
      () => ({ columns: ["cell", xLabel, yLabel], rows: points.map((p) => [p.label, p.exact, p.estimate]) }), () => points));
}

/** Numeric x (training steps): one line per series, optional vertical marks (checkpoints), a highlighted step. */
export function seriesChart(id: string, title: string, series: Array<{ name: string; points: Array<{ x: number; y: number }> }>,
                            labels: { x: string; y: string; yDomain?: [number, number] }, marks: { at: number[]; highlight?: number } = { at: [] }): HTMLElement {
  const data = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const svg = Plot.plot({
    width: 560, height: 240, marginLeft: 60,
    style: { background: "transparent", color: "var(--fg)" },
    x: { label: labels.x, grid: true },
    y: { label: labels.y, grid: true, ...(labels.yDomain ? { domain: labels.yDomain } : {}) },
    color: { legend: series.length > 1 },
    marks: [
      Plot.ruleX(marks.at, { stroke: "currentColor", strokeOpacity: 0.15 }),
      ...(marks.highlight === undefined ? [] : [Plot.ruleX([marks.highlight], { stroke: "var(--accent)", strokeWidth: 2 })]),
      Plot.line(data, { x: "x", y: "y", stroke: series.length > 1 ? "series" : "var(--accent)" }),
      ...(data.length <= 200 ? [Plot.dot(data, { x: "x", y: "y", fill: series.length > 1 ? "series" : "var(--accent)", r: 2.5, tip: true })] : []),
    ],
  }) as HTMLElement;
  dropProhibitedAriaLabels(svg);
  return el("figure", { "data-chart": id }, el("figcaption", {}, title), svg,
    exportButtons(id, () => svg.querySelector("svg") ?? (svg as unknown as SVGSVGElement),
      () => ({ columns: ["series", labels.x, labels.y], rows: data.map((d) => [d.series, d.x, d.y]) }), () => data));
}
