// Exposes the engine to tests and benchmarks that drive the page (Playwright, bench/).
import * as engine from "./engine";

declare global {
  interface Window {
    hooklab: typeof engine;
  }
}
window.hooklab = engine;
document.documentElement.dataset.ready = "true";
