// Public types of the hooklab engine API (TransformerLens names in camelCase).

import type { WeightPrecisionName } from "./generated/model-options";
import type { MetricName, PatchDirection, PatchMethod, PatchSweep, PathReceiverInput } from "./generated/patching";

/** A dense float32 tensor, row-major, TransformerLens shape (batch dimension 1 included). */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

/** HookedTransformerConfig as the engine reports it. */
export interface ModelConfig {
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  /** 0 for attention-only models. */
  d_mlp: number;
  /** TransformerLens attn_only: no MLPs, so no mlp_* hooks, sweeps or steering points. */
  attn_only: boolean;
  d_vocab: number;
  n_ctx: number;
  eps: number;
  act_fn: string;
  /** TransformerLens's n_params: the blocks' weight matrices (84,934,656 for gpt2). */
  n_params: number;
  /** Every parameter of the checkpoint (124,439,808 for gpt2). */
  total_params: number;
  model_name: string;
  normalization_type: "LN" | "LNPre";
  processing: {
    fold_ln: boolean;
    center_writing_weights: boolean;
    center_unembed: boolean;
    fold_value_biases: boolean;
  };
  /** What runs the model: the wasm kernel family ("wasmsimd_4x8_loadsplat") or "webgpu (<adapter>)". */
  backend: string;
  threads: number;
  weight_bytes: number;
  /** How the weight matrices are held in memory (LoadOptions.weights). */
  weights: WeightPrecisionName;
  /** "gpt2" (GPT-2's files), "bpe" (the model's own byte-level BPE) or "wordlevel". */
  tokenizer: "gpt2" | "bpe" | "wordlevel";
}

export interface TopKEntry {
  token: number;
  str: string;
  logit: number;
  prob: number;
}

/** Where a model comes from. */
export type ModelSource =
  | string // "hooklab-demo" (bundled), a Hugging Face id ("openai-community/gpt2") or a URL of a model directory
  | { bundled: string }
  | { hub: string; revision?: string }
  | { url: string }
  | { files: ModelFileSet };

/** The files of a Hugging Face model directory, as picked or dropped by a user. */
export interface ModelFileSet {
  config: Blob | ArrayBuffer | string;
  weights: Blob | ArrayBuffer;
  /**
   * The model's own tokenizer: its tokenizer.json, else its vocab.json + merges.txt. Without
   * either the model gets GPT-2's (bundled with the lab).
   */
  tokenizer?: Blob | ArrayBuffer | string;
  vocab?: Blob | ArrayBuffer | string;
  merges?: Blob | ArrayBuffer | string;
  name?: string;
}

export type Processing = "default" | "none";

export interface LoadProgress {
  stage: "download" | "load";
  /** 0..1 */
  fraction: number;
  loadedBytes?: number;
  totalBytes?: number;
  file?: string;
  /** Set once when a downloaded file cannot be kept in the browser's store (full, or a private
   *  window's limit): why. The model still loads, from memory; the next visit downloads it again. */
  notStored?: string;
}

export interface LoadOptions {
  /** TransformerLens processing (default, like from_pretrained) or none (Hugging Face logits). */
  processing?: Processing;
  /** Worker threads for the pthreads build (used only when the page is cross-origin isolated). */
  threads?: number;
  /** Force the single-threaded build even when threads are available. */
  singleThreaded?: boolean;
  /** Directory that holds wasm/ and models/ (defaults to the lab's own). */
  assetBase?: string | URL;
  /** Hugging Face hub endpoint for hub ids (default https://huggingface.co). */
  hubEndpoint?: string;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
  /**
   * Where forward passes and patching sweeps run: "auto" (default) uses WebGPU when the browser
   * offers a hardware adapter and the model fits it, else wasm SIMD; "webgpu" uses any adapter
   * (software ones too) and falls back to wasm only when there is none; "wasm" never uses the GPU.
   * Runs with hooks that edit activations, and the analysis tools, always run on wasm.
   */
  backend?: BackendChoice;
  webgpu?: WebgpuOptions;
  /**
   * How the weight matrices (W_Q/K/V, W_O, W_in, W_out, W_U and W_E) are held in memory: "f32" (default)
   * or "f16", the processed weights rounded to f16 and widened inside the kernels: about half the
   * memory, at the cost of that rounding (README gives the measured logit change). Unlike
   * TransformerLens's dtype="float16", activations and arithmetic stay f32.
   */
  weights?: WeightPrecisionName;
}

export type BackendChoice = "auto" | "webgpu" | "wasm";

/** Knobs of the WebGPU path, mostly for tests and benchmarks. */
export interface WebgpuOptions {
  /** Let "auto" pick a software adapter (SwiftShader), which is slower than wasm SIMD. */
  allowSoftwareAdapter?: boolean;
  /** Use storage bindings no larger than this, so that small models use windowed weights too. */
  maxBindingBytes?: number;
  /** Behave as if the browser had no WebGPU adapter. */
  ignoreAdapter?: boolean;
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** Which backend runs the model, and why. */
export interface BackendInfo {
  kind: "webgpu" | "wasm";
  /** As ModelConfig.backend: "webgpu (<adapter>)" or the wasm kernel family. */
  name: string;
  requested: BackendChoice;
  /** Why WebGPU is not used (when it was asked for or "auto" considered it). */
  reason?: string;
  adapter?: AdapterInfo;
  /** Set after the GPU was lost mid-experiment and the engine moved to wasm. */
  notice?: string;
}

export type NamesFilter = string | string[] | RegExp | ((name: string) => boolean);

/** A hook as TransformerLens's fwd_hooks entry: [name or filter, function or built-in action]. */
export type FwdHook = [string | RegExp | ((name: string) => boolean), HookFunction | HookAction];

/**
 * A hook function runs inside the engine's worker, so it is sent as source text: it must not
 * capture variables. It receives the activation (edit `act.data` in place, or return new
 * values of the same length) and `{name, layer}`.
 */
export type HookFunction = (act: Tensor, hook: { name: string; layer: number }) => Float32Array | number[] | void;

export interface HookAction {
  kind: "replace" | "zero" | "meanAblate" | "add";
  /** replace: the activation's shape; add: that shape or trailing dims (broadcast). */
  tensor?: Tensor | Float32Array;
  /** Restrict to these positions (negative counts from the end). */
  positions?: number[];
  /** Restrict to these heads (hooks with a head axis). */
  heads?: number[];
}

// The closed sets of patching come from the core's single table (patching.def), generated by
// `npm run build:wasm`, so a name the core does not know is a type error here.
export type { MetricInfo, MetricName, PatchDirection, PatchMethod, PatchSweep, PathReceiverInput } from "./generated/patching";

/** Metrics of a patching sweep (every metric of the table; rank has no gradient). */
export type PatchMetric = MetricName;
/** Gradient-based estimates of a sweep (attribution patching). */
export type AttributionMethod = Exclude<PatchMethod, "exact">;

export interface PatchRequest {
  sweep: PatchSweep;
  clean: string | ArrayLike<number>;
  corrupted: string | ArrayLike<number>;
  /** [answer, wrong] token pairs (ids or single-token strings); logit_diff averages them. */
  answers: Array<[number | string, number | string]>;
  metric?: PatchMetric | ((logits: Float32Array) => number);
  /** Position the metric reads (negative from the end). Default -1. */
  position?: number;
  normalize?: boolean;
  direction?: PatchDirection;
  prependBos?: boolean;
}

/** One sweep of a patch session and how its cells are computed (default "exact"). */
export interface PatchItem {
  sweep: PatchSweep;
  method: PatchMethod;
}

/** Several sweeps and methods over one prompt pair: the prompts run once for all of them. */
export interface PatchItemsRequest extends Omit<PatchRequest, "sweep" | "metric"> {
  items: PatchItem[];
  metric?: MetricName;
}

export interface PatchResult {
  sweep: PatchSweep;
  /** How the values were computed ("exact": one patched forward per cell). */
  method?: PatchMethod;
  shape: number[];
  axes: string[];
  values: Float64Array;
  cleanMetric: number;
  corruptedMetric: number;
  cellsComputed: number;
  /** The backend that computed the values (ModelConfig.backend's format). */
  backend?: string;
}

/** The scalar a backward pass differentiates (TransformerLens: the metric of run_with_cache(incl_bwd=True)). */
export interface GradMetric {
  kind: MetricName;
  /** [answer, wrong] pairs (logit_diff) or [[answer, anything]] (prob, logprob). */
  answers?: Array<[number | string, number | string]>;
  /** Position the metric reads (negative from the end). Default -1. */
  position?: number;
  /** linear: weights [d_vocab] at the position, or [P * d_vocab] over every position. */
  linearWeights?: ArrayLike<number>;
}

/** Attribution patching: the sweeps of a PatchRequest estimated from one backward pass. */
export interface AttributeRequest extends Omit<PatchRequest, "sweep" | "metric"> {
  method: AttributionMethod;
  /** One sweep (the result is a PatchResult) ... */
  sweep?: PatchSweep;
  /** ... or several from the same runs (the result is one PatchResult per sweep, in order). */
  sweeps?: PatchSweep[];
  metric?: MetricName;
}

/** A receiver of path patching: one input (q, k or v) of one head. */
export interface PathReceiver {
  layer: number;
  head: number;
  input: PathReceiverInput;
}

/**
 * Path patching (the IOI paper; ARENA's get_path_patch_head_to_*): for every sender head, its
 * effect on the metric through `receivers` only, every other head frozen. No receivers: the
 * path to the logits (the final residual stream). Direction defaults to "noising" (corrupted
 * sender into the clean run), as the paper does.
 */
export interface PathPatchRequest extends Omit<PatchRequest, "sweep" | "metric"> {
  receivers?: PathReceiver[];
  metric?: MetricName;
}

export interface PathPatchResult {
  method: "path";
  /** "layer.head:input" of each receiver; empty for the logits. */
  receivers: string[];
  /** [n_layers, n_heads]: the sender. */
  shape: number[];
  axes: string[];
  values: Float64Array;
  cleanMetric: number;
  corruptedMetric: number;
  /** The unpatched receiving run's metric: what a sender that cannot reach the receivers reads. */
  receivingMetric: number;
  cellsComputed: number;
}

/** A sweep over a dataset of prompt pairs: the mean per cell and its 95 % bootstrap interval. */
export interface DatasetResult extends PatchResult {
  /** Number of prompt pairs. */
  pairs: number;
  mean: Float64Array;
  ciLow: Float64Array;
  ciHigh: Float64Array;
}

export interface DatasetRequest extends Omit<PatchRequest, "clean" | "corrupted" | "answers" | "metric"> {
  /** Pairs for every line; lines may bring their own "answer"/"wrong" instead. */
  answers?: Array<[number | string, number | string]>;
  metric?: MetricName;
  method?: PatchMethod;
}

/** How well an estimate ranks and predicts the exact cells. */
export interface SweepAgreement {
  pearson: number;
  spearman: number;
  /** k of the top-k overlap (cells with the largest |exact|). */
  topK: number;
  topKOverlap: number;
  cells: number;
}

export interface ProgressOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export interface LogitLens {
  labels: string[];
  positions: number[];
  topK: number;
  /** [component][position] */
  logitDiff: Float64Array;
  logitDiffWithBias: Float64Array;
  /** [component][position][k] */
  topTokens: Int32Array;
  topStrings: string[];
  topLogits: Float32Array;
  topProbs: Float64Array;
}

export interface ComponentAttribution {
  labels: string[];
  logitDiff: Float64Array;
  biasTerm: number;
  totalLogitDiff: number;
}

export interface HeadAttribution {
  shape: [number, number];
  logitDiff: Float64Array;
}

export interface ResidualNorms {
  perLayer: Float64Array;
  /** [layer][position] */
  perPosition: Float64Array;
  positions: number;
}

export interface HeadDetectorScores {
  tokens: Int32Array;
  shape: [number, number];
  previousToken: Float64Array;
  duplicateToken: Float64Array;
  induction: Float64Array;
  /** The TransformerLens demos' scores: mean attention on one diagonal of the pattern, offset -1 and 1 - N. */
  previousTokenDiagonal: Float64Array;
  inductionDiagonal: Float64Array;
}

export interface Predictions {
  /** For every position, the k most likely next tokens. */
  top: TopKEntry[][];
  /** [P - 1]: log p(actual next token) and its rank (0 = the model's top choice). */
  nextLogProb: Float64Array;
  nextRank: Int32Array;
  loss: number;
}

/** One token of a generation's distribution (the core's TokenProbability). */
export interface GeneratedToken {
  token: number;
  str: string;
  /** softmax of the raw logits (temperature 1, no penalty or filter). */
  prob: number;
  /** Under the final sampling distribution (1 for greedy). */
  sampleProb: number;
}

/** One generation step: the chosen token and the step's most likely tokens (by prob). */
export interface GenerateStep extends GeneratedToken {
  top: GeneratedToken[];
}

/**
 * Activation addition (Turner et al. 2023): coefficient * (acts(to) - acts(from)) at a hook; with
 * by: "unembed", coefficient * the unit direction W_U[:, to] - W_U[:, from] (single tokens, from
 * optional: the unembedding or the DLA direction, for a d_model-wide hook); or a given vector
 * (rows x the hook's width per position, row i at absolute position i).
 */
export interface Steering {
  hook: string;
  layer: number;
  coefficient: number;
  from?: string;
  to?: string;
  by?: "activations" | "unembed";
  vector?: Float32Array | number[];
  /** Where it is added: "prompt" (default, as in the paper), "all" or "new" positions. */
  positions?: "prompt" | "all" | "new";
}

export interface HeadAblationSpec {
  layer: number;
  head: number;
  kind?: "zero" | "mean";
}

/** TransformerLens's generate() arguments, camelCase; see README.md (Generation). */
export interface GenerateOptions {
  maxNewTokens?: number;
  /** 0 is greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  freqPenalty?: number;
  stopAtEos?: boolean;
  seed?: number;
  steering?: Steering[];
  ablateHeads?: HeadAblationSpec[];
  /** Hooks active in every step; they see the new positions of each step only. */
  fwdHooks?: FwdHook[];
  prependBos?: boolean;
  /** Called with each step as it is produced (index 0 is the first new token). */
  onToken?: (step: GenerateStep, index: number) => void;
  /** Stops between tokens; the promise rejects with an AbortError and the model stays usable. */
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** The prompt's tokens, then the generated ones. */
  tokens: Int32Array;
  promptLength: number;
  /** The whole text (prompt and continuation, BOS dropped as to_string does). */
  text: string;
  /** The continuation alone. */
  generatedText: string;
  steps: GenerateStep[];
  stoppedAtEos: boolean;
  /** What ran it: "webgpu (<adapter>)" or the wasm kernel family, as ModelConfig.backend. */
  backend: string;
}
