// HookedTransformer for the browser: TransformerLens's API in camelCase, computed by the
// hooklab core in a Web Worker. Every method is async and never blocks the page.
//
//   const model = await HookedTransformer.load("hooklab-demo");
//   const { logits, cache } = await model.runWithCache("The capital of France is");
//   cache.get("pattern", 0);                 // {data: Float32Array, shape: [1, H, P, P]}
//   await model.topK(logits, { k: 5 });

import { ActivationCache } from "./activation-cache";
import { fromWireCache, type WireCache } from "./cache-wire";
import { EngineClient } from "./engine-client";
import { hookNames, resolveHookName } from "./hook-names";
import { checkAttributionMethod, checkDirection, checkMethod, checkMetric, checkReceiver, checkSweep } from "./patching-names";
import type { GemmTuning, WireGenerateOptions, WireGrad, WireHook, WirePatchRequest, WirePromptPair } from "./protocol";
import type { SpareBufferStats } from "./spare-buffers";
import type {
  AttributeRequest, BackendChoice, BackendInfo, ComponentAttribution, DatasetRequest, DatasetResult, FwdHook, GenerateOptions, GenerateResult, GradMetric, HeadAttribution,
  HeadDetectorScores, HookAction, LoadOptions, LogitLens, ModelConfig, ModelSource, NamesFilter, PatchItemsRequest, PatchRequest, PatchResult, PatchSweep,
  PathPatchRequest, PathPatchResult, Predictions, ProgressOptions, ResidualNorms, SweepAgreement, Tensor, TopKEntry,
} from "./types";

type Input = string | ArrayLike<number>;
type RunReply = { logits?: Float32Array; logitsShape?: number[]; cache?: WireCache; metric?: number; grads?: WireCache; backend: string };

export interface RunWithCacheOptions {
  namesFilter?: NamesFilter;
  useAttnResult?: boolean;
  fwdHooks?: FwdHook[];
  prependBos?: boolean;
  signal?: AbortSignal;
  /** Also run backward from `metric` and return the gradients (TransformerLens's incl_bwd=True). */
  inclBwd?: boolean;
  /** What the backward pass differentiates; default the mean next-token loss. */
  metric?: GradMetric;
  /** Hooks on the gradients (TransformerLens's add_hook(..., dir="bwd")): edit `act.data` in place. */
  bwdHooks?: FwdHook[];
  /** Which gradients to keep; default the same hooks as namesFilter (as in TransformerLens). */
  gradNamesFilter?: NamesFilter;
}

export interface RunWithCacheResult {
  logits: Tensor;
  cache: ActivationCache;
  tokens: Int32Array;
  backend: string;
  /** With inclBwd: d metric / d activation, keyed "<hook>_grad". */
  grads?: ActivationCache;
  /** With inclBwd: the metric's value on this run. */
  metricValue?: number;
}

/** The lab's own asset directory (holds wasm/ and models/). */
export function defaultAssetBase(): string {
  // In a Vite build modules live in assets/; in development under src/engine/.
  const here = new URL(import.meta.url);
  return new URL(here.pathname.includes("/src/engine/") ? "../../" : "../", here).href;
}

function defaultThreads(): number {
  const cores = typeof navigator !== "undefined" ? navigator.hardwareConcurrency || 1 : 1;
  return Math.max(1, Math.min(cores, 4));
}

function toInt32(tokens: ArrayLike<number>): Int32Array {
  return tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
}

function namesMatching(filter: NamesFilter, all: string[], nLayers: number): string[] {
  if (typeof filter === "function") return all.filter(filter);
  if (filter instanceof RegExp) return all.filter((n) => filter.test(n));
  const wanted = (Array.isArray(filter) ? filter : [filter]).map((n) => resolveHookName(n, nLayers));
  return all.filter((n) => wanted.includes(n));
}

const BACKEND_PREFERENCE_KEY = "hooklab.backend";

/** The backend choice remembered for this site (the lab's selector); "auto" when none. */
export function preferredBackend(): BackendChoice {
  try {
    const stored = globalThis.localStorage?.getItem(BACKEND_PREFERENCE_KEY);
    if (stored === "webgpu" || stored === "wasm" || stored === "auto") return stored;
  } catch {
    // Storage can be unavailable (sandboxed frames, privacy modes): no preference then.
  }
  return "auto";
}

export function setPreferredBackend(choice: BackendChoice): void {
  try {
    globalThis.localStorage?.setItem(BACKEND_PREFERENCE_KEY, choice);
  } catch {
    // Not remembered; the choice still applies to loads that pass it explicitly.
  }
}

/** Event name dispatched on globalThis when a model changes backend on its own (GPU lost). */
export const BACKEND_CHANGE_EVENT = "hooklab-backend-change";

/** The engine behind a model, for the test controls of ./testing.ts (not exported by the engine's index). */
export function engineOf(model: HookedTransformer): EngineClient {
  return (model as unknown as { engine: EngineClient }).engine;
}

export class HookedTransformer {
  private backendInfo: BackendInfo;
  private readonly backendListeners = new Set<(backend: BackendInfo) => void>();

  private constructor(private readonly engine: EngineClient, readonly cfg: ModelConfig, readonly variant: "st" | "mt", backend: BackendInfo) {
    this.backendInfo = backend;
    engine.onBackendChange = (next) => {
      this.backendInfo = next;
      this.cfg.backend = next.name;
      for (const listener of this.backendListeners) listener(next);
      globalThis.dispatchEvent?.(new CustomEvent(BACKEND_CHANGE_EVENT, { detail: next }));
    };
  }

  static async load(source: ModelSource = "hooklab-demo", options: LoadOptions = {}): Promise<HookedTransformer> {
    const assetBase = new URL(String(options.assetBase ?? defaultAssetBase()), location.href).href;
    const threads = options.singleThreaded ? 1 : options.threads ?? defaultThreads();
    const engine = new EngineClient({ assetBase, threads });
    try {
      const loaded = await engine.load(source, options.processing ?? "default", {
        signal: options.signal,
        hubEndpoint: options.hubEndpoint,
        backend: options.backend ?? preferredBackend(),
        webgpu: options.webgpu,
        weights: options.weights,
        onProgress: (p) => options.onProgress?.({ ...p, stage: p.stage === "download" ? "download" : "load" }),
      });
      return new HookedTransformer(engine, loaded.cfg, loaded.variant, loaded.backend);
    } catch (e) {
      engine.dispose();
      throw e;
    }
  }

  /** Which backend runs forward passes and sweeps ("webgpu" or "wasm"), and why. */
  get backend(): BackendInfo {
    return this.backendInfo;
  }

  /**
   * Called when the engine died on its own (a wasm trap, out of memory, the worker killed): calls
   * in flight have rejected with an error saying so; a fresh engine reloads this model, and
   * `recovered` settles when it is usable again (or rejects if the reload failed).
   */
  onEngineCrash(listener: ((crash: { reason: string; recovered: Promise<void> }) => void) | undefined): void {
    this.engine.onCrash = listener;
  }

  /** Called when the backend changes on its own (the GPU was lost); returns an unsubscribe. */
  onBackendChange(listener: (backend: BackendInfo) => void): () => void {
    this.backendListeners.add(listener);
    return () => this.backendListeners.delete(listener);
  }

  /** Every hook name that fires (the optional attn.hook_result only with useAttnResult). */
  hookNames(useAttnResult = false): string[] {
    return hookNames(this.cfg.n_layers, useAttnResult);
  }

  async toTokens(input: Input, options: { prependBos?: boolean } = {}): Promise<Int32Array> {
    if (typeof input !== "string") return toInt32(input);
    return this.engine.call<Int32Array>({ op: "toTokens", args: { text: input, prependBos: options.prependBos ?? true } });
  }

  async toStrTokens(input: Input, options: { prependBos?: boolean } = {}): Promise<string[]> {
    const tokens = await this.toTokens(input, options);
    return this.engine.call<string[]>({ op: "strTokens", args: { tokens } });
  }

  async toString(tokens: ArrayLike<number>): Promise<string> {
    return this.engine.call<string>({ op: "decode", args: { tokens: toInt32(tokens) } });
  }

  /** The id of a string that is exactly one token; rejects otherwise, naming its tokens. */
  async toSingleToken(text: string): Promise<number> {
    return this.engine.call<number>({ op: "singleToken", args: { text } });
  }

  async getTokenPosition(token: number | string, input: Input, mode: "first" | "last" = "first"): Promise<number> {
    const id = typeof token === "string" ? await this.toSingleToken(token) : token;
    const tokens = Array.from(await this.toTokens(input));
    const at = mode === "first" ? tokens.indexOf(id) : tokens.lastIndexOf(id);
    if (at < 0) throw new Error(`token ${id} does not occur in the input`);
    return at;
  }

  /**
   * `backend` names what ran the pass (runs with hooks, and backward passes, run on wasm).
   * With inclBwd, `grads` holds d metric / d activation after every forward and backward hook.
   */
  async runWithCache(input: Input, options: RunWithCacheOptions = {}): Promise<RunWithCacheResult> {
    const tokens = await this.toTokens(input, options);
    const all = this.hookNames(options.useAttnResult);
    const cacheNames = options.namesFilter === undefined ? all : namesMatching(options.namesFilter, all, this.cfg.n_layers);
    const grad = options.inclBwd ? await this.wireGrad(options, all, cacheNames) : undefined;
    if (!options.inclBwd && (options.metric || options.bwdHooks?.length)) throw new Error("metric and bwdHooks need inclBwd: true");
    const out = await this.run(tokens, cacheNames, options.useAttnResult ?? false, options.fwdHooks ?? [], options.signal, grad);
    const wired = fromWireCache(out.cache!);
    const cache = new ActivationCache(wired.arena, wired.entries, this.cfg.n_layers);
    const result: RunWithCacheResult = { logits: { data: out.logits!, shape: out.logitsShape! }, cache, tokens, backend: out.backend };
    if (out.grads) {
      const grads = fromWireCache(out.grads);
      result.grads = new ActivationCache(grads.arena, grads.entries, this.cfg.n_layers, "_grad");
      result.metricValue = out.metric;
    }
    return result;
  }

  async runWithHooks(input: Input, options: { fwdHooks: FwdHook[]; useAttnResult?: boolean; prependBos?: boolean; signal?: AbortSignal }): Promise<{ logits: Tensor; tokens: Int32Array; backend: string }> {
    const tokens = await this.toTokens(input, options);
    const out = await this.run(tokens, null, options.useAttnResult ?? false, options.fwdHooks, options.signal);
    return { logits: { data: out.logits!, shape: out.logitsShape! }, tokens, backend: out.backend };
  }

  /** The k most likely next tokens after `position` (default: the last). */
  async topK(logits: Tensor, options: { position?: number; k?: number } = {}): Promise<TopKEntry[]> {
    const [, positions, vocab] = logits.shape;
    const p = options.position ?? -1;
    const at = p < 0 ? p + positions : p;
    if (at < 0 || at >= positions) throw new Error(`position ${p} is out of range for ${positions} positions`);
    const row = logits.data.slice(at * vocab, (at + 1) * vocab);
    return this.engine.call<TopKEntry[]>({ op: "topK", args: { logits: row, k: options.k ?? 10 } }, { transfer: [row.buffer] });
  }

  /** Top-k predictions at every position and the log-probability of each actual next token. */
  async predictions(input: Input, options: { k?: number; prependBos?: boolean } = {}): Promise<Predictions> {
    const tokens = await this.toTokens(input, options);
    return this.engine.call({ op: "predictions", args: { tokens, k: options.k ?? 10 } });
  }

  /** Mean next-token loss and the loss per token ([P - 1]). */
  async loss(input: Input, options: { prependBos?: boolean } = {}): Promise<{ mean: number; perToken: Float64Array }> {
    const tokens = await this.toTokens(input, options);
    return this.engine.call({ op: "loss", args: { tokens } });
  }

  /** An activation-patching sweep of transformer_lens.patching, with its TransformerLens shape. */
  async patch(request: PatchRequest, options: ProgressOptions = {}): Promise<PatchResult> {
    const args = await this.wirePatchRequest(request, false);
    const [result] = await this.engine.call<PatchResult[]>({ op: "patch", args },
      { onProgress: (p) => options.onProgress?.(p.fraction), signal: options.signal });
    return result;
  }

  /**
   * One patch session: several sweeps, each exact or estimated (AtP, AtP*), from one pair of
   * baseline runs; the exact cells of every sweep run together. One result per item, in order.
   */
  async patchItems(request: PatchItemsRequest, options: ProgressOptions = {}): Promise<PatchResult[]> {
    if (request.items.length === 0) throw new Error("patchItems() needs at least one item");
    const items = request.items.map(({ sweep, method }) => ({ sweep: checkSweep(sweep), method: checkMethod(method) }));
    const estimated = items.some((item) => item.method !== "exact");
    const metric = checkMetric(request.metric ?? "logit_diff", estimated);
    const args = await this.wirePatchRequest({ ...request, sweep: items[0].sweep, metric }, false);
    return this.engine.call<PatchResult[]>({ op: "patch", args: { ...args, items } },
      { onProgress: (p) => options.onProgress?.(p.fraction), signal: options.signal });
  }

  /**
   * Attribution patching (AtP, AtP*): every cell of a sweep estimated from the clean and
   * corrupted runs and one backward pass. With `sweeps`, all of them come from the same runs.
   * Values are the estimated patched metric (normalised like patch() with `normalize`).
   */
  attribute(request: AttributeRequest & { sweeps: PatchSweep[] }, options?: { signal?: AbortSignal }): Promise<PatchResult[]>;
  attribute(request: AttributeRequest, options?: { signal?: AbortSignal }): Promise<PatchResult>;
  async attribute(request: AttributeRequest, options: { signal?: AbortSignal } = {}): Promise<PatchResult | PatchResult[]> {
    const method = checkAttributionMethod(request.method);
    const many = request.sweeps !== undefined;
    const sweeps = (many ? request.sweeps! : [request.sweep]).map(checkSweep);
    if (sweeps.length === 0) throw new Error("attribute() needs a sweep, or a non-empty list of sweeps");
    const args = await this.wirePatchRequest({ ...request, sweep: sweeps[0], metric: checkMetric(request.metric ?? "logit_diff", true) }, false);
    const results = await this.engine.call<PatchResult[]>({ op: "attribute", args: { ...args, method, sweeps } }, { signal: options.signal });
    return many ? results : results[0];
  }

  /**
   * One sweep over a dataset of prompt pairs (JSON lines {"clean", "corrupted", "answer"?,
   * "wrong"?}, every prompt of the same token count): the mean of each cell and its 95 %
   * bootstrap interval. Errors name the offending line. Runs as a job: progress over the
   * pairs, cancellable between chunks.
   */
  async patchDataset(request: DatasetRequest, jsonl: string,
    options: { bootstrap?: number; seed?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): Promise<DatasetResult> {
    const method = checkMethod(request.method ?? "exact");
    const metric = checkMetric(request.metric ?? "logit_diff", method !== "exact");
    const args = await this.wirePatchRequest({ ...request, clean: [], corrupted: [], answers: request.answers ?? [], metric }, true);
    return this.engine.call<DatasetResult>({
      op: "patchDataset",
      args: { request: { ...args, method }, jsonl, bootstrap: options.bootstrap ?? 1000, seed: options.seed ?? 1, prependBos: request.prependBos ?? true },
    }, { signal: options.signal, onProgress: (p) => options.onProgress?.(p.fraction) });
  }

  /**
   * Path patching: for every sender head, the metric when its output reaches the receivers
   * (default: the logits) and nothing else, every other head frozen. [n_layers, n_heads].
   * Runs as a job: progress over the senders, cancellable between them.
   *
   *   const toLogits = await model.pathPatch({ clean, corrupted, answers: [[" Mary", " John"]], normalize: true });
   *   const toQueries = await model.pathPatch({ clean, corrupted, answers, receivers: [{ layer: 3, head: 0, input: "q" }] });
   */
  async pathPatch(request: PathPatchRequest, options: ProgressOptions = {}): Promise<PathPatchResult> {
    const metric = checkMetric(request.metric ?? "logit_diff");
    const receivers = (request.receivers ?? []).map(checkReceiver);
    const args = await this.wirePromptPair({ ...request, metric, direction: request.direction ?? "noising" }, false);
    const [result] = await this.engine.call<PathPatchResult[]>({ op: "pathPatch", args: { ...args, receivers } },
      { onProgress: (p) => options.onProgress?.(p.fraction), signal: options.signal });
    return result;
  }

  /** How well an estimated sweep agrees with the exact one (Pearson, Spearman, top-k overlap). */
  async compareSweeps(estimate: ArrayLike<number>, exact: ArrayLike<number>): Promise<SweepAgreement> {
    if (estimate.length !== exact.length) throw new Error(`the sweeps have ${estimate.length} and ${exact.length} cells`);
    return this.engine.call({ op: "compareSweeps", args: { estimate: Float64Array.from(estimate), exact: Float64Array.from(exact) } });
  }

  async logitLens(input: Input, options: { positions?: number[]; answers?: Array<[number | string, number | string]>; k?: number } = {}): Promise<LogitLens> {
    const tokens = await this.toTokens(input);
    const positions = options.positions ?? [tokens.length - 1];
    const pairs = await this.answerPairs(options.answers ?? []);
    return this.engine.call({ op: "logitLens", args: { tokens, positions, pairs, k: options.k ?? 5 } });
  }

  async componentAttribution(input: Input, answers: Array<[number | string, number | string]>, position = -1): Promise<ComponentAttribution> {
    const tokens = await this.toTokens(input);
    const pairs = await this.answerPairs(answers);
    return this.engine.call({ op: "componentAttribution", args: { tokens, position: position < 0 ? position + tokens.length : position, pairs } });
  }

  async headAttribution(input: Input, answers: Array<[number | string, number | string]>, position = -1): Promise<HeadAttribution> {
    const tokens = await this.toTokens(input);
    const pairs = await this.answerPairs(answers);
    return this.engine.call({ op: "headAttribution", args: { tokens, position: position < 0 ? position + tokens.length : position, pairs } });
  }

  async residualNorms(input: Input): Promise<ResidualNorms> {
    const tokens = await this.toTokens(input);
    return this.engine.call({ op: "residualNorms", args: { tokens } });
  }

  /**
   * Previous-token, duplicate-token and induction scores [L, H] on a repeated random sequence
   * (ids 1000..9999 as in TransformerLens's demos, or drawn from tokenPool).
   */
  async detectHeads(options: { seqLen?: number; seed?: number; tokenPool?: ArrayLike<number> } = {}): Promise<HeadDetectorScores> {
    const seqLen = options.seqLen ?? Math.min(50, Math.floor((this.cfg.n_ctx - 1) / 2));
    const pool = options.tokenPool ? toInt32(options.tokenPool) : null;
    return this.engine.call({ op: "detectHeads", args: { seqLen, seed: options.seed ?? 0, pool } });
  }

  /** The engine's wasm memory (its peak: wasm memory only grows), which build and backend run, and
   *  its spare result buffers (results written into memory prepared while the engine was idle). */
  async memoryStats(): Promise<{ wasmMemoryBytes: number; variant: "st" | "mt"; backend: BackendInfo; spareBuffers: SpareBufferStats }> {
    return this.engine.call({ op: "stats", args: {} });
  }

  /** Resolves when the engine has finished every request made before and its background work:
   *  after a run it prepares memory for the next run's results while no request is in progress
   *  (so a request made after this call, if it starts first, delays it). A benchmark waits for
   *  this before another system's turn, so that the two never share the CPU. */
  async whenIdle(): Promise<void> {
    await this.engine.call({ op: "idle", args: {} });
  }

  /** Milliseconds the engine worker computed the most recent call that finished, without its
   *  wait in the worker's queue and the transfer to the page (what a profiler would call the
   *  engine's share; the page-side time of an await adds the transfer). */
  get lastWorkerMs(): number | undefined {
    return this.engine.lastWorkerMs;
  }

  /** The GEMM micro-kernel the engine runs on this machine: timed once per device at start-up
   *  (`tuned`), then remembered in the page's storage. cfg.backend names it too. */
  get gemmTuning(): GemmTuning | undefined {
    return this.engine.gemmTuning;
  }

  dispose(): void {
    this.engine.dispose();
  }

  private async answerPairs(answers: Array<[number | string, number | string]>): Promise<Array<[number, number]>> {
    const id = (t: number | string) => (typeof t === "number" ? t : this.toSingleToken(t));
    return Promise.all(answers.map(async ([a, w]) => [await id(a), await id(w)] as [number, number]));
  }

  /** Tokens, answer ids and checked names of a patching request, as the worker takes them. */
  private async wirePatchRequest(request: PatchRequest, allowNoTokens: boolean): Promise<WirePatchRequest> {
    const sweep = checkSweep(request.sweep);
    return { sweep, ...await this.wirePromptPair(request, allowNoTokens) };
  }

  private async wirePromptPair(request: Omit<PatchRequest, "sweep">, allowNoTokens: boolean): Promise<WirePromptPair> {
    const bos = request.prependBos ?? true;
    const metric = request.metric ?? "logit_diff";
    const [cleanTokens, corruptedTokens] = allowNoTokens ? [new Int32Array(0), new Int32Array(0)] : await Promise.all([
      this.toTokens(request.clean, { prependBos: bos }), this.toTokens(request.corrupted, { prependBos: bos })]);
    return {
      cleanTokens, corruptedTokens, pairs: await this.answerPairs(request.answers),
      metric: typeof metric === "function" ? "custom" : checkMetric(metric),
      customMetricSource: typeof metric === "function" ? metric.toString() : undefined,
      position: request.position ?? -1, normalize: request.normalize ?? false,
      direction: checkDirection(request.direction ?? "denoising"),
    };
  }

  /**
   * TransformerLens's generate(): samples maxNewTokens tokens (temperature 0 is greedy) on the
   * KV-cached forward, with steering, head ablations and fwdHooks active in every step. Tokens
   * stream through onToken one per step; a seeded sample is the same as the CLI's. Plain
   * sampling runs on the GPU when the model is there (KV cache on the device); steering,
   * ablations and fwdHooks run on the wasm model (activation edits live there). If the GPU is
   * lost mid-generation, it restarts on wasm and onToken sees the steps again from index 0.
   *
   *   const out = await model.generate("Once upon a time", { maxNewTokens: 20, temperature: 0.7, seed: 1,
   *     onToken: (step) => console.log(step.str, step.prob) });
   */
  async generate(input: Input, options: GenerateOptions = {}): Promise<GenerateResult> {
    const tokens = await this.toTokens(input, options);
    const { onToken, signal, fwdHooks, prependBos: _prependBos, ...rest } = options;
    const wire: WireGenerateOptions = { ...rest, hooks: this.wireHooks(fwdHooks ?? [], this.hookNames(false)) };
    return this.engine.call<GenerateResult>({ op: "generate", args: { tokens, options: wire } }, {
      signal,
      onProgress: (p) => {
        if (p.step && p.stepIndex !== undefined) onToken?.(p.step, p.stepIndex);
      },
    });
  }

  private async wireGrad(options: RunWithCacheOptions, all: string[], cacheNames: string[]): Promise<WireGrad> {
    const m = options.metric ?? { kind: "loss" };
    const metric = {
      metric: checkMetric(m.kind, true), position: m.position ?? -1, pairs: await this.answerPairs(m.answers ?? []),
      linearWeights: m.linearWeights ? Float32Array.from(m.linearWeights) : undefined,
    };
    const names = options.gradNamesFilter === undefined ? cacheNames : namesMatching(options.gradNamesFilter, all, this.cfg.n_layers);
    return { metric, names, bwdHooks: this.wireHooks(options.bwdHooks ?? [], all) };
  }

  private wireHooks(fwdHooks: FwdHook[], all: string[]): WireHook[] {
    const hooks: WireHook[] = [];
    for (const [target, action] of fwdHooks) {
      const names = typeof target === "string" ? [resolveHookName(target, this.cfg.n_layers)] : namesMatching(target, all, this.cfg.n_layers);
      for (const name of names) hooks.push(wireHook(name, action));
    }
    return hooks;
  }

  private async run(tokens: Int32Array, cacheNames: string[] | null, useAttnResult: boolean, fwdHooks: FwdHook[], signal?: AbortSignal, grad?: WireGrad) {
    const hooks = this.wireHooks(fwdHooks, this.hookNames(useAttnResult));
    return this.engine.call<RunReply>({ op: "run", args: { tokens, cacheNames, useAttnResult, returnLogits: true, hooks, grad } }, { signal });
  }
}

function wireHook(name: string, action: FwdHook[1]): WireHook {
  if (typeof action === "function") return { name, kind: "callback", fnSource: action.toString() };
  const a = action as HookAction;
  const tensor = a.tensor instanceof Float32Array ? { data: a.tensor, shape: [a.tensor.length] } : a.tensor;
  return { name, kind: a.kind, data: tensor?.data, shape: tensor?.shape, positions: a.positions, heads: a.heads };
}
