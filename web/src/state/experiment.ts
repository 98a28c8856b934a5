// The experiment a page shows: everything a shared URL restores. Pure data and validation.

import { METRICS as METRIC_TABLE, PATCH_METHODS, type MetricName, type PatchMethod, type PatchSweep } from "../engine/generated/patching";

/** The sweeps the lab draws: every one whose result is a layer x position or layer x head map. */
export const SWEEP_CHOICES = ["resid_pre", "resid_mid", "attn_out", "mlp_out", "head_out", "head_q", "head_k", "head_v",
  "head_pattern"] as const satisfies readonly PatchSweep[];
/** What each sweep patches, as the lab titles its heatmaps. */
export const SWEEP_TITLES: Record<SweepChoice, string> = {
  resid_pre: "Residual stream (resid_pre)", resid_mid: "Residual stream between attention and MLP (resid_mid)",
  attn_out: "Attention output (attn_out)", mlp_out: "MLP output (mlp_out)", head_out: "Attention heads (z, all positions)",
  head_q: "Attention heads' queries (q, all positions)", head_k: "Attention heads' keys (k, all positions)",
  head_v: "Attention heads' values (v, all positions)", head_pattern: "Attention heads' patterns (all positions)",
};
/** The lab's metrics: those of the core's table that read answer tokens (the lab asks for them). */
export const METRICS: readonly MetricName[] = METRIC_TABLE.filter((m) => m.answers > 0).map((m) => m.name);
/** exact: one patched forward per cell (Run); atp / atp-star: estimates that follow every edit. */
export const METHODS: readonly PatchMethod[] = PATCH_METHODS;
export const VIEWS = ["predict", "inside", "patch"] as const;
export const INSIDE_PANELS = ["norms", "attention", "lens", "dla", "detectors"] as const;

export type SweepChoice = (typeof SWEEP_CHOICES)[number];
export type MetricChoice = MetricName;
export type ViewChoice = (typeof VIEWS)[number];

export interface Experiment {
  /** "hooklab-demo" (bundled) or a Hugging Face id such as "openai-community/gpt2". */
  model: string;
  processing: "default" | "none";
  prompt: string;
  prependBos: boolean;
  /** Selected token position (null: the last). */
  position: number | null;
  /** Attention / lens layer and the enlarged head. */
  layer: number;
  head: number | null;
  topK: number;
  clean: string;
  corrupted: string;
  answer: string;
  wrong: string;
  metric: MetricChoice;
  normalize: boolean;
  sweeps: SweepChoice[];
  /** How the patching heatmaps are estimated as the prompts change ("exact": only on Run). */
  method: PatchMethod;
  /** JSONL prompt pairs of the dataset panel ("" when none). */
  dataset: string;
  view: ViewChoice;
}

export const DEFAULT_EXPERIMENT: Readonly<Experiment> = Object.freeze<Experiment>({
  model: "hooklab-demo",
  processing: "default",
  prompt: "When Mary and John went to the store, John gave a drink to",
  prependBos: true,
  position: null,
  layer: 0,
  head: null,
  topK: 10,
  clean: "When Mary and John went to the store, John gave a drink to",
  corrupted: "When Mary and John went to the store, Mary gave a drink to",
  answer: " Mary",
  wrong: " John",
  metric: "logit_diff",
  normalize: true,
  sweeps: ["resid_pre", "attn_out", "mlp_out", "head_out"],
  method: "exact",
  dataset: "",
  view: "predict",
});

export const MAX_TEXT = 4000;  // characters per prompt: far beyond n_ctx tokens, bounded for URLs
/** A dataset travels in a link only up to this size; larger ones stay in the page. */
export const DATASET_SHARE_LIMIT = MAX_TEXT;
/** The most a pasted dataset may hold (the engine tokenizes every line of it). */
export const MAX_DATASET = 200_000;

/** The inputs a patching result depends on: an estimate and an exact sweep compare only when equal. */
export function patchInputsKey(e: Experiment): string {
  return JSON.stringify([e.clean, e.corrupted, e.answer, e.wrong, e.metric, e.normalize]);
}
const MODEL_NAME = /^[\w.-]+(\/[\w.-]+)?$/;

/**
 * Builds a valid experiment from untrusted fields (a URL): every field is type-checked and
 * bounded; anything unusable falls back to the default and is reported.
 */
export function sanitizeExperiment(raw: Record<string, unknown>): { experiment: Experiment; problems: string[] } {
  const e: Experiment = { ...DEFAULT_EXPERIMENT, sweeps: [...DEFAULT_EXPERIMENT.sweeps] };
  const problems: string[] = [];
  const text = (key: keyof Experiment) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== "string") return void problems.push(`${key} is not text`);
    if (v.length > MAX_TEXT) return void problems.push(`${key} is longer than ${MAX_TEXT} characters`);
    (e as unknown as Record<string, unknown>)[key] = v;
  };
  const int = (key: keyof Experiment, min: number, max: number, nullable = false) => {
    const v = raw[key];
    if (v === undefined) return;
    if (v === null && nullable) return void ((e as unknown as Record<string, unknown>)[key] = null);
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) return void problems.push(`${key} is not a valid number`);
    (e as unknown as Record<string, unknown>)[key] = n;
  };
  const flag = (key: keyof Experiment) => {
    const v = raw[key];
    if (v === undefined) return;
    if (v === true || v === "1" || v === "true") (e as unknown as Record<string, unknown>)[key] = true;
    else if (v === false || v === "0" || v === "false") (e as unknown as Record<string, unknown>)[key] = false;
    else problems.push(`${key} is not true/false`);
  };
  const choice = <T extends string>(key: keyof Experiment, allowed: readonly T[]) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) (e as unknown as Record<string, unknown>)[key] = v;
    else problems.push(`${key} '${String(v).slice(0, 40)}' is not one of ${allowed.join(", ")}`);
  };

  if (raw.model !== undefined) {
    if (typeof raw.model === "string" && MODEL_NAME.test(raw.model) && raw.model.length <= 100) e.model = raw.model;
    else problems.push("model is not a model name or Hugging Face id");
  }
  choice("processing", ["default", "none"] as const);
  text("prompt");
  flag("prependBos");
  int("position", 0, 100000, true);
  int("layer", 0, 1000);
  int("head", 0, 1000, true);
  int("topK", 1, 100);
  text("clean");
  text("corrupted");
  text("answer");
  text("wrong");
  choice("metric", METRICS);
  flag("normalize");
  choice("method", METHODS);
  text("dataset");
  choice("view", VIEWS);
  if (raw.sweeps !== undefined) {
    const list = typeof raw.sweeps === "string" ? raw.sweeps.split(",") : raw.sweeps;
    if (Array.isArray(list) && list.every((s) => (SWEEP_CHOICES as readonly string[]).includes(String(s)))) {
      e.sweeps = list.map(String) as SweepChoice[];
    } else {
      problems.push("sweeps lists an unknown activation");
    }
  }
  return { experiment: e, problems };
}
