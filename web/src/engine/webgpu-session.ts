// The worker's WebGPU path: whether to use it (auto / webgpu / wasm), opening the device and
// uploading the weights, and running forward passes and patching sweeps on it. C++ encodes
// the work synchronously; the one asynchronous step, the batched readback, is awaited here
// (hooklabWebgpu.flush()) between a begin and its finish, or between two chunks of a sweep.

import { unwrap, type EmbindModel, type EmbindModule, type EmbindWebgpuSession, type RunValue } from "./core-module";
import type { AdapterInfo, BackendChoice, ModelConfig, WebgpuOptions } from "./types";

export interface GpuPath {
  session: EmbindWebgpuSession;
  name: string;
  adapter: AdapterInfo;
}

export interface GpuChoice {
  gpu?: GpuPath;
  adapter?: AdapterInfo;
  /** Why the GPU is not used. */
  reason?: string;
}

const panel = (n: number) => Math.ceil(n / 8) * 8;

/** Bytes of the largest weight matrix: with a binding this large it needs no windows. */
function largestMatrixBytes(cfg: ModelConfig): number {
  return 4 * cfg.d_model * Math.max(panel(cfg.d_vocab), panel(cfg.d_mlp), panel(3 * cfg.d_model));
}

/** Bytes of the largest buffer a forward at full context needs that cannot be split. */
function largestActivationBytes(cfg: ModelConfig): number {
  return 4 * Math.max(cfg.n_heads * cfg.n_ctx * cfg.n_ctx, cfg.n_ctx * cfg.d_mlp, cfg.n_ctx * 3 * cfg.d_model, cfg.d_vocab);
}

function isSoftwareAdapter(info: AdapterInfo): boolean {
  return info.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(`${info.architecture} ${info.description} ${info.device}`);
}

export function gpuName(info: AdapterInfo): string {
  const what = info.description || [info.vendor, info.architecture].filter(Boolean).join(" ") || "adapter";
  return `webgpu (${what})`;
}

/** Opens the GPU path for a loaded model, or says why the model stays on wasm. */
export async function openGpuPath(core: EmbindModule, model: EmbindModel, cfg: ModelConfig, choice: BackendChoice,
  options: WebgpuOptions = {}): Promise<GpuChoice> {
  if (choice === "wasm") return { reason: "wasm was chosen" };
  const handle = options.ignoreAdapter ? null : await core.hooklabWebgpu.requestAdapter().catch(() => null);
  if (!handle) return { reason: "this browser offers no WebGPU adapter" };
  const adapter = handle.info;
  if (choice === "auto" && isSoftwareAdapter(adapter) && !options.allowSoftwareAdapter) {
    return { adapter, reason: `the only WebGPU adapter runs in software (${adapter.architecture || adapter.description}), slower than wasm SIMD` };
  }
  if (largestActivationBytes(cfg) > handle.limits.maxStorageBufferBindingSize) {
    return { adapter, reason: "the model's attention at full context does not fit this GPU's largest storage binding" };
  }
  try {
    await core.hooklabWebgpu.open(handle.adapter, { neededBytes: largestMatrixBytes(cfg), maxBindingBytes: options.maxBindingBytes });
  } catch (e) {
    core.hooklabWebgpu.close();
    return { adapter, reason: `no WebGPU device could be opened: ${(e as Error).message}` };
  }
  try {
    const name = gpuName(adapter);
    const session = core.createWebgpuSession(model, { name });
    if (!session) unwrap(core.lastError());
    try {
      await core.hooklabWebgpu.flush();  // the uploads are done: surfaces out-of-memory
    } catch (e) {
      session!.delete();
      throw e;
    }
    return { gpu: { session: session!, name, adapter }, adapter };
  } catch (e) {
    core.hooklabWebgpu.close();
    return { adapter, reason: `the model does not fit this GPU: ${(e as Error).message}` };
  }
}

export function closeGpuPath(core: EmbindModule, gpu: GpuPath | undefined): void {
  if (gpu) gpu.session.delete();
  core.hooklabWebgpu.close();
}

/** One forward pass (no hooks) on the GPU; the cache and logits arrive in one readback. */
export async function runOnGpu(core: EmbindModule, gpu: GpuPath, tokens: Int32Array, options: Record<string, unknown>): Promise<RunValue> {
  try {
    unwrap(gpu.session.beginRun(tokens, options));
    await core.hooklabWebgpu.flush();
  } catch (e) {
    // Readbacks recorded for this run target host memory that abandonRun() frees.
    core.hooklabWebgpu.discardReads();
    gpu.session.abandonRun();
    throw e;
  }
  return unwrap(gpu.session.finishRun());
}
