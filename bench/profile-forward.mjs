#!/usr/bin/env node
// Where a forward's time goes (issue: speed on every CPU): the single-threaded wasm module built
// with its function names (target hooklab_wasm_st_profile) runs the GPT-2-small-shaped random
// model in Node under V8's sampling profiler, and every sample inside WasmModel::run is put in
// one part of the forward by the function it was in: the GEMM kernels, attention, softmax,
// LayerNorm, GELU, handing the logits to JavaScript, and the rest. A column "step" does the same
// for KV-cached generation steps (one new position after a 16-token prompt: WasmGenerator::step,
// greedy), the memory-bound case. Prints one table and writes bench/results/forward_profile.json.
// Results go into buffers written before the run, as in the lab's worker (its spare buffers,
// web/src/engine/spare-buffers.ts); --fresh-results puts them in new memory instead, whose first
// touch costs a page fault per 4 KB (what a caller without spares pays).
//
//   npm run bench:profile            (builds the wasm core and the profiling module first)
//   node --no-experimental-fetch bench/profile-forward.mjs [--T 8,32,128] [--reps 10] [--steps 48] [--interval-us 100] [--fresh-results]
//
// The sampling profiler slows the run a little; the shares, not the milliseconds, are the result.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { loadHooklabModule } from "../wasm/tools/load-module-node.mjs";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { tokensFor } from "./inputs.mjs";
import { arg } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const Ts = arg("T", "8,32,128").split(",").map(Number);
const reps = Number(arg("reps", 10));
const steps = Number(arg("steps", 48));
const intervalUs = Number(arg("interval-us", 100));
const freshResults = process.argv.includes("--fresh-results");
const profileBuild = join(root, "build/wasm/cmake/profile");
if (!existsSync(join(profileBuild, "hooklab-st.wasm"))) {
  throw new Error("build the profiling module first: cmake --build --preset wasm --target hooklab_wasm_st_profile");
}

// Parts of the forward, matched in order against the sampled function's name.
const LOGITS_COPY = freshResults ? "logits to JavaScript (new Float32Array)" : "logits to JavaScript (written buffer)";
const parts = [
  ["GEMM", /gemm/i],
  ["attention (scores, pattern x V)", /attention_scores|attention_mix|mix_vectors|score_rows/],
  ["softmax", /softmax/],
  ["LayerNorm", /layer_norm/],
  ["GELU", /gelu/],
  // The copy is Float32Array.prototype.set, called from wasm/bindings/hooklab_values.js.
  [LOGITS_COPY, /emval_allocator|float32_copy|memcpy_big|_emval_new|hooklab_float32_set/],
];
const partOf = (name) => (parts.find(([, re]) => re.test(name)) ?? ["rest"])[0];

function loadModel(module, dir) {
  const bytes = readFileSync(join(dir, "model.safetensors"));
  const model = module.loadModel({
    config: readFileSync(join(dir, "config.json"), "utf8"),
    vocab: readFileSync(join(root, "models/tokenizer/encoder.json"), "utf8"),
    merges: readFileSync(join(root, "models/tokenizer/vocab.bpe"), "utf8"),
    weights: { size: bytes.length, read(offset, length, pointer) { module.HEAPU8.set(bytes.subarray(offset, offset + length), pointer); } },
  }, { processing: "default", threads: 1 });
  if (!model) throw new Error(module.lastError().error);
  return model;
}

/** Self time (µs) per part, over the samples whose stack passes through `entry`. */
function shares(profile, entry) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inRun = new Map();
  const underRun = (id) => {
    if (inRun.has(id)) return inRun.get(id);
    const name = byId.get(id).callFrame.functionName;
    const result = name.includes(entry) || (parent.has(id) && underRun(parent.get(id)));
    inRun.set(id, result);
    return result;
  };
  const micros = new Map();
  profile.samples.forEach((id, i) => {
    if (!underRun(id)) return;
    const part = partOf(byId.get(id).callFrame.functionName);
    micros.set(part, (micros.get(part) ?? 0) + profile.timeDeltas[i]);
  });
  return micros;
}

const module = await loadHooklabModule("st", profileBuild);
const model = loadModel(module, ensureGpt2SmallRandom());
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: intervalUs });

/** Runs `work` `count` times under the profiler: ms per call and each part's share. */
async function profiled(entry, count, work) {
  await session.post("Profiler.start");
  const t0 = performance.now();
  for (let r = 0; r < count; r++) work();
  const ms = (performance.now() - t0) / count;
  const { profile } = await session.post("Profiler.stop");
  const micros = shares(profile, entry);
  const total = [...micros.values()].reduce((a, b) => a + b, 0);
  const share = Object.fromEntries([...parts.map(([p]) => p), "rest"].map((p) => [p, (micros.get(p) ?? 0) / total]));
  return { ms_profiled: ms, sampled_ms: total / 1000 / count, share };
}

// One buffer per result length, written once and reused by every run (the runs' results are not
// kept, so no one holds a buffer while the next run writes it).
const written = new Map();
const takeBuffer = (n) => {
  if (!written.has(n)) written.set(n, new Float32Array(n).fill(0));
  return written.get(n);
};
const runOptions = freshResults ? {} : { takeBuffer };

const rows = [];
for (const T of Ts) {
  const tokens = Int32Array.from(tokensFor(T));
  for (let w = 0; w < 2; w++) model.run(tokens, runOptions);
  rows.push({ T, ...await profiled("WasmModel::run", reps, () => model.run(tokens, runOptions)) });
  console.error(`T=${T}: ${rows.at(-1).ms_profiled.toFixed(1)} ms per forward under the profiler`);
}
if (steps > 0) {
  const generator = model.startGenerate(Int32Array.from(tokensFor(16)), { maxNewTokens: steps + 1, temperature: 0, stopAtEos: false });
  if (!generator) throw new Error(module.lastError().error);
  generator.step();  // the prompt's own forward
  rows.push({ T: "step", prompt: 16, ...await profiled("WasmGenerator::step", steps, () => generator.step()) });
  console.error(`generation: ${rows.at(-1).ms_profiled.toFixed(1)} ms per step under the profiler`);
  generator.delete();
}
model.delete();

const cpu = cpuDescription();
const names = [...parts.map(([p]) => p), "rest"];
console.log(`\nShare of a forward's time by part (1 thread, wasm SIMD in Node ${process.version}; GPT-2-small-shaped random model), ${cpu}, load average ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
console.log(`${"part".padEnd(42)}${rows.map((r) => (typeof r.T === "number" ? `T=${r.T}` : r.T).padStart(9)).join("")}`);
for (const name of names) console.log(`${name.padEnd(42)}${rows.map((r) => `${(100 * r.share[name]).toFixed(1)}%`.padStart(9)).join("")}`);
const outside = (r) => 1 - r.share.GEMM;
console.log(`${"outside the GEMMs".padEnd(42)}${rows.map((r) => `${(100 * outside(r)).toFixed(1)}%`.padStart(9)).join("")}`);
console.log(`${"outside the GEMMs, in the core".padEnd(42)}${rows.map((r) => `${(100 * (outside(r) - r.share[LOGITS_COPY])).toFixed(1)}%`.padStart(9)).join("")}`);
const t32 = rows.find((r) => r.T === 32);
if (t32) console.log(`\nTarget: at T=32 the time outside the GEMMs <= 10 %: ${(100 * outside(t32)).toFixed(1)}% (${outside(t32) <= 0.1 ? "meets" : "MISSES"})`);

mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/forward_profile.json"), JSON.stringify({
  machine: cpu, node: process.version, sampling_interval_us: intervalUs, reps,
  notes: ["share: self time of the sampled wasm and JS functions inside WasmModel::run, by part (bench/profile-forward.mjs `parts`); 'logits to JavaScript' is the copy of the logits into a Float32Array: " +
    (freshResults ? "new memory, whose fresh pages the OS faults in on first touch" : "one written before the run, as the worker's spare buffers are")],
  fresh_results: freshResults,
  rows,
}, null, 1) + "\n");
