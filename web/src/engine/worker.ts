// The engine's Web Worker: owns the wasm module and the loaded model, answers protocol
// requests (protocol.ts). Patching sweeps run one chunk per event-loop turn so progress is
// reported and a cancel message is seen between chunks.
//
// Backends: the model is always loaded on wasm (hooks, analysis tools and the fallback need
// it); forward passes without hooks and patching sweeps run on the GPU when the load chose
// WebGPU (webgpu-session.ts). If the GPU is lost, the request is re-run on wasm, a "backend"
// message tells the page, and the engine stays on wasm.

import { chooseVariant, loadCoreModule, unwrap, type EmbindAttribution, type EmbindGenerator, type EmbindModel, type EmbindModule, type EmbindPatchJob, type RunValue, type Variant } from "./core-module";
import { fatalMessage } from "./fatal-error";
import { openModel } from "./model-source";
import type { GemmTuning, Request, RequestMessage, ResponseMessage, WireGenerateOptions, WireGrad, WireHook, WirePatchRequest } from "./protocol";
import { SpareBuffers } from "./spare-buffers";
import { toWireCache } from "./cache-wire";
import type { BackendInfo } from "./types";
import { closeGpuPath, openGpuPath, runOnGpu, type GpuPath } from "./webgpu-session";

interface WorkerScope {
  postMessage(message: ResponseMessage, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<RequestMessage>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let assetBase = "";
let threads = 1;
let core: EmbindModule | undefined;
let variant: Variant = "st";
let model: EmbindModel | undefined;
let gpu: GpuPath | undefined;
let backend: BackendInfo = { kind: "wasm", name: "", requested: "auto" };
const cancelled = new Set<number>();
const aborters = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();
/**
 * The last attribution session, kept because the lab asks for the same prompts again with
 * another method or sweep list; any other request replaces (and frees) it.
 */
let attribution: { key: string; session: EmbindAttribution } | undefined;

/** The GEMM kernel of every load: timed at start-up (<= 70 ms plus a round) unless the page remembers one for this
 *  device. Without a choice (a failure here is not the user's problem) the backend's default runs. */
let gemmTuning: GemmTuning | undefined;
const GEMM_TUNING_BUDGET_MS = 70;

function chooseGemmKernel(module: EmbindModule, remembered: string | undefined): GemmTuning | undefined {
  // Timed on this thread alone, whatever the model's thread count (core/include/hooklab/gemm_tuning.h).
  const choice = module.tuneGemmKernel({ budgetMs: GEMM_TUNING_BUDGET_MS, ...(remembered ? { remembered } : {}) });
  return choice ?? undefined;
}

// One event-loop turn, so that a cancel message can be handled between two steps of a job. Not
// setTimeout(0): nested timers are clamped to 4 ms, which was a sixth of a generation step.
const turnChannel = new MessageChannel();
const turnWaiters: (() => void)[] = [];
turnChannel.port1.onmessage = () => turnWaiters.shift()?.();
function nextEventLoopTurn(): Promise<void> {
  return new Promise((resolve) => {
    turnWaiters.push(resolve);
    turnChannel.port2.postMessage(null);
  });
}

// Spare result buffers (spare-buffers.ts), written only while no request is in progress, so that
// they never slow a run, a sweep or a generation down. The pool schedules one task at a time.
// A page often sends its next request as soon as a result arrives (a round trip takes about
// 0.5 ms): writing starts only after a short grace, so that such a request never finds a slice
// in progress. One slice (256 KB of fresh pages, ~0.6 ms on the benchmark VMs) is the most a
// later request waits.
const IDLE_GRACE_MS = 4;
let requestsInProgress = 0;
let idleTask: (() => void) | undefined;
let graceTimer: ReturnType<typeof setTimeout> | undefined;
const idleChannel = new MessageChannel();
idleChannel.port1.onmessage = () => {
  if (requestsInProgress > 0 || !idleTask) return;  // the last request's end posts again
  const task = idleTask;
  idleTask = undefined;
  task();
};
function whenNoRequest(task: () => void): void {
  idleTask = task;
  if (requestsInProgress === 0 && graceTimer === undefined) idleChannel.port2.postMessage(null);
}
/** The last request ended: the pending idle task runs after the grace, unless a request comes first. */
function startGrace(): void {
  clearTimeout(graceTimer);
  graceTimer = setTimeout(() => {
    graceTimer = undefined;
    if (requestsInProgress === 0 && idleTask) idleChannel.port2.postMessage(null);
  }, IDLE_GRACE_MS);
}
// 256 MB holds the results of GPT-2 small up to T = 128 (two logits of 25.7 MB and a 110 MB cache).
const spares = new SpareBuffers({ budgetBytes: 256 * 2 ** 20, sliceBytes: 2 ** 18, recentResults: 4, schedule: whenNoRequest });

/** Lengths of the results the current request's wasm runs asked spares for (the WebGPU path
 *  copies its results itself, so a GPU run asks for none and gets no spares prepared). */
let askedLengths: number[] = [];
function takeSpare(length: number): Float32Array | undefined {
  askedLengths.push(length);
  return spares.take(length);
}

function post(message: ResponseMessage, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** Buffers of typed arrays inside a result, transferred instead of copied. */
function transferables(value: unknown, out: Transferable[] = [], seen = new Set<ArrayBufferLike>()): Transferable[] {
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (buffer instanceof ArrayBuffer && !seen.has(buffer)) {
      seen.add(buffer);
      out.push(buffer);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) transferables(v, out, seen);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) transferables(v, out, seen);
  }
  return out;
}

/** Compiles a function sent as source text (user hooks and metrics run here, in the worker). */
function compile<T>(source: string, what: string): T {
  try {
    return new Function(`"use strict"; return (${source});`)() as T;
  } catch (e) {
    throw new Error(`${what} is not a valid function: ${(e as Error).message}`, { cause: e });
  }
}

function requireModel(): EmbindModel {
  if (!model) throw new Error("no model is loaded");
  return model;
}

function wireHooks(hooks: WireHook[]): unknown[] {
  return hooks.map((h) => {
    if (h.kind !== "callback") return h;
    const fn = compile<(act: unknown, hook: unknown) => unknown>(h.fnSource ?? "", `hook on ${h.name}`);
    return { ...h, fn: (act: unknown, info: unknown) => {
      try {
        const r = fn(act, info);
        return r === undefined ? undefined : r;
      } catch (e) {
        return `hook on ${h.name} threw: ${(e as Error).message}`;
      }
    } };
  });
}

function abortError(what = "the patching sweep"): Error {
  const e = new Error(`${what} was cancelled`);
  e.name = "AbortError";
  return e;
}

/** The GPU is gone: drop it, tell the page (under request `id`), and stay on wasm. */
function fallBackToWasm(id: number, cause: unknown): void {
  const why = core!.hooklabWebgpu.isLost() ? core!.hooklabWebgpu.lostMessage() : (cause as Error)?.message ?? String(cause);
  closeGpuPath(core!, gpu);
  gpu = undefined;
  backend = {
    ...backend, kind: "wasm", name: requireModel().config().backend,
    notice: `The GPU was lost (${why}). hooklab moved to wasm SIMD and re-ran the request there; it stays on wasm until the model is loaded again.`,
  };
  post({ id, type: "backend", backend });
}

/** Runs `onGpu` when the GPU path is up; if the device is lost meanwhile, falls back. */
async function onGpuOrWasm<T>(id: number, onGpu: ((g: GpuPath) => Promise<T>) | null, onWasm: () => T | Promise<T>): Promise<T> {
  if (gpu && onGpu) {
    if (core!.hooklabWebgpu.isLost()) {
      fallBackToWasm(id, "lost between requests");
    } else {
      try {
        return await onGpu(gpu);
      } catch (e) {
        if (!core!.hooklabWebgpu.isLost()) throw e;
        fallBackToWasm(id, e);
      }
    }
  }
  return onWasm();
}

/** A forward pass, with the name of the backend that ran it. */
async function forward(id: number, tokens: Int32Array, options: Record<string, unknown>): Promise<RunValue & { backend: string }> {
  const m = requireModel();
  // Hooks that edit activations and backward passes exist on wasm only.
  const hooked = Array.isArray(options.hooks) && options.hooks.length > 0 || options.gradMetric !== undefined;
  return onGpuOrWasm(id,
    hooked ? null : async (g) => ({ ...(await runOnGpu(core!, g, tokens, options)), backend: g.name }),
    () => ({ ...unwrap(m.run(tokens, { ...options, takeBuffer: takeSpare })), backend: m.config().backend }));
}

async function runPatch(id: number, r: WirePatchRequest): Promise<unknown> {
  const m = requireModel();
  // The wire request as the core reads it, plus a custom metric compiled here (functions do not travel).
  const request: WirePatchRequest & { customMetric?: (logits: Float32Array) => number } = { ...r };
  if (r.metric === "custom") {
    const metric = compile<(logits: Float32Array) => number>(r.customMetricSource ?? "", "metric");
    request.customMetric = (logits: Float32Array) => Number(metric(logits));
  }
  const checkpoint = () => {
    if (cancelled.has(id)) throw abortError();
  };
  const progress = (fraction: number) => post({ id, type: "progress", progress: { stage: "patch", fraction } });
  // The device runs exact sweeps; a session with an estimate runs where the backward pass is.
  const estimated = (r.items ?? []).some((item) => item.method !== "exact") || (r.method ?? "exact") !== "exact";
  const drive = async (job: EmbindPatchJob | null, backend: string, gpuPath: GpuPath | null) => {
    if (!job) unwrap(core!.lastError());
    const results = await drivePatchJob(job!, gpuPath, checkpoint, progress);
    return results.map((result) => ({ ...result, backend }));
  };
  return onGpuOrWasm(id,
    estimated ? null : (g) => drive(g.session.startPatch(request), g.name, g),
    () => drive(m.startPatch(request), m.config().backend, null));
}

/** A sweep over a dataset of prompt pairs, one chunk of one pair per event-loop turn. */
async function patchDataset(id: number, args: Extract<Request, { op: "patchDataset" }>["args"]): Promise<unknown> {
  const { request, jsonl, bootstrap, seed, prependBos } = args;
  const checkpoint = () => {
    if (cancelled.has(id)) throw abortError("the dataset sweep");
  };
  checkpoint();
  const job = requireModel().startPatchDataset(request, jsonl, { bootstrap, seed, prependBos });
  if (!job) unwrap(core!.lastError());
  const progress = (fraction: number) => post({ id, type: "progress", progress: { stage: "patch", fraction } });
  const [result] = await drivePatchJob(job!, null, checkpoint, progress);
  return result;
}

/** Path patching on the wasm model, one sender head per event-loop turn. */
async function pathPatch(id: number, args: Extract<Request, { op: "pathPatch" }>["args"]): Promise<unknown> {
  const checkpoint = () => {
    if (cancelled.has(id)) throw abortError("path patching");
  };
  checkpoint();
  const job = requireModel().startPathPatch(args);
  if (!job) unwrap(core!.lastError());
  const progress = (fraction: number) => post({ id, type: "progress", progress: { stage: "patch", fraction } });
  return drivePatchJob(job!, null, checkpoint, progress);
}

/**
 * Runs a patch job (host, device or dataset: one Embind class) one chunk per event-loop turn, so a
 * cancel message can arrive between chunks; on the device each step first awaits the flush
 * that brings the previous chunk's readback. `checkpoint` throws to cancel.
 */
async function drivePatchJob(job: EmbindPatchJob, gpuPath: GpuPath | null, checkpoint: () => void,
  progress: (fraction: number) => void): Promise<Record<string, unknown>[]> {
  try {
    for (;;) {
      checkpoint();
      if (gpuPath) await core!.hooklabWebgpu.flush();
      const step = unwrap(job.step());
      progress(step.progress);
      if (step.done) return job.results();
      await nextEventLoopTurn();
    }
  } catch (e) {
    if (gpuPath) core!.hooklabWebgpu.discardReads();
    throw e;
  } finally {
    job.delete();
  }
}

/**
 * Generation, one token per event-loop turn: each step goes to the page as a progress message,
 * and a cancel is seen between tokens — the generator is dropped and the model is untouched.
 * Plain sampling runs on the GPU when the model is there (its KV cache on the device); hooks,
 * steering and ablation edit activations, which only the wasm model does.
 */
async function generate(id: number, tokens: Int32Array, options: WireGenerateOptions): Promise<unknown> {
  const m = requireModel();
  const wire = { ...options, hooks: wireHooks(options.hooks) };
  const edits = (options.steering?.length ?? 0) + (options.ablateHeads?.length ?? 0) + (wire.hooks?.length ?? 0) > 0;
  return onGpuOrWasm(id,
    edits ? null : (g) => driveGenerator(id, g.session.startGenerate(tokens, wire), options, g.name, g),
    () => driveGenerator(id, m.startGenerate(tokens, wire), options, m.config().backend, null));
}

async function driveGenerator(id: number, generator: EmbindGenerator | null, options: WireGenerateOptions,
  backend: string, gpuPath: GpuPath | null): Promise<unknown> {
  if (!generator) unwrap(core!.lastError());
  const m = requireModel();
  try {
    const steps: unknown[] = [];
    const total = Math.max(options.maxNewTokens ?? 10, 1);
    while (!generator!.done()) {
      if (cancelled.has(id)) throw abortError("the generation");
      unwrap(generator!.beginStep());
      if (gpuPath) await core!.hooklabWebgpu.flush();
      const { step } = unwrap(generator!.step());
      steps.push(step);
      post({ id, type: "progress", progress: { stage: "generate", fraction: steps.length / total, step, stepIndex: steps.length - 1 } });
      await nextEventLoopTurn();
    }
    const all = generator!.tokens();
    const promptLength = generator!.promptLength();
    return {
      tokens: all, promptLength, steps, stoppedAtEos: generator!.stoppedAtEos(), backend,
      text: m.decode(all), generatedText: m.decode(all.subarray(promptLength)),
    };
  } catch (e) {
    if (gpuPath) core!.hooklabWebgpu.discardReads();
    throw e;
  } finally {
    generator!.delete();
  }
}

/** The core's run options for run_with_cache(incl_bwd=True). */
function gradOptions(grad: WireGrad): Record<string, unknown> {
  const options: Record<string, unknown> = { gradMetric: grad.metric, bwdHooks: wireHooks(grad.bwdHooks) };
  if (grad.names) options.gradNames = grad.names;
  return options;
}

function dropAttribution(): void {
  attribution?.session.delete();
  attribution = undefined;
}

/** The session for these prompts and metric: the cached one, or a new one (2 forwards + 1 backward). */
function attributionSession(m: EmbindModel, r: WirePatchRequest): EmbindAttribution {
  const key = JSON.stringify([Array.from(r.cleanTokens), Array.from(r.corruptedTokens), r.metric, r.position, r.pairs, r.direction]);
  if (attribution?.key === key) return attribution.session;
  dropAttribution();
  const session = m.startAttribution({ ...r, method: "atp" });
  if (!session) unwrap(core!.lastError());
  attribution = { key, session: session! };
  return session!;
}

/** Every asked sweep from one session; a cancel is seen before the runs and between sweeps. */
function attribute(id: number, r: WirePatchRequest & { method: string; sweeps: string[] }): unknown[] {
  const m = requireModel();
  if (cancelled.has(id)) throw abortError("the attribution");
  const session = attributionSession(m, r);
  const backendName = m.config().backend;
  return r.sweeps.map((sweep) => {
    if (cancelled.has(id)) throw abortError("the attribution");
    return { ...unwrap(session.sweep(sweep, r.method, r.normalize)), backend: backendName };
  });
}

type Args<Op extends RequestMessage["op"]> = Extract<RequestMessage, { op: Op }>["args"];

async function initEngine(args: Args<"init">): Promise<unknown> {
  assetBase = args.assetBase;
  threads = args.threads;
  if (args.lifeLock) await holdForLife(args.lifeLock);
  variant = chooseVariant(threads);
  core = await loadCoreModule(new URL("wasm/", assetBase).href, variant);
  gemmTuning = chooseGemmKernel(core, args.gemmKernel);
  return { variant, isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, gemmTuning };
}

// Room the engine needs beside the weights: its code and stack, the tokenizer, a forward's
// workspace and the load's staging buffers.
const ENGINE_OVERHEAD_BYTES = 256 * 2 ** 20;

/** Refuses, from config.json alone, a model whose weights cannot fit the module's memory, so
 *  nothing is downloaded or allocated for it. A config the core refuses is left to the load,
 *  which says why. */
function refuseIfTooLarge(module: EmbindModule, config: string, processing: string | undefined, weights: string): void {
  const need = module.modelMemoryNeed(config, processing ?? "default", weights);
  if (!need || need.weightBytes + ENGINE_OVERHEAD_BYTES <= need.limitBytes) return;
  const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  const held = weights === "f16" ? "f16" : "float32";
  const half = weights === "f16" ? null : module.modelMemoryNeed(config, processing ?? "default", "f16");
  const hint = half && half.weightBytes + ENGINE_OVERHEAD_BYTES <= half.limitBytes
    ? `; with f16 weights it would need ${gb(half.weightBytes)} GiB and fit` : "";
  throw new Error(`this model needs ${gb(need.weightBytes)} GiB of memory for its weights (${held}, processed), and the ` +
    `engine's WebAssembly memory holds at most ${gb(need.limitBytes)} GiB: it cannot be loaded in the browser ` +
    `(its weights were neither read nor downloaded)${hint}`);
}

/** Opens the source's files, replaces the loaded model (and its GPU path) and picks the backend. */
async function loadModel(id: number, args: Args<"load">): Promise<unknown> {
  if (!core) throw new Error("the engine is not initialised");
  spares.clear();
  const heap = () => core!.HEAPU8;
  const aborter = new AbortController();
  aborters.set(id, aborter);
  const opened = await openModel(args.source, {
    assetBase,
    heap,
    checkConfig: (config) => refuseIfTooLarge(core!, config, args.processing, args.weights ?? "f32"),
    signal: aborter.signal,
    hubEndpoint: args.hubEndpoint,
    onProgress: (p) => post({ id, type: "progress", progress: p }),
  }).finally(() => aborters.delete(id));
  try {
    closeGpuPath(core, gpu);
    gpu = undefined;
    dropAttribution();
    model?.delete();
    model = undefined;
    const loaded = core.loadModel({
      config: opened.config, ...opened.tokenizer,
      weights: opened.weights, weightsName: opened.weightsName,
    }, {
      processing: args.processing,
      weights: args.weights ?? "f32",
      threads: variant === "mt" ? threads : 1,
      name: opened.name,
      ...(gemmTuning?.kernel ? { gemmKernel: gemmTuning.kernel } : {}),
      onProgress: (fraction: number) => post({ id, type: "progress", progress: { stage: "load", fraction } }),
    });
    if (!loaded) unwrap(core.lastError());
    model = loaded!;
  } finally {
    opened.close();
  }
  const cfg = model.config();
  const requested = args.backend ?? "auto";
  const chosen = await openGpuPath(core, model, cfg, requested, args.webgpu);
  gpu = chosen.gpu;
  backend = gpu
    ? { kind: "webgpu", name: gpu.name, requested, adapter: chosen.adapter }
    : { kind: "wasm", name: cfg.backend, requested, reason: chosen.reason, adapter: chosen.adapter };
  return { cfg: { ...cfg, backend: backend.name }, variant, backend };
}

/**
 * Everything the prediction views show, from one forward pass: the top k at every position and
 * how likely the actual next token was.
 */
async function predictions(id: number, tokens: Int32Array, k: number): Promise<unknown> {
  const m = requireModel();
  const out = await forward(id, tokens, { returnLogits: true });
  const logits = out.logits!;
  const vocab = out.logitsShape![2];
  const positions = tokens.length;
  const top: unknown[] = [];
  for (let p = 0; p < positions; p++) top.push(m.topK(logits.subarray(p * vocab, (p + 1) * vocab), k));
  const loss = unwrap(m.loss(logits, tokens));
  const nextRank = new Int32Array(Math.max(positions - 1, 0));
  for (let p = 0; p + 1 < positions; p++) {
    const row = logits.subarray(p * vocab, (p + 1) * vocab);
    const target = row[tokens[p + 1]];
    let rank = 0;
    for (let v = 0; v < vocab; v++) if (row[v] > target) rank++;
    nextRank[p] = rank;
  }
  spares.keep(logits);
  return { top, nextLogProb: loss.perToken.map((x) => -x), nextRank, loss: loss.mean };
}

async function handle(message: RequestMessage): Promise<unknown> {
  const { id } = message;
  switch (message.op) {
    case "init":
      return initEngine(message.args);
    case "load":
      return loadModel(id, message.args);
    case "toTokens":
      return requireModel().toTokens(message.args.text, message.args.prependBos);
    case "strTokens":
      return requireModel().strTokens(message.args.tokens);
    case "decode":
      return requireModel().decode(message.args.tokens);
    case "singleToken":
      return unwrap(requireModel().singleToken(message.args.text)).value;
    case "run": {
      const a = message.args;
      const options: Record<string, unknown> = { useAttnResult: a.useAttnResult, returnLogits: a.returnLogits, hooks: wireHooks(a.hooks) };
      if (a.cacheNames) options.cacheNames = a.cacheNames;
      if (a.grad) Object.assign(options, gradOptions(a.grad));
      const { cache, grads, ...rest } = await forward(id, a.tokens, options);
      return { ...rest, cache: cache && toWireCache(cache), grads: grads && toWireCache(grads) };
    }
    case "generate":
      return generate(id, message.args.tokens, message.args.options);
    case "topK":
      return requireModel().topK(message.args.logits, message.args.k);
    case "loss": {
      const m = requireModel();
      const out = await forward(id, message.args.tokens, { returnLogits: true });
      const loss = unwrap(m.loss(out.logits!, message.args.tokens));
      spares.keep(out.logits!);
      return loss;
    }
    case "patch":
      return runPatch(id, message.args);
    case "attribute":
      // Attribution always runs on the wasm model (the GPU path has no backward pass).
      return attribute(id, message.args);
    case "patchDataset":
      return patchDataset(id, message.args);
    case "pathPatch":
      return pathPatch(id, message.args);
    case "compareSweeps":
      if (!core) throw new Error("the engine is not initialised");
      return core.compareSweeps(message.args.estimate, message.args.exact);
    case "logitLens": {
      const a = message.args;
      const m = requireModel();
      const lens = unwrap(m.logitLens(a.tokens, a.positions, a.pairs, a.k)) as { topTokens: Int32Array };
      return { ...lens, topStrings: Array.from(lens.topTokens, (id) => m.tokenText(id)) };
    }
    case "componentAttribution":
      return unwrap(requireModel().componentAttribution(message.args.tokens, message.args.position, message.args.pairs));
    case "headAttribution":
      return unwrap(requireModel().headAttribution(message.args.tokens, message.args.position, message.args.pairs));
    case "residualNorms":
      return unwrap(requireModel().residualNorms(message.args.tokens));
    case "detectHeads":
      return unwrap(requireModel().detectHeads(message.args.seqLen, message.args.seed, message.args.pool));
    case "predictions":
      return predictions(id, message.args.tokens, message.args.k);
    case "stats":
      // wasm memory never shrinks, so its size is the peak of this worker's lifetime.
      return { wasmMemoryBytes: core ? core.HEAPU8.buffer.byteLength : 0, variant, backend, spareBuffers: spares.stats() };
    case "cancel":
      cancelled.add(message.args.target);
      return null;
  }
}

/** Holds the page's life lock until this worker ends (resolves once it is held). */
function holdForLife(name: string): Promise<void> {
  return new Promise((held) => {
    void navigator.locks.request(name, () => {
      held();
      return new Promise<never>(() => {});
    });
  });
}

scope.onmessage = (event) => {
  const message = event.data;
  // Cancels must not wait behind the job they cancel.
  if (message.op === "cancel") {
    cancelled.add(message.args.target);
    aborters.get(message.args.target)?.abort();
    return;
  }
  // Nor does a device loss: it strikes whatever is running, as a real one would.
  if (message.op === "loseDevice") {
    core?.hooklabWebgpu.loseDevice();
    return;
  }
  // Waits for the requests before it and for the spare buffers, without holding up later requests.
  if (message.op === "idle") {
    void queue.then(() => spares.whenIdle()).then(() => post({ id: message.id, type: "result", value: null }));
    return;
  }
  requestsInProgress++;
  queue = queue.then(async () => {
    try {
      const started = performance.now();
      askedLengths = [];
      const value = await handle(message);
      post({ id: message.id, type: "result", value, workerMs: performance.now() - started }, transferables(value));
      // Results that left for the page: prepare their successors. (Other requests keep() theirs.)
      if (message.op === "run") spares.replenish(askedLengths);
    } catch (e) {
      const error = e as Error & { code?: string };
      const fatal = fatalMessage(error);
      if (fatal) {
        // The wasm module is unusable after a trap or an abort: say why, then end this worker
        // (the page sees its life lock released and starts a fresh engine).
        post({ id: message.id, type: "error", message: fatal, code: "crashed" });
        self.close();
        return;
      }
      post({ id: message.id, type: "error", message: error.message, code: error.name === "AbortError" ? "cancelled" : error.code ?? "error" });
    } finally {
      cancelled.delete(message.id);
      if (--requestsInProgress === 0 && idleTask) startGrace();
    }
  });
};
