// ActivationCache on the page: every cached activation is a view into one transferred
// buffer (the core's cache arena), looked up with TransformerLens's key rules. Gradients use
// the same class with the suffix "_grad" (TransformerLens's incl_bwd keys), so grads.get("z", 0)
// and grads.get("blocks.0.attn.hook_z_grad") name the same tensor.

import { resolveHookName } from "./hook-names";
import type { Tensor } from "./types";

export interface CacheEntry {
  name: string;
  shape: number[];
  offset: number;
}

export class ActivationCache {
  private readonly index = new Map<string, Tensor>();

  constructor(readonly arena: Float32Array, entries: CacheEntry[], private readonly nLayers: number, private readonly suffix = "") {
    for (const e of entries) {
      const size = e.shape.reduce((a, b) => a * b, 1);
      this.index.set(e.name, { data: arena.subarray(e.offset, e.offset + size), shape: e.shape });
    }
  }

  /** Names in firing order. */
  keys(): string[] {
    return [...this.index.keys()];
  }

  get size(): number {
    return this.index.size;
  }

  /** The stored key: the hook's full name, plus the suffix of a gradient cache. */
  private key(name: string, layer?: number, layerType?: string): string {
    const bare = this.suffix && name.endsWith(this.suffix) ? name.slice(0, -this.suffix.length) : name;
    return resolveHookName(bare, this.nLayers, layer, layerType) + this.suffix;
  }

  has(name: string, layer?: number, layerType?: string): boolean {
    try {
      return this.index.has(this.key(name, layer, layerType));
    } catch {
      return false;
    }
  }

  /**
   * cache.get("blocks.0.attn.hook_pattern"), cache.get("resid_post", -1),
   * cache.get("pattern", 0, "attn"), cache.get("k6"): the TransformerLens key rules.
   */
  get(name: string, layer?: number, layerType?: string): Tensor {
    const full = this.key(name, layer, layerType);
    const t = this.index.get(full);
    if (!t) throw new Error(`'${full}' is not in this cache (filtered out, or an optional hook that was not enabled)`);
    return t;
  }
}
