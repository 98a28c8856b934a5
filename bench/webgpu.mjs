#!/usr/bin/env node
// WebGPU vs wasm benchmark (not a test): forward-pass and patching-sweep latency of the same
// model on both backends, in the same Chromium run. Writes bench/results/webgpu.json and
// prints one table.
//
// Without a GPU, Chromium's WebGPU runs on SwiftShader (Vulkan on the CPU): the numbers then
// only prove that the path works end to end at GPT-2-small scale; they say nothing about
// GPU speed. The JSON records the adapter so a reader can tell.
//
//   node bench/webgpu.mjs [--models demo,gpt2-small] [--T 16] [--reps 3] [--sweeps resid_pre,head_out]
//                         [--gpt2-sweeps resid_pre] [--max-binding-bytes N] [--dist web/dist] [--port 4195]
//                         [--out bench/results/webgpu.json]
//
// Forwards are timed after a warm-up (the first run compiles the WGSL pipelines); sweeps are
// not warmed up and, on the GPT-2-small-shaped model, run once (minutes each on SwiftShader).
// Each model's WebGPU logits are also compared with its wasm logits (max|diff| / (1e-4 *
// max(1, max|wasm|)), below 1 is the tests' tolerance). --max-binding-bytes caps the storage
// bindings the WebGPU path uses (134217728: WebGPU's default, which splits GPT-2's 154 MB
// vocabulary matrices into windows even where the adapter grants more).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { launchChromium } from "./browser.mjs";
import { arg } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const T = Number(arg("T", "16"));
const reps = Number(arg("reps", "3"));
const sweeps = arg("sweeps", "resid_pre,head_out").split(",");
const gpt2Sweeps = arg("gpt2-sweeps", "resid_pre").split(",").filter(Boolean);
const models = arg("models", "demo,gpt2-small").split(",");
const dist = resolve(root, arg("dist", "web/dist"));
const port = Number(arg("port", "4195"));
const maxBindingBytes = arg("max-binding-bytes", undefined) ? Number(arg("max-binding-bytes")) : undefined;
const SWIFTSHADER = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"];

const MODEL_URLS = {
  demo: "/repo/models/hooklab-demo/",
  "gpt2-small": () => {
    ensureGpt2SmallRandom();
    return "/repo/build/bench/gpt2-small-random-f32/";
  },
};

async function startServer() {
  const server = spawn(process.execPath, [join(root, "tests/browser/server.mjs"), "--port", String(port), "--dist", dist],
    { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((ok, fail) => {
    server.stdout.on("data", (d) => String(d).includes("hooklab test server") && ok());
    server.on("exit", (code) => fail(new Error(`test server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => server.kill() };
}

// Runs in the page: one model on one backend, forwards and sweeps timed (median of reps,
// after a warm-up run that compiles pipelines and fills caches).
async function measure({ url, backend, T, reps, sweeps, sweepReps, maxBindingBytes }) {
  const { HookedTransformer } = window.hooklab;
  const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const time = async (fn, warmUp = true, n = reps) => {
    if (warmUp) await fn();
    const times = [];
    for (let r = 0; r < n; r++) {
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  const t0 = performance.now();
  const model = await HookedTransformer.load({ url }, { backend, webgpu: { allowSoftwareAdapter: true, maxBindingBytes } });
  const loadMs = performance.now() - t0;
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const clean = Array.from({ length: T }, () => 1000 + Math.floor(rand() * 9000));
  clean[0] = 50256;
  const corrupted = clean.slice();
  corrupted[T / 2] += 1;  // cells before the first difference are skipped on both backends
  const rows = [];
  const common = { backend: model.backend.kind, backend_name: model.backend.name, adapter: model.backend.adapter ?? null,
    T, load_ms: loadMs, n_layers: model.cfg.n_layers, d_model: model.cfg.d_model };
  let logits;
  rows.push({ ...common, task: "forward (logits)", ms: await time(async () => {
    logits = (await model.runWithHooks(corrupted, { fwdHooks: [] })).logits.data;
  }) });
  // Parity at this scale: the wasm run of the same page keeps its logits for the WebGPU run.
  if (backend === "wasm") {
    window.__hooklabBenchLogits = logits;
  } else if (window.__hooklabBenchLogits) {
    const ref = window.__hooklabBenchLogits;
    let maxRef = 0, maxDiff = 0;
    for (let i = 0; i < ref.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
      maxDiff = Math.max(maxDiff, Math.abs(ref[i] - logits[i]));
    }
    rows.at(-1).logits_diff_over_tolerance = maxDiff / (1e-4 * Math.max(1, maxRef));
  }
  rows.push({ ...common, task: "forward + full cache", ms: await time(() => model.runWithCache(corrupted)) });
  for (const sweep of sweeps) {
    let result;
    const ms = await time(async () => {
      result = await model.patch({ sweep, clean, corrupted, answers: [[1000, 2000]] });
    }, false, sweepReps);
    rows.push({ ...common, task: `patch ${sweep}`, ms, cells: result.values.length, cells_computed: result.cellsComputed, ran_on: result.backend });
  }
  model.dispose();
  return rows;
}

const server = await startServer();
const browser = await launchChromium(SWIFTSHADER);
const rows = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${server.url}/plain/harness.html`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  for (const name of models) {
    const url = typeof MODEL_URLS[name] === "function" ? MODEL_URLS[name]() : MODEL_URLS[name];
    if (!url) throw new Error(`unknown model ${name} (demo, gpt2-small)`);
    for (const backend of ["wasm", "webgpu"]) {
      const small = name === "gpt2-small";
      const out = await page.evaluate(measure, { url, backend, T, reps, sweeps: small ? gpt2Sweeps : sweeps, sweepReps: small ? 1 : reps, maxBindingBytes });
      rows.push(...out.map((r) => ({ model: name, ...r })));
      console.error(`${name} on ${backend}: done`);
    }
  }
} finally {
  await browser.close();
  server.stop();
}

const adapter = rows.find((r) => r.adapter)?.adapter;
const software = !adapter || adapter.isFallbackAdapter || /swiftshader/i.test(`${adapter.architecture} ${adapter.description}`);
console.log(`WebGPU vs wasm (single-threaded build), T=${T}, ${cpuDescription()}`);
console.log(`adapter: ${adapter ? `${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim() : "none"}` +
  (software ? " -- a software adapter: these WebGPU numbers prove the path works, not GPU speed" : ""));
console.log(`WebGPU storage bindings capped at ${maxBindingBytes ?? "what the device grants"} bytes`);
console.log("model        task                    wasm ms   webgpu ms  cells (computed)  logits |diff|/tol");
for (const name of models) {
  for (const task of [...new Set(rows.filter((r) => r.model === name).map((r) => r.task))]) {
    const w = rows.find((r) => r.model === name && r.task === task && r.backend === "wasm");
    const g = rows.find((r) => r.model === name && r.task === task && r.backend === "webgpu");
    console.log(`${name.padEnd(12)} ${task.padEnd(22)} ${w.ms.toFixed(1).padStart(8)} ${g ? g.ms.toFixed(1).padStart(11) : "n/a".padStart(11)}` +
      `  ${(w.cells ? `${w.cells} (${w.cells_computed})` : "").padEnd(16)}  ${g?.logits_diff_over_tolerance?.toFixed(4) ?? ""}`);
  }
}
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, arg("out", "bench/results/webgpu.json")), JSON.stringify({
  note: software
    ? "WebGPU ran on a software adapter (SwiftShader): these numbers show the WebGPU path works end to end, not GPU speed."
    : "WebGPU ran on a hardware adapter.",
  machine: cpuDescription(), adapter: adapter ?? null, max_binding_bytes: maxBindingBytes ?? null, T, reps, rows,
}, null, 1) + "\n");
