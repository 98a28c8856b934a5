// Checks the names of patching sweeps, metrics, methods and directions against the core's
// table (generated from patching.def) before a request leaves the page: a typo is an error
// that lists the valid names, never a silent fallback to a default.

import { METRICS, PATCH_DIRECTIONS, PATCH_METHODS, PATCH_SWEEPS, PATH_RECEIVER_INPUTS } from "./generated/patching";
import type { AttributionMethod, MetricName, PatchDirection, PatchMethod, PatchSweep, PathReceiver } from "./types";

export const SWEEP_NAMES: readonly PatchSweep[] = PATCH_SWEEPS.map((s) => s.name);
export const METRIC_NAMES: readonly MetricName[] = METRICS.map((m) => m.name);

function check<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`unknown ${what} '${String(value)}' (one of: ${allowed.join(", ")})`);
}

export function checkSweep(value: unknown): PatchSweep {
  return check(value, SWEEP_NAMES, "patching activation");
}

export function checkMethod(value: unknown): PatchMethod {
  return check(value, PATCH_METHODS, "patching method");
}

export function checkDirection(value: unknown): PatchDirection {
  return check(value, PATCH_DIRECTIONS, "patching direction");
}

/** A metric name; `needsGradient` rejects the metrics that have none (rank). */
export function checkMetric(value: unknown, needsGradient = false): MetricName {
  const name = check(value, METRIC_NAMES, "metric");
  if (needsGradient && !METRICS.find((m) => m.name === name)!.differentiable) {
    throw new Error(`the metric '${name}' has no gradient, so it cannot be used for gradients or attribution patching`);
  }
  return name;
}

export function checkAttributionMethod(value: unknown): AttributionMethod {
  const method = checkMethod(value);
  if (method === "exact") throw new Error("attribute() estimates sweeps (atp, atp-star); exact sweeps run through patch()");
  return method;
}

/** A path-patching receiver: whole-number layer and head, and an input of the table (q, k, v). */
export function checkReceiver(value: PathReceiver): PathReceiver {
  const { layer, head } = value;
  const index = (v: number) => Number.isInteger(v) && v >= 0 && v < 1 << 20;  // far beyond any model's layers or heads
  if (!index(layer) || !index(head)) {
    throw new Error(`a receiver needs a whole-number layer and head (got ${String(layer)}.${String(head)})`);
  }
  return { layer, head, input: check(value.input, PATH_RECEIVER_INPUTS, "receiver input") };
}
