// TransformerLens hook names for a model: the full list, shapes, and the name rules of
// ActivationCache.__getitem__ / get_act_name. The table itself is generated from the core
// (generated/hook-points.ts); the Node tests check this resolver against the core's own.

import { HOOK_POINTS, type HookPointInfo } from "./generated/hook-points";
import type { ModelConfig } from "./types";

export { HOOK_POINTS };
export type { HookPointInfo };

const NAME_ALIASES: Record<string, string> = {
  attn: "pattern",
  attn_logits: "attn_scores",
  key: "k",
  query: "q",
  value: "v",
  mlp_pre: "pre",
  mlp_post: "post",
};
const LAYER_TYPE_ALIASES: Record<string, string> = { a: "attn", attention: "attn", m: "mlp", b: "", block: "", blocks: "" };

export function fullName(info: HookPointInfo, layer: number): string {
  return info.pattern.replace("{L}", String(layer));
}

/** Every hook that fires in a run, in firing order (optional hook_result only when asked). */
export function hookNames(nLayers: number, useAttnResult = false): string[] {
  const global = HOOK_POINTS.filter((h) => !h.perBlock);
  const before = global.filter((h) => !h.pattern.startsWith("ln_final"));
  const after = global.filter((h) => h.pattern.startsWith("ln_final"));
  const names = before.map((h) => h.pattern);
  for (let l = 0; l < nLayers; l++) {
    for (const h of HOOK_POINTS) if (h.perBlock && (!h.optional || useAttnResult)) names.push(fullName(h, l));
  }
  return names.concat(after.map((h) => h.pattern));
}

export function parseFullName(name: string, nLayers: number): { info: HookPointInfo; layer: number } | undefined {
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const layer = Number(m[1]);
    if (layer >= nLayers) return undefined;
    const info = HOOK_POINTS.find((h) => h.perBlock && h.pattern === `blocks.{L}.${m[2]}`);
    return info && { info, layer };
  }
  const info = HOOK_POINTS.find((h) => !h.perBlock && h.pattern === name);
  return info && { info, layer: -1 };
}

/**
 * TransformerLens's key rules: a full name; (shortName, layer[, layerType]) with negative
 * layers from the end; aliases (attn -> pattern, ...); compact forms ("k6", "scale4ln1").
 * Throws an Error naming the problem.
 */
export function resolveHookName(name: string, nLayers: number, layer?: number, layerType = ""): string {
  const looksFull = name.includes(".") || name.startsWith("hook_");
  if (looksFull && layer === undefined) {
    if (parseFullName(name, nLayers)) return name;
    throw new Error(`unknown hook name '${name}': ${name.startsWith("blocks.")
      ? `no such block hook in a model with ${nLayers} layers` : "not a hook point of GPT-2 (see the hook list)"}`);
  }
  let short = name;
  let type = layerType;
  if (layer === undefined) {
    const m = /^([a-z]+)(\d+)(.*)$/.exec(name);
    if (m) {
      short = m[1];
      layer = Number(m[2]);
      if (!type) type = m[3];
    }
  }
  short = NAME_ALIASES[short] ?? short;
  type = LAYER_TYPE_ALIASES[type] ?? type;
  const lnStat = short === "scale" || short === "normalized";
  if (layer === undefined) {
    if (lnStat) return `ln_final.hook_${short}`;
    const global = HOOK_POINTS.find((h) => !h.perBlock && h.shortName === short);
    if (global) return global.pattern;
    throw new Error(`unknown hook name '${name}': a block hook needs a layer, e.g. ("${short}", 0)`);
  }
  const l = layer < 0 ? layer + nLayers : layer;
  if (l < 0 || l >= nLayers) throw new Error(`layer ${layer} is out of range for a model with ${nLayers} layers`);
  if (lnStat && type !== "ln1" && type !== "ln2") {
    throw new Error(`unknown hook name '${name}': with a layer, "scale"/"normalized" need the layer type "ln1" or "ln2"`);
  }
  for (const h of HOOK_POINTS) {
    if (!h.perBlock || h.shortName !== short) continue;
    if (lnStat && type !== h.layerType) continue;
    if (!lnStat && type && type !== h.layerType) {
      throw new Error(`unknown hook name '${name}': "${short}" is not in the "${type}" sublayer`);
    }
    return fullName(h, l);
  }
  throw new Error(`unknown hook name '${name}': not a hook point of GPT-2 (see the hook list)`);
}

/** TransformerLens shape of a hook for `positions` tokens. */
export function hookShape(info: HookPointInfo, cfg: ModelConfig, positions: number): number[] {
  const dims: Record<string, number> = {
    B: 1, P: positions, D: cfg.d_model, H: cfg.n_heads, Dh: cfg.d_head, M: cfg.d_mlp, "1": 1,
  };
  return info.shape.slice(1, -1).split(",").map((d) => dims[d]);
}
