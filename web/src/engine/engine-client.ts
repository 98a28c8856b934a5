// Page side of the worker protocol: request/response by id, progress callbacks, and
// cancellation. Work that can stop between steps (patching sweeps, downloads) is cancelled
// in the worker; a forward pass cannot be interrupted, so cancelling one restarts the worker
// and reloads the model — the page never waits on a job it gave up.

import type { InitArgs, LoadResult, Request, RequestMessage, ResponseMessage } from "./protocol";
import type { BackendChoice, GenerateStep, BackendInfo, ModelSource, Processing, WebgpuOptions } from "./types";

type LoadArgs = { source: ModelSource; processing: Processing; hubEndpoint?: string; backend?: BackendChoice; webgpu?: WebgpuOptions };

type Pending = {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: (progress: { stage?: string; fraction: number; step?: GenerateStep }) => void;
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
const CANCELLABLE_IN_WORKER = new Set<Request["op"]>(["patch", "load", "attribute", "patchDataset", "generate"]);

export class EngineClient {
  private worker!: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private initArgs: InitArgs;
  private lastLoad?: LoadArgs;
  /** Called when the worker changes backend on its own (the GPU was lost). */
  onBackendChange?: (backend: BackendInfo) => void;
  private ready: Promise<unknown>;
  variant: "st" | "mt" = "st";

  constructor(init: InitArgs) {
    this.initArgs = init;
    this.ready = this.start();
  }

  private start(): Promise<unknown> {
    this.worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.worker.onmessage = (event: MessageEvent<ResponseMessage>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.failAll(new EngineError(`the engine worker failed: ${event.message || "unknown error"}`, "worker"));
    };
    return this.send({ op: "init", args: this.initArgs }).then((r) => {
      this.variant = (r as { variant: "st" | "mt" }).variant;
      return r;
    });
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
    if (message.type === "result") p.resolve(message.value);
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

  async load(source: ModelSource, processing: Processing, options: { onProgress?: Pending["onProgress"]; signal?: AbortSignal; hubEndpoint?: string; backend?: BackendChoice; webgpu?: WebgpuOptions } = {}): Promise<LoadResult> {
    const args: LoadArgs = { source, processing, hubEndpoint: options.hubEndpoint, backend: options.backend, webgpu: options.webgpu };
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
    this.worker.terminate();
    this.failAll(new EngineError("cancelled", "cancelled"));
    this.ready = this.start();
    if (this.lastLoad) {
      const args = this.lastLoad;
      this.ready = this.ready.then(() => this.send({ op: "load", args }));
    }
    await this.ready;
  }

  dispose(): void {
    this.worker.terminate();
    this.failAll(new EngineError("the model was disposed", "disposed"));
  }
}
