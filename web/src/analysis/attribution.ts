// Shaping for the attribution views: estimate-vs-exact points, the cells where the two
// disagree most, sweep axis labels and dataset interval widths. Pure functions.

import { visibleToken } from "./token-display";

/** The cells where |estimate - exact| is largest (row-major indices), largest first; exact ties excluded. */
export function disagreements(estimate: ArrayLike<number>, exact: ArrayLike<number>, k = 5): number[] {
  const order: Array<{ i: number; d: number }> = [];
  for (let i = 0; i < Math.min(estimate.length, exact.length); i++) {
    const d = Math.abs(estimate[i] - exact[i]);
    // Cells both methods leave unchanged agree exactly; only real disagreements are flagged.
    if (Number.isFinite(d) && d > 1e-9) order.push({ i, d });
  }
  order.sort((a, b) => b.d - a.d || a.i - b.i);
  return order.slice(0, k).map((o) => o.i);
}

export interface ScatterPoint {
  exact: number;
  estimate: number;
  label: string;
  flagged: boolean;
}

/** One point per cell of a [rows, cols] sweep, labelled "row · col". */
export function scatterPoints(estimate: ArrayLike<number>, exact: ArrayLike<number>, rowLabels: string[], colLabels: string[], flagged: number[]): ScatterPoint[] {
  const marked = new Set(flagged);
  const cols = colLabels.length;
  return Array.from({ length: Math.min(estimate.length, exact.length) }, (_, i) => ({
    exact: exact[i], estimate: estimate[i], label: `${rowLabels[Math.floor(i / cols)]} · ${colLabels[i % cols]}`, flagged: marked.has(i),
  }));
}

/** Row and column labels of a lab sweep from its axes: layers by heads or layers by positions. */
export function sweepAxes(shape: number[], axes: string[], strTokens: string[]): { rows: string[]; cols: string[]; xLabel: string; byHead: boolean } {
  const rows = Array.from({ length: shape[0] }, (_, l) => `L${l}`);
  const byHead = axes[1] === "head";
  if (byHead) return { rows, cols: Array.from({ length: shape[1] }, (_, h) => `H${h}`), xLabel: "head", byHead };
  return { rows, cols: strTokens.map((t, i) => `${i} ${visibleToken(t)}`.trimEnd()), xLabel: "position (corrupted tokens)", byHead };
}

/** ciHigh - ciLow per cell. */
export function intervalWidths(low: ArrayLike<number>, high: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: low.length }, (_, i) => high[i] - low[i]);
}

/** "L1 · 10 Mary" for a flagged cell, with both values. */
export function describeCell(i: number, rowLabels: string[], colLabels: string[]): string {
  const cols = colLabels.length;
  return `${rowLabels[Math.floor(i / cols)]} · ${colLabels[i % cols]}`;
}
