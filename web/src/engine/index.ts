// The hooklab engine: a hooked GPT-2 with TransformerLens's API, in a Web Worker.
export { HookedTransformer, defaultAssetBase, type RunWithCacheOptions, type RunWithCacheResult } from "./hooked-transformer";
export { METRICS, PATCH_DIRECTIONS, PATCH_METHODS, PATCH_SWEEPS, PATH_RECEIVER_INPUTS } from "./generated/patching";
export { WEIGHT_PRECISIONS, type WeightPrecisionName } from "./generated/model-options";
export { ActivationCache } from "./activation-cache";
export { EngineError } from "./engine-client";
export { HOOK_POINTS, hookNames, resolveHookName, hookShape } from "./hook-names";
// The browser's store of downloaded model files (OPFS), for "manage storage" views.
export { listStored as listStoredModels, removeStored as removeStoredModel, type StoredModelFile } from "./model-store";
export type * from "./types";
export type { GemmTuning } from "./protocol";
