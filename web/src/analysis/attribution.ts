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

/** A dataset template: prompts and answers with {A} and {B} standing for two names. */
export interface PairTemplate {
  clean: string;
  corrupted: string;
  answer: string;
  wrong: string;
  names: string;
}

export const IOI_TEMPLATE: PairTemplate = {
  clean: "When {A} and {B} went to the store, {B} gave a drink to",
  corrupted: "When {A} and {B} went to the store, {A} gave a drink to",
  answer: " {A}",
  wrong: " {B}",
  names: "Mary, John, Tom, Anna, James, Sarah",
};

/** At most this many generated pairs (every ordered pair of distinct names). */
export const MAX_TEMPLATE_PAIRS = 200;

/**
 * JSON Lines for every ordered pair (A, B) of distinct names (comma-separated), or an error
 * message. The core tokenizes and checks the lines (equal lengths, single-token answers).
 */
export function pairsFromTemplate(t: PairTemplate): { jsonl: string; pairs: number } | { error: string } {
  const names = [...new Set(t.names.split(",").map((n) => n.trim()).filter(Boolean))];
  if (names.length < 2) return { error: "give at least two names, separated by commas" };
  const fields = [t.clean, t.corrupted, t.answer, t.wrong];
  if (!fields.every((f) => f.includes("{A}") || f.includes("{B}"))) {
    return { error: "the prompts and answers must each use {A} or {B}" };
  }
  const fill = (s: string, a: string, b: string) => s.replaceAll("{A}", a).replaceAll("{B}", b);
  const lines: string[] = [];
  for (const a of names) {
    for (const b of names) {
      if (a === b || lines.length >= MAX_TEMPLATE_PAIRS) continue;
      lines.push(JSON.stringify({ clean: fill(t.clean, a, b), corrupted: fill(t.corrupted, a, b), answer: fill(t.answer, a, b), wrong: fill(t.wrong, a, b) }));
    }
  }
  return { jsonl: lines.join("\n"), pairs: lines.length };
}
