#!/usr/bin/env node
// Attribution-patching benchmark (issue: gradients and attribution): on the GPT-2-small-shaped
// random model, at T = 16 and 64, with 1 and 2 threads, natively and in Chromium:
//   backward   forward + backward of logit_diff (nothing kept) minus a plain forward; target <= 2.5 forwards
//   atp        every cell of all 18 sweeps from ONE AttributionSession, its start (2 forwards +
//              1 backward) included; target <= 4 forwards
//   atp-star   the same with the QK fix; target <= 8 forwards
//   exact      a few exact sweeps (patch(): resid_pre, head_out; head_out_by_pos at T=16), for scale
// beside PyTorch 1.13 on the same machine computing the same AtP / AtP* in float32
// (bench/native/torch_attribution.py). Every ratio is within one run. Writes
// bench/results/attribution.json and prints one table.
//
//   node bench/attribution.mjs [--T 16,64] [--threads 1,2] [--reps 2] [--differ 1] [--skip-browser] [--skip-torch] [--skip-native]
//     [--exact resid_pre,head_out,head_out_by_pos@16 | none]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { launchChromium, openHarness, startServer } from "./browser.mjs";
import { arg, flag } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const Ts = arg("T", "16,64").split(",").map(Number);
const threadsList = arg("threads", "1,2").split(",").map(Number);
const reps = Number(arg("reps", "2"));
const differ = Number(arg("differ", "1"));
const exact = arg("exact", "resid_pre,head_out,head_out_by_pos@16");
const modelDir = ensureGpt2SmallRandom();
// The sweeps of all_patch_sweeps(), in its order, from the table both sides are generated from.
const ALL_SWEEPS = [...readFileSync(join(root, "core/include/hooklab/patching.def"), "utf8")
  .matchAll(/^HOOKLAB_PATCH_SWEEP\(\w+, "([a-z_]+)"/gm)].map((m) => m[1]);
const exactAt = (t) => (exact === "none" ? [] : exact.split(",").filter((e) => !e.includes("@") || Number(e.split("@")[1]) === t)
  .map((e) => e.split("@")[0]));

const rows = [];
const notes = [];
const runLines = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
};

// --- native ---
const nativeBench = join(root, "build/native/bench/attribution_bench");
if (!existsSync(nativeBench)) throw new Error("build first: npm run build:native");
for (const threads of flag("skip-native") ? [] : threadsList) {
  console.error(`native, ${threads} thread(s)...`);
  rows.push(...runLines(nativeBench, ["--model", modelDir, "--threads", String(threads), "--T", Ts.join(","),
    "--differ", String(differ), "--reps", String(reps), "--exact", exact, "--tokenizer", join(root, "models/tokenizer")]));
}

// --- PyTorch peer (same machine, same weights). OMP_WAIT_POLICY=PASSIVE: with 2 threads torch's
// spinning OpenMP workers otherwise starve OpenBLAS's threads on a 2-core machine (3-6x slower).
if (!flag("skip-torch")) {
  for (const threads of threadsList) {
    console.error(`torch, ${threads} thread(s)...`);
    rows.push(...runLines("/usr/bin/python3", [join(root, "bench/native/torch_attribution.py"), "--model", modelDir,
      "--threads", String(threads), "--T", Ts.join(","), "--reps", String(reps), "--differ", String(differ)],
    { LD_LIBRARY_PATH: "/usr/lib/x86_64-linux-gnu/openblas-pthread", OMP_WAIT_POLICY: "PASSIVE" }));
  }
}

// --- Chromium: model.attribute({...sweeps}) and runWithCache(..., {inclBwd: true}) ---
if (!flag("skip-browser")) {
  if (!existsSync(join(root, "web/dist/harness.html"))) {
    notes.push("Chromium rows skipped: no web build (npm run build:wasm && npm run build:web:harness)");
  } else {
    const server = await startServer();
    const browser = await launchChromium();
    try {
      for (const threads of threadsList) {
        console.error(`chromium, ${threads} thread(s)...`);
        const page = await openHarness(browser, server.url, threads);
        const out = await page.evaluate(async ({ Ts, reps, differ, threads, allSweeps, exactByT }) => {
          const { HookedTransformer } = window.hooklab;
          if (typeof HookedTransformer.prototype.attribute !== "function") {
            return { skipped: "HookedTransformer.attribute() is not in this web build (the TypeScript attribution API is not there yet)" };
          }
          const model = await HookedTransformer.load({ url: "/repo/build/bench/gpt2-small-random-f32/" }, { threads });
          const results = [];
          const notes = [];
          const median = (v) => { const s = v.slice().sort((a, b) => a - b), n = s.length; return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2; };
          const time = async (f) => { const t0 = performance.now(); const r = await f(); return [performance.now() - t0, r]; };
          const answers = [[1000, 2000]];
          try {
            for (const T of Ts) {
              let seed = 7;
              const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
              const clean = Array.from({ length: T }, () => 1000 + Math.floor(rand() * 9000));
              clean[0] = 50256;
              const corrupted = clean.slice();
              corrupted[differ] += 1;
              const base = { runtime: "chromium", backend: model.cfg.backend, threads: model.variant === "mt" ? model.cfg.threads : 1, T, first_difference: differ };
              // forward vs forward + backward (interleaved); the backward row only when runWithCache
              // really ran a backward (its result carries gradients).
              const fwd = [], fb = [];
              let hasBackward = true;
              for (let r = 0; r < reps + 1; r++) { // one warm-up
                const [f] = await time(() => model.runWithHooks(corrupted, { fwdHooks: [] }));
                let b = NaN;
                if (hasBackward) {
                  const [ms, out] = await time(() => model.runWithCache(corrupted, { inclBwd: true, namesFilter: [], metric: { kind: "logit_diff", answers } }));
                  hasBackward = out.metricValue !== undefined || out.grads !== undefined;
                  b = ms;
                }
                if (r >= 1) { fwd.push(f); fb.push(b); }
              }
              const forwardMs = median(fwd);
              if (hasBackward) {
                const fbMs = median(fb);
                results.push({ method: "backward", sweep: "", ...base, ms: fbMs - forwardMs, forward_ms: forwardMs, forward_backward_ms: fbMs, forward_times: (fbMs - forwardMs) / forwardMs });
              } else if (T === Ts[0]) {
                notes.push("Chromium backward rows skipped: runWithCache(..., {inclBwd: true}) returned no gradients");
              }
              // The worker keeps its last attribution session (keyed by prompts and metric), so every
              // call gets a corrupted prompt of its own: each time includes the session's start.
              let variant = 0;
              for (const method of ["atp", "atp-star"]) {
                const times = [];
                let result;
                const warm = method === "atp" ? 1 : 0; // AtP* runs warm after AtP
                for (let r = 0; r < reps + warm; r++) {
                  const fresh = corrupted.slice();
                  fresh[differ] = clean[differ] + 1 + variant++;
                  const [ms, out] = await time(() => model.attribute({ clean, corrupted: fresh, answers, method, sweeps: allSweeps, normalize: true }));
                  if (r >= warm) times.push(ms);
                  result = out;
                }
                const ms = median(times);
                // cells: whatever shape the result takes (one result per sweep, or {results|sweeps: [...]}).
                const list = Array.isArray(result) ? result : Array.isArray(result?.results) ? result.results
                  : Array.isArray(result?.sweeps) ? result.sweeps : result && typeof result === "object" && !result.values ? Object.values(result) : [result];
                const cells = list.reduce((s, r) => s + (r?.values?.length ?? 0), 0);
                results.push({ method, sweep: "all", ...base, ms, forward_ms: forwardMs, forward_times: ms / forwardMs, sweeps: list.length, cells });
              }
              for (const sweep of exactByT[T]) {
                const [ms, result] = await time(() => model.patch({ sweep, clean, corrupted, answers, normalize: true }));
                results.push({ method: "exact", sweep, ...base, ms, forward_ms: forwardMs, forward_times: ms / forwardMs, cells: result.values.length, cells_computed: result.cellsComputed });
              }
            }
          } finally {
            model.dispose();
          }
          return { results, notes };
        }, { Ts, reps, differ, threads, allSweeps: ALL_SWEEPS, exactByT: Object.fromEntries(Ts.map((t) => [t, exactAt(t)])) });
        await page.close();
        if (out.skipped) {
          notes.push(`Chromium rows skipped: ${out.skipped}`);
          break;
        }
        rows.push(...out.results);
        notes.push(...out.notes.filter((n) => !notes.includes(n)));
      }
    } catch (e) {
      notes.push(`Chromium rows incomplete: ${e.message.split("\n")[0]}`);
    } finally {
      await browser.close();
      server.stop();
    }
  }
}

// --- table ---
const find = (q) => rows.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
const x = (v) => (v === undefined ? "-" : `${v.toFixed(2)}x`);
const backends = [...new Set(rows.map((r) => `${r.runtime}: ${r.backend}`))].join(", ");
console.log(`Attribution patching on a GPT-2-small-shaped random model (12 layers, 768, 12 heads, 3072, vocab 50257),`);
console.log(`${cpuDescription()}; first difference at position ${differ}; ${ALL_SWEEPS.length} sweeps in "all"; backends ${backends}`);
console.log("ms (forward-times); targets: backward <= 2.5, AtP all <= 4, AtP* all <= 8 forward-times. torch/hooklab > 1: hooklab faster.");
const exactNames = [...new Set(Ts.flatMap(exactAt))];
const header = ["runtime", "thr", "T", "forward", "backward", "AtP all (cells)", "AtP* all", ...exactNames.map((n) => `exact ${n}`),
  "torch AtP / hl", "torch AtP* / hl", "torch bwd / hl"];
const table = [];
for (const runtime of ["native", "chromium", "torch"]) {
  for (const threads of threadsList) {
    for (const T of Ts) {
      const q = { runtime, threads, T };
      const b = find({ ...q, method: "backward" }), a = find({ ...q, method: "atp", sweep: "all" }), s = find({ ...q, method: "atp-star", sweep: "all" });
      if (!b && !a) continue;
      const fwd = (b ?? a).forward_ms;
      const cell = (r, target) => (r ? `${r.ms.toFixed(0)} (${r.forward_times.toFixed(2)}${target ? (r.forward_times <= target ? " ok" : " MISS") : ""})` : "-");
      const tb = find({ runtime: "torch", threads, T, method: "backward" }), ta = find({ runtime: "torch", threads, T, method: "atp", sweep: "all" }), ts = find({ runtime: "torch", threads, T, method: "atp-star", sweep: "all" });
      const peer = runtime === "torch" ? ["", "", ""] : [ta && a ? x(ta.ms / a.ms) : "-", ts && s ? x(ts.ms / s.ms) : "-", tb && b ? x(tb.ms / b.ms) : "-"];
      table.push([runtime, String(threads), String(T), fwd.toFixed(1), cell(b, 2.5), a ? `${cell(a, 4)} ${a.cells}` : "-", cell(s, 8),
        ...exactNames.map((n) => cell(find({ ...q, method: "exact", sweep: n }))), ...peer]);
    }
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(line(header));
for (const r of table) console.log(line(r));
for (const n of notes) console.log(`note: ${n}`);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/attribution.json"), JSON.stringify({ machine: cpuDescription(), notes, rows }, null, 1) + "\n");
