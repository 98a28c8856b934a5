// A bundled model's training record (models/<id>/training_loss.json): its loss curve and the
// checkpoints saved along the way, and what the head detectors say at each checkpoint. Pure data
// shaping: reading the untrusted JSON with bounds, the best head per detector, and the step at
// which the induction heads form.
import { isPlainPath } from "../engine/paths";

export interface TrainingCheckpoint {
  step: number;
  /** Directory of the checkpoint, relative to the model's (a bundled model loads it from there). */
  path: string;
}

export interface TrainingRecord {
  /** Steps of the whole run: the bundled model is the checkpoint at this step. */
  steps: number;
  curve: Array<{ step: number; loss: number }>;
  checkpoints: TrainingCheckpoint[];
}

export const TRAINING_LIMITS = { maxPoints: 20_000, maxCheckpoints: 64, maxSteps: 1e9 } as const;

function fail(what: string): never {
  throw new Error(`training record: ${what}`);
}

const isStep = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= TRAINING_LIMITS.maxSteps;

/** Checks a training record's JSON; every problem is one short sentence, nothing is trusted. */
export function parseTrainingRecord(json: unknown): TrainingRecord {
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("expected a JSON object");
  const o = json as Record<string, unknown>;
  if (!isStep(o.steps) || o.steps === 0) fail("'steps' must be a positive integer");
  const steps = o.steps;
  if (!Array.isArray(o.curve) || o.curve.length === 0) fail("'curve' must be a non-empty list");
  if (o.curve.length > TRAINING_LIMITS.maxPoints) fail(`'curve' has ${o.curve.length} points; at most ${TRAINING_LIMITS.maxPoints}`);
  const curve = o.curve.map((p: unknown, i: number) => {
    const q = p as { step?: unknown; loss?: unknown } | null;
    if (!q || !isStep(q.step) || typeof q.loss !== "number" || !Number.isFinite(q.loss)) fail(`curve point ${i} needs an integer 'step' and a finite 'loss'`);
    return { step: q.step, loss: q.loss };
  });
  if (!Array.isArray(o.checkpoints)) fail("'checkpoints' must be a list");
  if (o.checkpoints.length > TRAINING_LIMITS.maxCheckpoints) fail(`${o.checkpoints.length} checkpoints; at most ${TRAINING_LIMITS.maxCheckpoints}`);
  const checkpoints = o.checkpoints.map((c: unknown, i: number) => {
    const q = c as { step?: unknown; path?: unknown } | null;
    // One or more plain path segments: no "..", no scheme, no leading "/", so a checkpoint is
    // always inside the model's own directory.
    if (!q || !isStep(q.step) || q.step > steps || typeof q.path !== "string" || !isPlainPath(q.path, 4)) {
      fail(`checkpoint ${i} needs a 'step' within 'steps' and a relative 'path' such as checkpoints/step-01000`);
    }
    return { step: q.step, path: q.path };
  });
  for (let i = 1; i < checkpoints.length; i++) if (checkpoints[i].step <= checkpoints[i - 1].step) fail("checkpoints must be in increasing steps");
  return { steps, curve, checkpoints };
}

/**
 * The head detectors at one point of training (a checkpoint, or the finished model): the
 * TransformerLens demos' diagonal scores (near 1 for a clean head), which the training view
 * draws, and detect_head's "mul" scores.
 */
export interface CheckpointScores {
  step: number;
  shape: [number, number];
  inductionDiagonal: Float64Array;
  previousTokenDiagonal: Float64Array;
  induction: Float64Array;
  previousToken: Float64Array;
}

export interface BestHead {
  layer: number;
  head: number;
  score: number;
}

/** The head with the highest score ([L, H] row-major); the first one on ties. */
export function bestHead(values: ArrayLike<number>, heads: number): BestHead {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return { layer: Math.floor(best / heads), head: best % heads, score: values[best] };
}

/**
 * The first step at which the best (diagonal) induction score reaches half of its value at the
 * end of training (the last entry): when the induction heads form. Undefined without scores.
 */
export function inductionFormationStep(scores: readonly CheckpointScores[]): number | undefined {
  if (scores.length === 0) return undefined;
  const best = scores.map((s) => bestHead(s.inductionDiagonal, s.shape[1]).score);
  const half = best[best.length - 1] / 2;
  const formed = best.findIndex((b) => b >= half);  // -1 only when a score is NaN
  return formed < 0 ? undefined : scores[formed].step;
}
