// The engine harness page exposes the engine API on window.hooklab (web/src/harness.ts).
import type * as engine from "../../web/src/engine";

declare global {
  interface Window {
    hooklab: typeof engine;
  }
}
