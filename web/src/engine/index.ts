// The hooklab engine: a hooked GPT-2 with TransformerLens's API, in a Web Worker.
export { HookedTransformer, defaultAssetBase } from "./hooked-transformer";
export { ActivationCache } from "./activation-cache";
export { EngineError } from "./engine-client";
export { HOOK_POINTS, hookNames, resolveHookName, hookShape } from "./hook-names";
// The browser's store of downloaded model files (OPFS), for "manage storage" views.
export { listStored as listStoredModels, removeStored as removeStoredModel, type StoredModelFile } from "./model-store";
export type * from "./types";
