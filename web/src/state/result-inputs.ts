// A result belongs to the inputs it was computed from. Each result records them; comparing the
// record with the current experiment says whether (and why) the result is out of date.
import { FIELD_LABELS, patchInputs, type Experiment, type PatchInputs } from "./experiment";

/** An exact patching run: its inputs and the activations it patched. */
export type PatchRunInputs = PatchInputs & Pick<Experiment, "sweeps">;
/** The inside views: the prompt's tokens, the selected position and their own answer pair. */
export type InsideInputs = Pick<Experiment, "model" | "processing" | "weights" | "tokenInput" | "prompt" | "prependBos" | "position" | "insideAnswer" | "insideWrong">;
/** A dataset run: the pairs, and what each pair is patched and measured with (not the prompts above it). */
export type DatasetInputs = Pick<Experiment, "model" | "processing" | "weights" | "tokenInput" | "answer" | "wrong" | "metric" | "normalize" | "sweeps" | "dataset" | "method">;

/** A generation: the model, its prompt and every sampling and steering setting (the seed fixes the draws). */
export type GenerateInputs = Pick<Experiment, "model" | "processing" | "weights" | "tokenInput" | "prependBos" | "genPrompt" | "maxNewTokens" | "temperature" | "genTopK"
  | "topP" | "seed" | "steerHook" | "steerLayer" | "steerCoef" | "steerFrom" | "steerTo" | "steerBy" | "ablateHeads" | "ablation">;

export function generateInputs(e: Experiment): GenerateInputs {
  const { model, processing, weights, tokenInput, prependBos, genPrompt, maxNewTokens, temperature, genTopK, topP, seed, steerHook, steerLayer, steerCoef, steerFrom, steerTo,
    steerBy, ablation } = e;
  return { model, processing, weights, tokenInput, prependBos, genPrompt, maxNewTokens, temperature, genTopK, topP, seed, steerHook, steerLayer, steerCoef, steerFrom, steerTo,
    steerBy, ablateHeads: [...e.ablateHeads], ablation };
}

/** A path-patching run: the prompt pair and metric, its receivers and direction. */
export type PathInputs = PatchInputs & Pick<Experiment, "pathReceivers" | "pathDirection">;

export function pathInputs(e: Experiment): PathInputs {
  return { ...patchInputs(e), pathReceivers: [...e.pathReceivers], pathDirection: e.pathDirection };
}

export function patchRunInputs(e: Experiment): PatchRunInputs {
  return { ...patchInputs(e), sweeps: [...e.sweeps] };
}

export function insideInputs(e: Experiment): InsideInputs {
  const { model, processing, weights, tokenInput, prompt, prependBos, position, insideAnswer, insideWrong } = e;
  return { model, processing, weights, tokenInput, prompt, prependBos, position, insideAnswer, insideWrong };
}

export function datasetInputs(e: Experiment): DatasetInputs {
  const { model, processing, weights, tokenInput, answer, wrong, metric, normalize, dataset, method } = e;
  return { model, processing, weights, tokenInput, answer, wrong, metric, normalize, sweeps: [...e.sweeps], dataset, method };
}

/**
 * The recorded inputs (only the keys listed, all of them when none are) that differ from the
 * experiment now, by their labels; empty when the result is current.
 */
export function changedInputs<T extends Partial<Experiment>>(recorded: T, now: Experiment, keys?: ReadonlyArray<keyof T & keyof Experiment>): string[] {
  const which = keys ?? (Object.keys(recorded) as Array<keyof T & keyof Experiment>);
  return which.filter((k) => JSON.stringify(recorded[k]) !== JSON.stringify(now[k])).map((k) => FIELD_LABELS[k]);
}

/** What a stale result says about itself: which inputs changed, and how to bring it up to date. */
export function staleMessage(changed: readonly string[], remedy: string): string {
  return `Out of date — ${changed.join(", ")} changed since this was computed; ${remedy}.`;
}
