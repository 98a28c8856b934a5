// Page side of the worker protocol: request/response by id, progress callbacks, and
// cancellation. Work that can stop between steps (patching sweeps, downloads) is cancelled
// in the worker; a forward pass cannot be interrupted, so cancelling one restarts the worker
// and reloads the model — the page never waits on a job it gave up. A worker that dies on its
// own (a wasm trap, out of memory, killed) is noticed through a Web Lock it holds while alive:
// its pending calls reject with an error that says so, a fresh worker starts and the last
// model is reloaded (from the browser's model store when it came from the hub).

import { chooseVariant } from "./core-module";
import type { GemmTuning, InitArgs, LoadArgs, LoadResult, Request, RequestMessage, ResponseMessage } from "./protocol";
import type { WeightPrecisionName } from "./generated/model-options";
import type { BackendChoice, GenerateStep, BackendInfo, ModelSource, Processing, WebgpuOptions } from "./types";


type Pending = {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: { stage?: string; fraction: number; step?: GenerateStep; stepIndex?: number }) => void;
};

export class EngineError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = code === "cancelled" ? "AbortError" : "HooklabError";
  }
}

/**
 * Requests that the worker can stop between steps without losing the model. Attribution and
 * dataset requests stop only before they start (or between sweeps): they are short, and
 * restarting the worker to stop one would cost a model load.
 */
const CANCELLABLE_IN_WORKER = new Set<Request["op"]>(["patch", "load", "attribute", "patchDataset", "pathPatch", "generate"]);

// The GEMM kernel a device was timed to prefer, kept in the page's localStorage per build, st or mt
// (the worker has no localStorage; the timing runs on one thread, so the mt build's pages share
// one pick whatever their thread count). A
// stored value is only a hint: the worker uses it only if its build has a kernel of that name,
// and times the kernels again otherwise. v1 keys held picks timed with all threads, which a busy
// core could make a slow kernel's: they are left unread.
const GEMM_KERNEL_NAME = /^\w{1,40}$/;

function gemmKernelKey(threads: number): string {
  return `hooklab.gemmKernel.v2.${chooseVariant(threads)}`;
}

function rememberedKernel(key: string): string | undefined {
  try {
    const value = globalThis.localStorage?.getItem(key) ?? undefined;
    return value && GEMM_KERNEL_NAME.test(value) ? value : undefined;
  } catch {
    return undefined;  // storage blocked (an embed in a third-party frame): time again
  }
}

function rememberKernel(key: string, kernel: string): void {
  try {
    if (kernel) globalThis.localStorage?.setItem(key, kernel);
  } catch {
    /* storage blocked or full: the next start times again */
  }
}

export class EngineClient {
  private worker!: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private initArgs: InitArgs;
  private lastLoad?: LoadArgs;
  /** Called when the worker changes backend on its own (the GPU was lost). */
  onBackendChange?: (backend: BackendInfo) => void;
  /** Called when the worker died on its own; `recovered` settles once the model is back. */
  onCrash?: (crash: { reason: string; recovered: Promise<void> }) => void;
  private ready: Promise<unknown>;
  /** Which worker is current: a lock granted for an older one (one we ended) means nothing. */
  private generation = 0;
  private disposed = false;
  /** Why the worker is ending itself (it reports a trap or an abort before it closes). */
  private fatalReason?: string;
  variant: "st" | "mt" = "st";
  /** The worker's compute time of the most recent call that finished (ResponseMessage.workerMs). */
  lastWorkerMs: number | undefined;
  /** The GEMM micro-kernel the worker chose at start-up (timed, or remembered for this device). */
  gemmTuning: GemmTuning | undefined;

  constructor(init: InitArgs) {
    this.initArgs = init;
    this.ready = this.start();
  }

  private start(): Promise<unknown> {
    const generation = ++this.generation;
    const lifeLock = typeof navigator !== "undefined" && navigator.locks ? `hooklab-engine-${crypto.randomUUID()}` : undefined;
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (event: MessageEvent<ResponseMessage>) => this.receive(event.data);
    let started = false;
    this.worker.onerror = (event) => {
      event.preventDefault();
      if (generation !== this.generation) return;
      const reason = `the engine worker failed: ${event.message || "unknown error"}`;
      // A worker that never started (its script failed) is not restarted: it would fail again.
      if (started) this.crashed(reason);
      else this.failAll(new EngineError(reason, "worker"));
    };
    const rememberedKey = gemmKernelKey(this.initArgs.threads);
    const gemmKernel = rememberedKernel(rememberedKey);
    return this.send({ op: "init", args: { ...this.initArgs, lifeLock, ...(gemmKernel ? { gemmKernel } : {}) } }).then((r) => {
      started = true;
      this.variant = (r as { variant: "st" | "mt" }).variant;
      this.gemmTuning = (r as { gemmTuning?: GemmTuning }).gemmTuning;
      if (this.gemmTuning?.tuned) rememberKernel(rememberedKey, this.gemmTuning.kernel);
      // The worker holds the lock once init answers; the page gets it only when the worker is gone.
      if (lifeLock) {
        void navigator.locks.request(lifeLock, () => {
          if (generation !== this.generation || this.disposed) return;
          this.crashed(this.fatalReason ?? "the engine stopped unexpectedly (it may have run out of memory)");
        });
      }
      return r;
    });
  }

  /** The worker died on its own: reject what it held, start a fresh one, reload the model. */
  private crashed(reason: string): void {
    this.fatalReason = undefined;
    const reloading = this.lastLoad !== undefined;
    const error = new EngineError(`${reason}. A fresh engine was started${reloading ? " and the model is being reloaded" : ""}; try again.`, "crashed");
    const recovered = this.respawn(error);
    recovered.catch(() => undefined);
    this.onCrash?.({ reason, recovered });
  }

  private receive(message: ResponseMessage): void {
    if (message.type === "backend") {
      this.onBackendChange?.(message.backend);
      return;
    }
    const p = this.pending.get(message.id);
    if (!p) return;
    if (message.type === "progress") {
      p.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === "error" && message.code === "crashed") this.fatalReason = message.message;
    if (message.type === "result") {
      if (message.workerMs !== undefined) this.lastWorkerMs = message.workerMs;
      p.resolve(message.value);
    }
    else p.reject(new EngineError(message.message, message.code));
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private send(request: Request, options: { onProgress?: Pending["onProgress"]; transfer?: Transferable[] } = {}) {
    const id = this.nextId++;
    const message = { ...request, id } as RequestMessage;
    const promise = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: options.onProgress });
    });
    this.worker.postMessage(message, options.transfer ?? []);
    return Object.assign(promise, { id });
  }

  /** Sends a request once the worker is ready; an aborted signal cancels it. */
  async call<T>(request: Request, options: { onProgress?: Pending["onProgress"]; signal?: AbortSignal; transfer?: Transferable[] } = {}): Promise<T> {
    await this.ready;
    if (options.signal?.aborted) throw new EngineError("cancelled before it started", "cancelled");
    const promise = this.send(request, options);
    if (!options.signal) return promise as Promise<T>;
    const onAbort = () => {
      if (CANCELLABLE_IN_WORKER.has(request.op)) {
        this.worker.postMessage({ op: "cancel", args: { target: promise.id }, id: 0 });
      } else {
        void this.restart();
      }
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    try {
      return (await promise) as T;
    } finally {
      options.signal.removeEventListener("abort", onAbort);
    }
  }

  async load(source: ModelSource, processing: Processing, options: { onProgress?: Pending["onProgress"]; signal?: AbortSignal; hubEndpoint?: string; backend?: BackendChoice; webgpu?: WebgpuOptions; weights?: WeightPrecisionName } = {}): Promise<LoadResult> {
    const args: LoadArgs = { source, processing, hubEndpoint: options.hubEndpoint, backend: options.backend, webgpu: options.webgpu, weights: options.weights };
    const result = await this.call<LoadResult>({ op: "load", args }, options);
    this.lastLoad = args;
    return result;
  }

  /** Destroys the worker's GPU device now, even mid-request (tests of the fallback). */
  loseDevice(): void {
    this.worker.postMessage({ op: "loseDevice", args: {}, id: 0 });
  }

  /** Kills a busy worker (rejecting what it was doing) and brings the model back. */
  async restart(): Promise<void> {
    await this.respawn(new EngineError("cancelled", "cancelled"));
  }

  private async respawn(error: EngineError): Promise<void> {
    this.worker.terminate();
    this.failAll(error);
    this.ready = this.start();
    if (this.lastLoad) {
      const args = this.lastLoad;
      // A model that kills the engine while it reloads is not reloaded again (no crash loop).
      this.lastLoad = undefined;
      this.ready = this.ready.then(() => this.send({ op: "load", args })).then((r) => {
        this.lastLoad = args;
        return r;
      });
    }
    await this.ready;
  }

  dispose(): void {
    this.disposed = true;
    this.worker.terminate();
    this.failAll(new EngineError("the model was disposed", "disposed"));
  }
}
