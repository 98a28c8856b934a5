// Test controls of a loaded model: imported by the engine harness (web/harness.html, built only
// for tests and benchmarks), never by the lab or the engine's public index.
import { engineOf, type HookedTransformer } from "./hooked-transformer";

/** Destroys the model's GPU device now, as a driver reset would: what runs falls back to wasm. */
export function simulateDeviceLoss(model: HookedTransformer): void {
  engineOf(model).loseDevice();
}
