// The GEMM micro-kernel chosen on the user's machine: the first engine of a device times every
// kernel and remembers the fastest in the page's storage, the next engine uses it untimed, a
// stored name this build does not know is timed again, and the model runs on the chosen kernel.
import { test, expect } from "@playwright/test";

test("GEMM kernel: timed once per device, remembered, re-timed when the stored name is unknown", async ({ page }) => {
  await page.goto("/plain/harness.html");
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  const result = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const key = "hooklab.gemmKernel.v2.st";
    localStorage.removeItem(key);
    const open = async () => {
      const m = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" }, { threads: 1, backend: "wasm" });
      const out = { tuning: m.gemmTuning!, backend: m.cfg.backend, stored: localStorage.getItem(key),
        logits: Array.from((await m.runWithHooks("Hello world", { fwdHooks: [] })).logits.data.subarray(0, 64)) };
      m.dispose();
      return out;
    };
    const first = await open();
    const second = await open();
    localStorage.setItem(key, "9x9_nonexistent");
    const third = await open();
    return { first, second, third };
  });
  const { first, second, third } = result;
  console.log(`GEMM tuning: ${first.tuning.kernel} in ${first.tuning.elapsedMs.toFixed(1)} ms over ${first.tuning.rounds} rounds; ` +
    first.tuning.timings.map((t) => `${t.kernel} ${t.ms.toFixed(3)} ms`).join(", "));
  expect(first.tuning.tuned).toBe(true);
  expect(first.tuning.timings.length).toBeGreaterThanOrEqual(2);
  const fastest = first.tuning.timings.reduce((a, b) => (b.ms < a.ms ? b : a));
  expect(first.tuning.kernel).toBe(fastest.kernel);
  expect(first.backend).toBe(`wasmsimd_${first.tuning.kernel}`);
  expect(first.stored).toBe(first.tuning.kernel);
  expect(second.tuning).toMatchObject({ kernel: first.tuning.kernel, tuned: false });
  expect(second.backend).toBe(first.backend);
  expect(third.tuning.tuned).toBe(true);
  expect(third.stored).not.toBe("9x9_nonexistent");
  // Every kernel computes the same values.
  expect(second.logits).toEqual(first.logits);
  expect(third.logits).toEqual(first.logits);
});
