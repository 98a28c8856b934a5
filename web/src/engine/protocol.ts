// The message protocol between the page (engine-client.ts) and the engine's Web Worker
// (worker.ts). Requests carry an id; the worker answers with progress messages and then
// exactly one result or error for that id. Large arrays travel as transferred buffers.

import type { WeightPrecisionName } from "./generated/model-options";
import type { BackendChoice, GenerateOptions, GenerateStep, BackendInfo, ModelConfig, ModelSource, PatchDirection, PatchItem, PatchMethod, PatchSweep, PathReceiver, Processing, WebgpuOptions } from "./types";

export interface InitArgs {
  /** URL of the directory holding wasm/ and models/. */
  assetBase: string;
  /** Threads wanted (the pthreads build is used only when > 1 and the page is isolated). */
  threads: number;
  /**
   * A Web Lock the worker holds for its whole life: the page's request for it is granted when
   * the worker dies for any reason (closed, killed, out of memory), which no event reports.
   */
  lifeLock?: string;
  /** The GEMM micro-kernel this device was timed to prefer before (the worker checks the name). */
  gemmKernel?: string;
}

/** The worker's GEMM kernel choice at start-up (wasm/bindings/tuning_bindings.cpp). */
export interface GemmTuning {
  kernel: string;
  /** false: a remembered kernel, not timed again. */
  tuned: boolean;
  rounds: number;
  callsPerBatch: number;
  elapsedMs: number;
  timings: Array<{ kernel: string; ms: number }>;
}

/** Hook spec as it crosses the worker boundary: functions travel as source text. */
export interface WireHook {
  name: string;
  kind: "replace" | "zero" | "meanAblate" | "add" | "callback";
  data?: Float32Array;
  shape?: number[];
  positions?: number[];
  heads?: number[];
  fnSource?: string;
}

/** A prompt pair and the metric read off it: what every patching method shares. */
export interface WirePromptPair {
  cleanTokens: Int32Array;
  corruptedTokens: Int32Array;
  pairs: Array<[number, number]>;
  metric: string;
  customMetricSource?: string;
  position: number;
  normalize: boolean;
  direction: PatchDirection;
}

export interface WirePatchRequest extends WirePromptPair {
  sweep: string;
  /** "exact" (default), "atp" or "atp-star". */
  method?: PatchMethod;
  /** Several sweeps, each by its method, from one pair of baseline runs (the core's PatchRequest.items). */
  items?: PatchItem[];
}

/** generate()'s options as they cross the worker boundary: functions stay on the page, hooks travel as WireHooks. */
export type WireGenerateOptions = Omit<GenerateOptions, "onToken" | "signal" | "fwdHooks" | "prependBos"> & { hooks: WireHook[] };

/** The metric of a backward pass (the core's gradMetric). */
export interface WireGradMetric {
  metric: string;
  position: number;
  pairs: Array<[number, number]>;
  linearWeights?: Float32Array;
}

/** run_with_cache(incl_bwd=True): which gradients to keep and the hooks on the gradients. */
export interface WireGrad {
  metric: WireGradMetric;
  names: string[] | null;
  bwdHooks: WireHook[];
}

/** The load request: where the model comes from and how it is held. */
export interface LoadArgs {
  source: ModelSource;
  processing: Processing;
  hubEndpoint?: string;
  backend?: BackendChoice;
  webgpu?: WebgpuOptions;
  weights?: WeightPrecisionName;
}

export type Request =
  | { op: "init"; args: InitArgs }
  | { op: "load"; args: LoadArgs }
  | { op: "toTokens"; args: { text: string; prependBos: boolean } }
  | { op: "strTokens"; args: { tokens: Int32Array } }
  | { op: "decode"; args: { tokens: Int32Array } }
  | { op: "singleToken"; args: { text: string } }
  | { op: "run"; args: { tokens: Int32Array; cacheNames: string[] | null; useAttnResult: boolean; returnLogits: boolean; hooks: WireHook[]; grad?: WireGrad } }
  /** Generation, one token per event-loop turn: a progress message per step, then the result. */
  | { op: "generate"; args: { tokens: Int32Array; options: WireGenerateOptions } }
  | { op: "topK"; args: { logits: Float32Array; k: number } }
  | { op: "loss"; args: { tokens: Int32Array } }
  | { op: "patch"; args: WirePatchRequest }
  /** Attribution patching: every sweep from one session (two forwards and one backward). */
  | { op: "attribute"; args: WirePatchRequest & { method: PatchMethod; sweeps: PatchSweep[] } }
  | { op: "patchDataset"; args: { request: WirePatchRequest; jsonl: string; bootstrap: number; seed: number; prependBos: boolean } }
  /** Path patching: one job, one sender head per event-loop turn. */
  | { op: "pathPatch"; args: WirePromptPair & { receivers: PathReceiver[] } }
  | { op: "compareSweeps"; args: { estimate: Float64Array; exact: Float64Array } }
  | { op: "logitLens"; args: { tokens: Int32Array; positions: number[]; pairs: Array<[number, number]>; k: number } }
  | { op: "componentAttribution"; args: { tokens: Int32Array; position: number; pairs: Array<[number, number]> } }
  | { op: "headAttribution"; args: { tokens: Int32Array; position: number; pairs: Array<[number, number]> } }
  | { op: "residualNorms"; args: { tokens: Int32Array } }
  | { op: "detectHeads"; args: { seqLen: number; seed: number; pool: Int32Array | null } }
  | { op: "predictions"; args: { tokens: Int32Array; k: number } }
  | { op: "stats"; args: Record<string, never> }
  /** Answers once the requests before it are done and the worker's spare result buffers are written (spare-buffers.ts). */
  | { op: "idle"; args: Record<string, never> }
  | { op: "cancel"; args: { target: number } }
  /** Destroys the GPU device at once, as a driver reset would (tests, benchmarks). */
  | { op: "loseDevice"; args: Record<string, never> };

export type RequestMessage = Request & { id: number };

export type ResponseMessage =
  | { id: number; type: "progress"; progress: { stage?: string; fraction: number; loadedBytes?: number; totalBytes?: number; file?: string; step?: GenerateStep; stepIndex?: number } }
  /** workerMs: how long the worker computed the answer (from starting the request to posting the
   *  result, without waiting in its queue or the transfer to the page). */
  | { id: number; type: "result"; value: unknown; workerMs?: number }
  | { id: number; type: "error"; message: string; code: string }
  /** The backend changed under request `id` (the GPU was lost): re-run on wasm, stays there. */
  | { id: number; type: "backend"; backend: BackendInfo };

export interface LoadResult {
  cfg: ModelConfig;
  variant: "st" | "mt";
  backend: BackendInfo;
}
