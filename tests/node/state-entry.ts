// What the URL-state property tests import: the lab's state modules and the compressor links use.
export * from "../../web/src/state/experiment";
export * from "../../web/src/state/url-state";
export { compressToEncodedURIComponent as compress } from "lz-string";
