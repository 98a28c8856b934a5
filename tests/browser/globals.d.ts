// The engine harness page exposes the engine API and its test controls on window.hooklab
// (web/src/harness.ts).
import type * as engine from "../../web/src/engine";
import type * as testing from "../../web/src/engine/testing";

declare global {
  interface Window {
    hooklab: typeof engine & { testing: typeof testing };
  }
}
