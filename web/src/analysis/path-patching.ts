// Shaping for the path-patching view and the circuits lesson: each sender's effect (the change
// of the metric from the unpatched receiving run), the head it moves most, and the receivers'
// label. Pure functions.

export interface PathEffects {
  /** [layers][heads] row-major: patched metric - receiving run's metric (0: no effect through these receivers). */
  effects: Float64Array;
  layers: number;
  heads: number;
}

export function pathEffects(result: { values: ArrayLike<number>; shape: number[]; receivingMetric: number }): PathEffects {
  const effects = Float64Array.from(result.values, (v) => v - result.receivingMetric);
  return { effects, layers: result.shape[0], heads: result.shape[1] };
}

/**
 * Which way a sender moves the metric when it carries the source run's behaviour: toward the
 * source run's value. Normalised, the receiving run reads 1 in noising and 0 in denoising, the
 * source the other; raw, it depends on which of clean and corrupted is larger (and a metric such
 * as rank, where lower is better, follows the same rule).
 */
export function towardSource(r: { cleanMetric: number; corruptedMetric: number }, direction: "noising" | "denoising", normalized: boolean): "drop" | "raise" {
  const source = normalized ? (direction === "noising" ? 0 : 1) : direction === "noising" ? r.corruptedMetric : r.cleanMetric;
  const receiving = normalized ? 1 - source : direction === "noising" ? r.cleanMetric : r.corruptedMetric;
  return source < receiving ? "drop" : "raise";
}

/**
 * The sender that moves the metric most in `direction` ("drop": the largest fall; "raise": the
 * largest rise), or null when no sender moves it that way.
 */
export function strongestSender(e: PathEffects, direction: "drop" | "raise" = "drop"): { layer: number; head: number; effect: number } | null {
  let best = -1;
  const sign = direction === "drop" ? -1 : 1;
  for (let i = 0; i < e.effects.length; i++) {
    if (sign * e.effects[i] > 1e-9 && (best < 0 || sign * e.effects[i] > sign * e.effects[best])) best = i;
  }
  return best < 0 ? null : { layer: Math.floor(best / e.heads), head: best % e.heads, effect: e.effects[best] };
}

/** "the logits" or "3.0:q, 3.1:q". */
export function receiversLabel(receivers: readonly string[]): string {
  return receivers.length === 0 ? "the logits" : receivers.join(", ");
}
