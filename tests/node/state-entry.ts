// What the URL-state tests import: the lab's state modules, the metric helpers and the compressor links use.
export * from "../../web/src/state/experiment";
export * from "../../web/src/state/url-state";
export * from "../../web/src/analysis/patching-metric";
export { compressToEncodedURIComponent as compress, decompressFromEncodedURIComponent as decompress } from "lz-string";
export { decompressBounded } from "../../web/src/state/lz-bounded";
export * from "../../web/src/state/token-ids";
export { WEIGHT_PRECISIONS } from "../../web/src/engine/generated/model-options";
