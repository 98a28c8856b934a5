// The experiment a page shows: everything a shared URL restores. Pure data and validation.

import { METRICS as METRIC_TABLE, PATCH_DIRECTIONS, PATCH_METHODS, PATH_RECEIVER_INPUTS, type MetricName, type PatchDirection, type PatchMethod,
  type PatchSweep, type PathReceiverInput } from "../engine/generated/patching";
import { WEIGHT_PRECISIONS, type WeightPrecisionName } from "../engine/generated/model-options";
import { TOKEN_INPUTS, type TokenInput } from "./token-ids";

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
export const VIEWS = ["predict", "inside", "patch", "generate"] as const;
/** Hooks the Generate panel steers at (each has one d_model vector per position). */
export const STEER_HOOKS = ["resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"] as const;
/** What the steering vector is made of: activation addition of two prompts, or a direction from the
 *  analysis views (the unembedding of steerTo, minus steerFrom's when given: the DLA direction). */
export const STEER_BY = ["activations", "unembed"] as const;
export const ABLATIONS = ["zero", "mean"] as const;
export const INSIDE_PANELS = ["norms", "attention", "lens", "dla", "detectors"] as const;

export type SweepChoice = (typeof SWEEP_CHOICES)[number];

/** Activations an attention-only model (TransformerLens attn_only) lacks: it has no MLP, so no
 *  resid_mid between attention and MLP either; the core refuses them by name. */
const NEEDS_MLP: ReadonlySet<string> = new Set(["resid_mid", "mlp_out"]);
/** Whether a sweep or steering hook exists in a model with this configuration. */
export function modelHasActivation(cfg: { attn_only?: boolean } | undefined, name: string): boolean {
  return !cfg?.attn_only || !NEEDS_MLP.has(name);
}
export type MetricChoice = MetricName;
export type ViewChoice = (typeof VIEWS)[number];
export type SteerHook = (typeof STEER_HOOKS)[number];
export type SteerBy = (typeof STEER_BY)[number];
export type AblationChoice = (typeof ABLATIONS)[number];

export interface Experiment {
  /** "hooklab-demo" (bundled) or a Hugging Face id such as "openai-community/gpt2". */
  model: string;
  processing: "default" | "none";
  /** How the model's weight matrices are held: "f32", or "f16" (half the memory; logits move by the rounding). */
  weights: WeightPrecisionName;
  prompt: string;
  prependBos: boolean;
  /** How the prompt, answer and generation boxes are read: as text, or as token ids ("12 7 3 9"). */
  tokenInput: TokenInput;
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
  /** The inside views' own answer pair ("": the top two predictions of their prompt). */
  insideAnswer: string;
  insideWrong: string;
  view: ViewChoice;
  /** The Generate panel: its prompt, TransformerLens's sampling arguments and one steering vector. */
  genPrompt: string;
  maxNewTokens: number;
  /** 0 is greedy. */
  temperature: number;
  genTopK: number;
  topP: number;
  seed: number;
  /** Activation addition: steerCoef * (acts(steerTo) - acts(steerFrom)) at steerHook of steerLayer;
   *  steerBy "unembed": steerCoef * the unit direction W_U[:, steerTo] - W_U[:, steerFrom] at every position. */
  steerHook: SteerHook;
  steerLayer: number;
  steerCoef: number;
  steerFrom: string;
  steerTo: string;
  steerBy: SteerBy;
  /** Heads ablated in the steered column, "layer.head" each, and how (zero or mean over the prompt). */
  ablateHeads: string[];
  ablation: AblationChoice;
  /** Path patching's receivers, "layer.head:input" each (input q, k or v); empty: the logits. */
  pathReceivers: string[];
  /** Path patching's direction: noising (the IOI paper's) patches corrupted senders into the clean run. */
  pathDirection: PatchDirection;
}

export const DEFAULT_EXPERIMENT: Readonly<Experiment> = Object.freeze<Experiment>({
  model: "hooklab-demo",
  processing: "default",
  weights: "f32",
  prompt: "When Mary and John went to the store, John gave a drink to",
  prependBos: true,
  tokenInput: "text",
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
  insideAnswer: "",
  insideWrong: "",
  view: "predict",
  genPrompt: "I think that you are",
  maxNewTokens: 20,
  temperature: 0.7,
  genTopK: 0,
  topP: 1,
  seed: 1,
  steerHook: "resid_pre",
  steerLayer: 1,
  steerCoef: 8,
  steerFrom: " Hate",
  steerTo: " Love",
  steerBy: "activations",
  ablateHeads: [],
  ablation: "zero",
  pathReceivers: [],
  pathDirection: "noising",
});

// Bounds of a shared link: each is the most the lab itself can write, so a link holding more was
// not made by the lab and is refused with a notice (never clamped, never run).
export const MAX_TEXT = 4000;  // characters per prompt (the prompt boxes' maxlength): far beyond n_ctx tokens
/** An answer is one token; GPT-2's longest token is 128 bytes, so 200 characters hold any of them. */
export const MAX_ANSWER = 200;
/** A dataset travels in a link only up to this size; larger ones stay in the page. */
export const DATASET_SHARE_LIMIT = MAX_TEXT;
/** The most a pasted dataset may hold (the engine tokenizes every line of it). */
export const MAX_DATASET = 200_000;
/** A position indexes a prompt's tokens: at most MAX_TEXT (one per character) plus BOS. */
export const MAX_POSITION = MAX_TEXT;
/** The model loader's limits (core/src/model/config.cpp: kMaxLayers, kMaxWidth); the loaded model's are checked later. */
export const MAX_LAYERS = 256;
export const MAX_HEADS = 1 << 15;
export const MAX_TOP_K = 100;
export const MAX_MODEL_NAME = 100;
/** The Generate panel's inputs (their min/max): what a link may hold. */
export const MAX_NEW_TOKENS = 256;
export const MAX_TEMPERATURE = 10;
export const MAX_SAMPLE_TOP_K = 1000;
export const MIN_TOP_P = 0.01;
export const MAX_SEED = 2147483647;  // the core's and the CLI's seed bound
export const MAX_STEER_COEF = 1000;
/** Heads ablated at once in a link (the lab's box holds a few; 12 x 12 for GPT-2 small is the most useful). */
export const MAX_ABLATED_HEADS = 144;
/** Path-patching receivers in a link: a few heads' q, k and v (the IOI paper's largest set has 9). */
export const MAX_PATH_RECEIVERS = 32;

/** The inputs a patching result depends on; a result computed from other inputs is stale. */
export type PatchInputs = Pick<Experiment, "model" | "processing" | "weights" | "tokenInput" | "clean" | "corrupted" | "answer" | "wrong" | "metric" | "normalize">;

export function patchInputs(e: Experiment): PatchInputs {
  const { model, processing, weights, tokenInput, clean, corrupted, answer, wrong, metric, normalize } = e;
  return { model, processing, weights, tokenInput, clean, corrupted, answer, wrong, metric, normalize };
}

/** The inputs a patching result depends on: an estimate and an exact sweep compare only when equal. */
export function patchInputsKey(e: Experiment): string {
  return JSON.stringify(Object.values(patchInputs(e)));
}

/** What the notices call each field (a stale result names the inputs that changed). */
export const FIELD_LABELS: Record<keyof Experiment, string> = {
  model: "model", processing: "weight processing", weights: "weights in memory", prompt: "prompt", prependBos: "prepend BOS", tokenInput: "token input", position: "position",
  layer: "layer", head: "head", topK: "top-k", clean: "clean prompt", corrupted: "corrupted prompt", answer: "answer",
  wrong: "wrong token", metric: "metric", normalize: "normalisation", sweeps: "activations to patch", method: "estimate method",
  dataset: "dataset", insideAnswer: "inside answer", insideWrong: "inside wrong token", view: "view",
  genPrompt: "generation prompt", maxNewTokens: "max new tokens", temperature: "temperature", genTopK: "sampling top-k",
  topP: "top-p", seed: "seed", steerHook: "steering hook", steerLayer: "steering layer", steerCoef: "steering coefficient",
  steerFrom: "steering from", steerTo: "steering to", steerBy: "steering by", ablateHeads: "ablated heads", ablation: "ablation",
  pathReceivers: "path receivers", pathDirection: "path direction",
};

const MODEL_NAME = /^[\w.-]+(\/[\w.-]+)?$/;
type Raw = Record<string, unknown>;
type Field = (raw: unknown, key: keyof Experiment) => { value: unknown } | { problem: string };

/** A short, safe quotation of an untrusted value (never its own toString). */
function excerpt(v: unknown): string {
  if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return Array.isArray(v) ? "a list" : "an object";
}

const text = (max: number): Field => (v, key) => typeof v !== "string" ? { problem: `${key} is not text` }
  : v.length > max ? { problem: `${key} is longer than ${max} characters (${v.length})` } : { value: v };

const int = (min: number, max: number, nullable = false): Field => (v, key) => {
  if (v === null && nullable) return { value: null };
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) return { problem: `${key} ${excerpt(v)} is not a whole number` };
  if (n < min || n > max) return { problem: `${key} ${n} is out of range (${min}–${max})` };
  return { value: n };
};

const decimal = (min: number, max: number): Field => (v, key) => {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) return { problem: `${key} ${excerpt(v)} is not a number` };
  if (n < min || n > max) return { problem: `${key} ${n} is out of range (${min}–${max})` };
  return { value: n };
};

const flag: Field = (v, key) => v === true || v === "1" || v === "true" ? { value: true }
  : v === false || v === "0" || v === "false" ? { value: false } : { problem: `${key} ${excerpt(v)} is not true/false` };

const choice = (allowed: readonly string[]): Field => (v, key) => typeof v === "string" && allowed.includes(v) ? { value: v }
  : { problem: `${key} ${excerpt(v)} is not one of ${allowed.join(", ")}` };

const modelName: Field = (v, key) => typeof v === "string" && v.length <= MAX_MODEL_NAME && MODEL_NAME.test(v) ? { value: v }
  : { problem: `${key} ${excerpt(v)} is not a model name or Hugging Face id` };

/** The lab writes each sweep at most once, so a list longer than SWEEP_CHOICES or with repeats is refused whole. */
const sweepList: Field = (v, key) => {
  const list = typeof v === "string" ? (v === "" ? [] : v.split(",", SWEEP_CHOICES.length + 1)) : v;
  if (!Array.isArray(list)) return { problem: `${key} is not a list` };
  if (list.length > SWEEP_CHOICES.length) return { problem: `${key} lists more than the ${SWEEP_CHOICES.length} activations the lab patches` };
  const seen = new Set<string>();
  for (const s of list) {
    if (typeof s !== "string" || !(SWEEP_CHOICES as readonly string[]).includes(s)) return { problem: `${key} lists ${excerpt(s)}, which is not an activation the lab patches` };
    if (seen.has(s)) return { problem: `${key} lists ${s} twice` };
    seen.add(s);
  }
  return { value: [...list] };
};

/**
 * A list of head entries ("layer.head", optionally ":input"), each at most once and within the
 * loader's limits (the model's own are checked on load); entries come back in canonical form.
 */
function headEntries(pattern: RegExp, max: number, what: string): Field {
  return (v, key) => {
    const list = typeof v === "string" ? (v === "" ? [] : v.split(",", max + 1)) : v;
    if (!Array.isArray(list)) return { problem: `${key} is not a list` };
    if (list.length > max) return { problem: `${key} lists more than ${max} ${what.split(" ")[0]}s` };
    const seen = new Set<string>();
    for (const entry of list) {
      const m = typeof entry === "string" ? pattern.exec(entry) : null;
      if (!m || Number(m[1]) >= MAX_LAYERS || Number(m[2]) >= MAX_HEADS) return { problem: `${key} lists ${excerpt(entry)}, which is not a ${what}` };
      const canonical = `${Number(m[1])}.${Number(m[2])}${m[3] ? `:${m[3]}` : ""}`;
      if (seen.has(canonical)) return { problem: `${key} lists ${canonical} twice` };
      seen.add(canonical);
    }
    return { value: [...seen] };
  };
}

const headList = headEntries(/^(\d{1,3})\.(\d{1,5})()$/, MAX_ABLATED_HEADS, "head (layer.head)");
const receiverList = headEntries(new RegExp(`^(\\d{1,3})\\.(\\d{1,5}):(${PATH_RECEIVER_INPUTS.join("|")})$`), MAX_PATH_RECEIVERS,
  "receiver (layer.head:q, :k or :v)");

/** "3.0:q" -> {layer: 3, head: 0, input: "q"}: one entry of a validated pathReceivers list. */
export function receiverOf(entry: string): { layer: number; head: number; input: PathReceiverInput } {
  const [layer, head, input] = entry.split(/[.:]/);
  return { layer: Number(layer), head: Number(head), input: input as PathReceiverInput };
}

/** Parses the lab's receivers box ("3.0:q, 3.1:q"; empty or "logits": the logits). */
export function parseReceiverList(text: string): { receivers: string[] } | { problem: string } {
  const entries = text.split(",").map((x) => x.trim()).filter((x) => x !== "" && x !== "logits");
  const read = receiverList(entries.join(","), "pathReceivers");
  return "problem" in read ? { problem: read.problem } : { receivers: read.value as string[] };
}

/** Parses the lab's head box ("1.3, 0.2"): the heads, or the problem with the text. */
export function parseHeadList(text: string): { heads: string[] } | { problem: string } {
  const read = headList(text.split(",").map((x) => x.trim()).filter((x) => x !== "").join(","), "ablateHeads");
  return "problem" in read ? { problem: read.problem } : { heads: read.value as string[] };
}

/** How each field of a link is read; the keys are the link's field names. */
const FIELDS: Record<keyof Experiment, Field> = {
  model: modelName, processing: choice(["default", "none"]), weights: choice(WEIGHT_PRECISIONS), prompt: text(MAX_TEXT), prependBos: flag, tokenInput: choice(TOKEN_INPUTS),
  position: int(0, MAX_POSITION, true), layer: int(0, MAX_LAYERS - 1), head: int(0, MAX_HEADS - 1, true), topK: int(1, MAX_TOP_K),
  clean: text(MAX_TEXT), corrupted: text(MAX_TEXT), answer: text(MAX_ANSWER), wrong: text(MAX_ANSWER), metric: choice(METRICS),
  normalize: flag, sweeps: sweepList, method: choice(METHODS), dataset: text(DATASET_SHARE_LIMIT),
  insideAnswer: text(MAX_ANSWER), insideWrong: text(MAX_ANSWER), view: choice(VIEWS),
  genPrompt: text(MAX_TEXT), maxNewTokens: int(1, MAX_NEW_TOKENS), temperature: decimal(0, MAX_TEMPERATURE),
  genTopK: int(0, MAX_SAMPLE_TOP_K), topP: decimal(MIN_TOP_P, 1), seed: int(0, MAX_SEED), steerHook: choice(STEER_HOOKS),
  steerLayer: int(0, MAX_LAYERS - 1), steerCoef: decimal(-MAX_STEER_COEF, MAX_STEER_COEF), steerFrom: text(MAX_ANSWER),
  steerTo: text(MAX_ANSWER), steerBy: choice(STEER_BY), ablateHeads: headList, ablation: choice(ABLATIONS),
  pathReceivers: receiverList, pathDirection: choice(PATCH_DIRECTIONS),
};

export function defaultExperiment(): Experiment {
  return { ...DEFAULT_EXPERIMENT, sweeps: [...DEFAULT_EXPERIMENT.sweeps], ablateHeads: [...DEFAULT_EXPERIMENT.ablateHeads],
    pathReceivers: [...DEFAULT_EXPERIMENT.pathReceivers] };
}

/**
 * Builds a valid experiment from untrusted fields (a URL): every field is type-checked and
 * bounded by what the lab writes; a field out of bounds keeps its default and is reported by name.
 */
export function sanitizeExperiment(raw: Raw): { experiment: Experiment; problems: string[] } {
  const e = defaultExperiment() as unknown as Raw;
  const problems: string[] = [];
  for (const key of Object.keys(FIELDS) as Array<keyof Experiment>) {
    if (!Object.hasOwn(raw, key) || raw[key] === undefined) continue;
    const read = FIELDS[key](raw[key], key);
    if ("problem" in read) problems.push(read.problem);
    else e[key] = read.value;
  }
  const unknown = Object.keys(raw).filter((k) => !Object.hasOwn(FIELDS, k));
  if (unknown.length) {
    const names = unknown.slice(0, 5).map((k) => excerpt(k)).join(", ");
    problems.push(`the link has ${unknown.length} field${unknown.length > 1 ? "s" : ""} this lab does not know (${names}${unknown.length > 5 ? ", …" : ""})`);
  }
  return { experiment: e as unknown as Experiment, problems };
}

/** The loaded model's limits, which a link's layer and head must respect. */
export interface ModelLimits {
  n_layers: number;
  n_heads: number;
  attn_only?: boolean;
}

/** Fields out of range for the loaded model: each named, with the range, and set back to its default. */
export function checkAgainstModel(e: Experiment, cfg: ModelLimits): { fixes: Partial<Experiment>; problems: string[] } {
  const fixes: Partial<Experiment> = {};
  const problems: string[] = [];
  if (e.layer >= cfg.n_layers) {
    problems.push(`layer ${e.layer} is out of range for this model (0–${cfg.n_layers - 1})`);
    fixes.layer = DEFAULT_EXPERIMENT.layer;
  }
  if (e.steerLayer >= cfg.n_layers) {
    problems.push(`steerLayer ${e.steerLayer} is out of range for this model (0–${cfg.n_layers - 1})`);
    fixes.steerLayer = Math.min(DEFAULT_EXPERIMENT.steerLayer, cfg.n_layers - 1);
  }
  if (e.head !== null && e.head >= cfg.n_heads) {
    problems.push(`head ${e.head} is out of range for this model (0–${cfg.n_heads - 1})`);
    fixes.head = DEFAULT_EXPERIMENT.head;
  }
  const outside = e.ablateHeads.filter((h) => { const [l, hd] = h.split(".").map(Number); return l >= cfg.n_layers || hd >= cfg.n_heads; });
  if (outside.length) {
    problems.push(`ablated head${outside.length > 1 ? "s" : ""} ${outside.join(", ")} out of range for this model (layers 0–${cfg.n_layers - 1}, heads 0–${cfg.n_heads - 1})`);
    fixes.ablateHeads = e.ablateHeads.filter((h) => !outside.includes(h));
  }
  const beyond = e.pathReceivers.filter((r) => receiverOf(r).layer >= cfg.n_layers || receiverOf(r).head >= cfg.n_heads);
  if (beyond.length) {
    problems.push(`path receiver${beyond.length > 1 ? "s" : ""} ${beyond.join(", ")} out of range for this model (layers 0–${cfg.n_layers - 1}, heads 0–${cfg.n_heads - 1})`);
    fixes.pathReceivers = e.pathReceivers.filter((r) => !beyond.includes(r));
  }
  checkActivationsExist(e, cfg, fixes, problems);
  return { fixes, problems };
}

/** MLP sweeps of the default experiment are dropped without a word on an attention-only model
 *  (their boxes are hidden); a steering hook the model lacks is named and reset. */
function checkActivationsExist(e: Experiment, cfg: ModelLimits, fixes: Partial<Experiment>, problems: string[]): void {
  const sweeps = e.sweeps.filter((s) => modelHasActivation(cfg, s));
  if (sweeps.length !== e.sweeps.length) fixes.sweeps = sweeps.length ? sweeps : [SWEEP_CHOICES[0]];
  if (!modelHasActivation(cfg, e.steerHook)) {
    problems.push(`steering hook ${e.steerHook} does not exist in an attention-only model`);
    fixes.steerHook = DEFAULT_EXPERIMENT.steerHook;
  }
}

/** A position past the prompt's tokens: named, with the range (the default is the last token). */
export function checkPosition(position: number | null, tokens: number): string | undefined {
  return position !== null && position >= tokens ? `position ${position} is out of range for this prompt (0–${tokens - 1})` : undefined;
}
