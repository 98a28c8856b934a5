// Exposes the engine to tests and benchmarks that drive the page (Playwright, bench/).
import * as engine from "./engine";
import * as testing from "./engine/testing";

declare global {
  interface Window {
    hooklab: typeof engine & { testing: typeof testing };
  }
}
window.hooklab = { ...engine, testing };
document.documentElement.dataset.ready = "true";
