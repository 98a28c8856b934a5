// What a patching metric measures, in words, and whether normalising by it is meaningful.
import { METRICS as METRIC_TABLE } from "../engine/generated/patching";
import type { Experiment } from "../state/experiment";
import { visibleToken } from "./token-display";

/** The metric with the answer tokens it reads (e.g. `logit_diff of "·Mary" − "·John" (normalised)`). */
export function describeMetric(e: Pick<Experiment, "metric" | "answer" | "wrong" | "normalize">): string {
  const answers = METRIC_TABLE.find((m) => m.name === e.metric)?.answers ?? 0;
  const quoted = (t: string) => `"${visibleToken(t)}"`;
  const reads = answers >= 2 ? ` of ${quoted(e.answer)} − ${quoted(e.wrong)}` : answers === 1 ? ` of ${quoted(e.answer)}` : "";
  return `${e.metric}${reads}${e.normalize ? " (normalised)" : ""}`;
}

/**
 * Normalising divides by (clean − corrupted). Below 5 % of the larger metric (and never below
 * 0.05, the floor for metrics near 0, such as a logit difference of two unlikely tokens) the
 * division amplifies each cell's change more than 20-fold, so changes of a few hundredths of a
 * logit (float noise across kernels, or a corruption that barely matters) read as full restorations.
 */
export const SMALL_DIFFERENCE = 0.05;

export function differenceTooSmall(clean: number, corrupted: number): boolean {
  const difference = Math.abs(clean - corrupted);
  return !(difference >= SMALL_DIFFERENCE * Math.max(Math.abs(clean), Math.abs(corrupted), 1));
}
