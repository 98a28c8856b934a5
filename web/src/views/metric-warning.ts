// The warning normalised patching results carry when clean and corrupted metrics are too close
// to divide by (the threshold and its reasons: analysis/patching-metric.ts).
import type { PatchResult } from "../engine";
import { differenceTooSmall } from "../analysis/patching-metric";
import { el, formatNumber } from "./dom";

/**
 * Normalised results whose clean and corrupted metrics are too close to divide by: a warning,
 * and the raw metric one click away.
 */
export function smallDifferenceWarning(results: ReadonlyArray<PatchResult | undefined>, normalized: boolean, showRaw: () => void,
  testId = "small-difference"): HTMLElement | null {
  const r = results.find((x): x is PatchResult => !!x);
  if (!normalized || !r || !differenceTooSmall(r.cleanMetric, r.corruptedMetric)) return null;
  const raw = el("button", { class: "secondary", "data-testid": `${testId}-raw`, onclick: showRaw }, "Show the raw metric");
  return el("div", { class: "notice", role: "alert", "data-testid": testId },
    `Clean (${formatNumber(r.cleanMetric, 4)}) and corrupted (${formatNumber(r.corruptedMetric, 4)}) differ by only ${formatNumber(Math.abs(r.cleanMetric - r.corruptedMetric), 4)}: `
    + "too little to normalise by, so the normalised cells mostly show noise. ", raw);
}
