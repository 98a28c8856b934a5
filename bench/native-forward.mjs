#!/usr/bin/env node
// Native forward benchmark (issue: core): hooklab (XNNPACK) vs PyTorch CPU on the same
// GPT-2-small-shaped random model, same machine, same run. Writes
// bench/results/native_forward.json and prints one table.
//
//   node bench/native-forward.mjs [--T 8,32,128] [--threads 1,2] [--reps 15]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { arg } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const T = arg("T", "8,32,128");
const threadsList = arg("threads", "1,2").split(",").map(Number);
const reps = arg("reps", "15");

const model = ensureGpt2SmallRandom();
const bench = join(root, "build/native/bench/forward_bench");
if (!existsSync(bench)) throw new Error("build first: npm run build:native");

const rows = [];
const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
};
for (const threads of threadsList) {
  rows.push(...run(bench, ["--model", model, "--threads", String(threads), "--T", T, "--reps", reps,
    "--tokenizer", join(root, "models/tokenizer")]));
  rows.push(...run("/usr/bin/python3", [join(root, "bench/native/torch_forward.py"), "--model", model,
    "--threads", String(threads), "--T", T, "--reps", reps],
  { LD_LIBRARY_PATH: "/usr/lib/x86_64-linux-gnu/openblas-pthread" }));
}

const cpu = cpuDescription();
console.log(`GPT-2-small-shaped random model (12 layers, 768, 12 heads, 3072, vocab 50257), ${cpu}`);
console.log("threads  T     hooklab ms  GFLOP/s  cache x   torch ms  torch/hooklab");
for (const threads of threadsList) {
  for (const t of T.split(",").map(Number)) {
    const h = rows.find((r) => r.system === "hooklab-native" && r.threads === threads && r.T === t);
    const p = rows.find((r) => r.system === "torch-cpu" && r.threads === threads && r.T === t);
    console.log(`${String(threads).padEnd(8)} ${String(t).padEnd(5)} ${h.median_ms.toFixed(1).padStart(10)} ${h.gflops
      .toFixed(1).padStart(8)} ${h.cache_overhead.toFixed(3).padStart(8)} ${p.median_ms.toFixed(1).padStart(10)} ${(p
      .median_ms / h.median_ms).toFixed(2).padStart(14)}`);
  }
}
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/native_forward.json"), JSON.stringify({ machine: cpu, rows }, null, 1) + "\n");
