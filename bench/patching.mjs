#!/usr/bin/env node
// Patching benchmark (issue: patching engine): every sweep's time divided by one full forward
// at the same T, natively and in Chromium (1 thread: single-threaded build; 2 threads: pthreads
// build on an isolated page), next to the forwards TransformerLens runs (one per cell). Writes
// bench/results/patching.json and prints one table.
//
//   node bench/patching.mjs [--T 16] [--sweeps resid_pre,head_out,head_out_by_pos] [--reps 3] [--skip-browser]
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { launchChromium, openHarness, startServer } from "./browser.mjs";
import { arg } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const T = Number(arg("T", "16"));
const sweeps = arg("sweeps", "resid_pre,attn_out,mlp_out,head_out,head_out_by_pos");
const reps = Number(arg("reps", "3"));
const modelDir = ensureGpt2SmallRandom();
const rows = [];

for (const threads of [1, 2]) {
  for (const differ of [1, T / 2]) {
    const r = spawnSync(join(root, "build/native/bench/patching_bench"), ["--model", modelDir, "--threads", String(threads),
      "--T", String(T), "--differ", String(differ), "--sweeps", sweeps, "--reps", String(reps), "--tokenizer", join(root, "models/tokenizer")],
    { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`patching_bench failed: ${r.stderr}`);
    rows.push(...r.stdout.trim().split("\n").map((l) => JSON.parse(l)));
  }
}

if (!process.argv.includes("--skip-browser")) {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    for (const threads of [1, 2]) {
      const page = await openHarness(browser, server.url, threads);
      const out = await page.evaluate(async ({ T, sweeps, reps, threads }) => {
        const { HookedTransformer } = window.hooklab;
        const model = await HookedTransformer.load({ url: "/repo/build/bench/gpt2-small-random-f32/" }, { threads });
        const results = [];
        for (const differ of [1, T / 2]) {
          let seed = 7;
          const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
          const clean = Array.from({ length: T }, () => 1000 + Math.floor(rand() * 9000));
          clean[0] = 50256;
          const corrupted = clean.slice();
          corrupted[differ] += 1;
          const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
          const forward = [];
          for (let r = 0; r < reps + 2; r++) {
            const t0 = performance.now();
            await model.runWithHooks(corrupted, { fwdHooks: [] });
            if (r >= 2) forward.push(performance.now() - t0);
          }
          const forwardMs = median(forward);
          let separateMs = 0;
          for (const sweep of sweeps.split(",")) {
            const times = [];
            let result;
            for (let r = 0; r < reps; r++) {
              const t0 = performance.now();
              result = await model.patch({ sweep, clean, corrupted, answers: [[1000, 2000]] });
              times.push(performance.now() - t0);
            }
            const sweepMs = median(times);
            separateMs += sweepMs;
            results.push({ sweep, runtime: "chromium", backend: model.cfg.backend, threads: model.variant === "mt" ? model.cfg.threads : 1,
              T, first_difference: differ, cells: result.values.length, cells_computed: result.cellsComputed, sweep_ms: sweepMs,
              forward_ms: forwardMs, forward_times: sweepMs / forwardMs, transformer_lens_forwards: result.values.length });
          }
          // The same sweeps as one patch session (the prompts run once, cells share chunks).
          const items = sweeps.split(",").map((sweep) => ({ sweep, method: "exact" }));
          const times = [];
          let all;
          for (let r = 0; r < reps; r++) {
            const t0 = performance.now();
            all = await model.patchItems({ items, clean, corrupted, answers: [[1000, 2000]] });
            times.push(performance.now() - t0);
          }
          const sessionMs = median(times);
          const cells = all.reduce((n, x) => n + x.values.length, 0);
          results.push({ sweep: "session", runtime: "chromium", backend: model.cfg.backend, threads: model.variant === "mt" ? model.cfg.threads : 1,
            T, first_difference: differ, cells, cells_computed: all.reduce((n, x) => n + x.cellsComputed, 0), sweep_ms: sessionMs,
            forward_ms: forwardMs, forward_times: sessionMs / forwardMs, transformer_lens_forwards: cells, separate_ms: separateMs });
        }
        model.dispose();
        return results;
      }, { T, sweeps, reps, threads });
      rows.push(...out);
      await page.close();
    }
  } finally {
    await browser.close();
    server.stop();
  }
}

const targets = { resid_pre: 48, head_out: 65, head_out_by_pos: 576 };
console.log(`Patching sweeps on a GPT-2-small-shaped random model, T=${T}, ${cpuDescription()}`);
console.log("runtime   thr diff sweep             cells  computed  sweep ms  forward ms  forward-times  TL forwards  target");
for (const r of rows) {
  const note = r.separate_ms ? `(separate requests: ${r.separate_ms.toFixed(0)} ms)` : targets[r.sweep] ? `≤ ${targets[r.sweep]}` : "";
  console.log(`${r.runtime.padEnd(9)} ${String(r.threads).padEnd(3)} ${String(r.first_difference).padEnd(4)} ${r.sweep.padEnd(17)} ${String(r.cells).padStart(5)} ${String(r.cells_computed).padStart(9)} ${r.sweep_ms.toFixed(0).padStart(9)} ${r.forward_ms.toFixed(1).padStart(11)} ${r.forward_times.toFixed(1).padStart(14)} ${String(r.transformer_lens_forwards).padStart(12)}  ${note}`);
}
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/patching.json"), JSON.stringify(rows, null, 1) + "\n");
