// What the TransformerLens-code tests import: the generator and the lab's own tables.
export * from "../../web/src/analysis/tl-code";
export { PATCH_SWEEPS, PATCH_METHODS, METRICS } from "../../web/src/engine/generated/patching";
export { DEFAULT_EXPERIMENT, METRICS as LAB_METRICS, STEER_HOOKS } from "../../web/src/state/experiment";
