// The hooklab engine: a hooked GPT-2 with TransformerLens's API, in a Web Worker.
export { HookedTransformer, defaultAssetBase } from "./hooked-transformer";
export { ActivationCache } from "./activation-cache";
export { EngineError } from "./engine-client";
export { HOOK_POINTS, hookNames, resolveHookName, hookShape } from "./hook-names";
export type * from "./types";
