// Worker side: loads the Emscripten module (single-threaded or pthreads build) and wraps its
// Embind API so that core errors become thrown Errors with the core's message.

import type { CoreCache } from "./cache-wire";
import type { GemmTuning } from "./protocol";
import type { GenerateStep, ModelConfig } from "./types";

/** The Embind surface of build/wasm/hooklab-*.mjs (see wasm/bindings/). */
export interface EmbindModule {
  HEAPU8: Uint8Array;
  loadModel(files: unknown, options: unknown): EmbindModel | null;
  /** What loading the model `config` (config.json's text) describes allocates for its processed
   *  weights, and the most the module's memory can hold; null with lastError() set for a config
   *  the load would refuse. */
  modelMemoryNeed(config: string, processing: string, weights: string): { weightBytes: number; limitBytes: number } | null;
  /** The weight precisions' names ("f32", "f16"): web/src/engine/generated/model-options.ts. */
  weightPrecisions(): string[];
  lastError(): { error: string; code: string };
  hookPointTable(): unknown[];
  /** The fastest GEMM micro-kernel on this machine, or a remembered one; null with lastError() set. */
  tuneGemmKernel(options: { budgetMs: number; remembered?: string }): GemmTuning | null;
  /** Pearson, Spearman and top-k overlap of an estimated sweep against the exact one. */
  compareSweeps(estimate: ArrayLike<number>, exact: ArrayLike<number>): Record<string, number>;
  /** The WebGPU path (wasm/bindings/webgpu_session.h); null with lastError() set. */
  createWebgpuSession(model: EmbindModel, options: { name: string }): EmbindWebgpuSession | null;
  /** wasm/webgpu/hooklab_webgpu.js: the device and the asynchronous steps C++ cannot await. */
  hooklabWebgpu: HooklabWebgpu;
}

export interface GpuAdapterHandle {
  adapter: unknown;
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean };
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

export interface HooklabWebgpu {
  requestAdapter(): Promise<GpuAdapterHandle | null>;
  open(adapter: unknown, options: { neededBytes: number; maxBindingBytes?: number }): Promise<{ bindingLimit: number; bufferLimit: number }>;
  close(): void;
  /** Submits the encoded work and performs every requested readback; rejects with code "device_lost". */
  flush(): Promise<{ flushes: number; readbackBytes: number }>;
  /** Forgets recorded readbacks of an abandoned run or sweep (their host memory is freed). */
  discardReads(): void;
  isLost(): boolean;
  lostMessage(): string;
  loseDevice(): void;
}

export interface EmbindWebgpuSession {
  name(): string;
  beginRun(tokens: Int32Array, options: unknown): Result<{ ok: true }>;
  finishRun(): Result<RunValue>;
  abandonRun(): void;
  /** Exact items only; null with lastError() set. */
  startPatch(request: unknown): EmbindPatchJob | null;
  /** Plain sampling (no hooks, steering or ablations) with a KV cache on the GPU; null with lastError() set. */
  startGenerate(tokens: Int32Array, options: unknown): EmbindGenerator | null;
  delete(): void;
}

export interface EmbindModel {
  config(): ModelConfig;
  toTokens(text: string, prependBos: boolean): Int32Array;
  strTokens(tokens: Int32Array): string[];
  tokenText(id: number): string;
  decode(tokens: Int32Array): string;
  singleToken(text: string): Result<{ value: number }>;
  run(tokens: Int32Array, options: unknown): Result<RunValue>;
  topK(logits: Float32Array, k: number): unknown[];
  loss(logits: Float32Array, tokens: Int32Array): Result<{ mean: number; perToken: Float64Array }>;
  logitLens(tokens: Int32Array, positions: number[], pairs: unknown, k: number): Result<Record<string, unknown>>;
  componentAttribution(tokens: Int32Array, position: number, pairs: unknown): Result<Record<string, unknown>>;
  headAttribution(tokens: Int32Array, position: number, pairs: unknown): Result<Record<string, unknown>>;
  residualNorms(tokens: Int32Array): Result<Record<string, unknown>>;
  detectHeads(seqLen: number, seed: number, pool: Int32Array | null): Result<Record<string, unknown>>;
  startPatch(request: unknown): EmbindPatchJob | null;
  /** null with lastError() set. */
  startAttribution(request: unknown): EmbindAttribution | null;
  /** A dataset sweep as a job with one result; null with lastError() set. */
  startPatchDataset(request: unknown, jsonl: string, options: unknown): EmbindPatchJob | null;
  /** Path patching from every sender head as a job with one result; null with lastError() set. */
  startPathPatch(request: unknown): EmbindPatchJob | null;
  /** A generation driven one token per step(); null with lastError() set. */
  startGenerate(tokens: Int32Array, options: unknown): EmbindGenerator | null;
  delete(): void;
}

/**
 * wasm/bindings/wasm_generator.h: beginStep(), then (on the GPU) the flush, then step()
 * produces one token.
 */
export interface EmbindGenerator {
  beginStep(): Result<{ ok: true }>;
  step(): Result<{ done: boolean; step?: GenerateStep }>;
  done(): boolean;
  tokens(): Int32Array;
  promptLength(): number;
  stoppedAtEos(): boolean;
  delete(): void;
}

/** Two forwards and one backward, done once; every sweep() after that is cheap. */
export interface EmbindAttribution {
  sweep(sweep: string, method: string, normalize: boolean): Result<Record<string, unknown>>;
  delete(): void;
}

/** A patch session on the host or the device: one result per item of the request. */
export interface EmbindPatchJob {
  step(): Result<{ done: boolean; progress: number }>;
  results(): Record<string, unknown>[];
  delete(): void;
}

export interface RunValue {
  logits?: Float32Array;
  logitsShape?: number[];
  cache?: CoreCache;
  /** With a gradMetric: the metric's value and d metric / d activation ("<hook>_grad"). */
  metric?: number;
  grads?: CoreCache;
}

type Result<T> = T | { error: string; code: string };

export class CoreError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "HooklabError";
  }
}

/** Returns the value, or throws the core's error. */
export function unwrap<T>(value: Result<T>): T {
  if (value && typeof value === "object" && "error" in value && typeof (value as { error: unknown }).error === "string") {
    const e = value as { error: string; code: string };
    throw new CoreError(e.error, e.code);
  }
  return value as T;
}

export type Variant = "st" | "mt";

/** Picks the build: pthreads only where SharedArrayBuffer works (cross-origin isolated pages). */
export function chooseVariant(threads: number): Variant {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return threads > 1 && isolated ? "mt" : "st";
}

export async function loadCoreModule(wasmBase: string, variant: Variant): Promise<EmbindModule> {
  const glue = new URL(`hooklab-${variant}.mjs`, wasmBase).href;
  const { default: create } = (await import(/* @vite-ignore */ glue)) as {
    default: (options: Record<string, unknown>) => Promise<EmbindModule>;
  };
  return create({
    locateFile: (path: string) => new URL(path, wasmBase).href,
    mainScriptUrlOrBlob: glue,
  });
}
