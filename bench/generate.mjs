#!/usr/bin/env node
// Generation benchmark (issue 12): greedy KV-cached generation of 64 new tokens on the
// GPT-2-small-shaped random model in headless Chromium (1 thread: the single-threaded build on the
// plain page; 2 threads: the pthreads build on the isolated page), prompt lengths 16 and 128.
// Peers in the same run: onnxruntime-web's wasm execution provider on the same weights exported
// with past key/value inputs and outputs (bench/onnx/export_gpt2_kv_onnx.py), and the memory
// floor: the bytes one step must read (every weight but the embeddings, and the cached keys and
// values) over the streaming bandwidth measured in the same page with the same threads
// (bench/kernels/stream_bandwidth.c). Prints one table and writes bench/results/generate.json.
//
//   npm run bench:generate
//   node bench/generate.mjs [--prompts 16,128] [--threads 1,2] [--new-tokens 64] [--reps 3] [--skip-ort] [--skip-f16] [--port 4191]
//
// f16 rows ("weights": "f16", unless --skip-f16): the same model with f16 weight matrices in memory
// (LoadOptions.weights), in a page of its own, in the same alternating runs; its floor counts the
// matrices at 2 bytes.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { launchChromium, openHarness, startServer } from "./browser.mjs";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { copyOrtRuntime, openOrt } from "./ort.mjs";
import { median, tokensFor } from "./inputs.mjs";
import { arg, flag } from "./args.mjs";
import { cpuDescription } from "./machine.mjs";

const root = new URL("..", import.meta.url).pathname;
const prompts = arg("prompts", "16,128").split(",").map(Number);
const threadsList = arg("threads", "1,2").split(",").map(Number);
const newTokens = Number(arg("new-tokens", 64));
const reps = Number(arg("reps", 3));
const skipOrt = flag("skip-ort");
const withF16 = !flag("skip-f16");
const loadAverage = () => loadavg().map((x) => Number(x.toFixed(2)));
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const modelDir = ensureGpt2SmallRandom();
execFileSync("/usr/bin/python3", [join(root, "bench/onnx/export_gpt2_kv_onnx.py"), "--model", modelDir,
  "--out", join(root, "build/bench/gpt2-small-random-kv.onnx")], { stdio: "inherit" });
execFileSync("emcc", ["-O3", "-msimd128", "--no-entry", "-sSTANDALONE_WASM", "-sALLOW_MEMORY_GROWTH", "-sMAXIMUM_MEMORY=1gb",
  "-sEXPORTED_FUNCTIONS=_stream_sum", join(root, "bench/kernels/stream_bandwidth.c"), "-o", join(root, "build/bench/stream_bandwidth.wasm")],
{ stdio: "inherit", env: { ...process.env, NODE_PATH: process.env.NODE_PATH ?? "/usr/share/nodejs" } });
if (!skipOrt) copyOrtRuntime();

/** Bytes one step with `context` cached positions reads: every matrix and vector of the blocks, the
 *  unembedding, one row of each embedding, and the cached keys and values (f32; the matrices at
 *  2 bytes with f16 weights). */
function stepBytes(cfg, context, weights = "f32") {
  const { n_layers: L, d_model: D, d_mlp: M, d_vocab: V } = cfg;
  const matrices = L * (D * 3 * D + D * D + D * M + M * D) + D * V;
  const vectors = L * (3 * D + D + M + D + 4 * D) + V + 2 * D + 2 * D + 2 * L * context * D;
  return (weights === "f16" ? 2 : 4) * matrices + 4 * vectors;
}

async function openHooklab(browser, url, threads, weights = "f32") {
  const page = await openHarness(browser, url, threads);
  const info = await page.evaluate(async ({ threads, weights }) => {
    window.benchModel = await window.hooklab.HookedTransformer.load({ url: "/repo/build/bench/gpt2-small-random-f32/" },
      { threads, backend: "wasm", weights });
    return { cfg: window.benchModel.cfg, variant: window.benchModel.variant };
  }, { threads, weights });
  if (info.cfg.weights !== weights) throw new Error(`hooklab loaded ${info.cfg.weights} weights; wanted ${weights}`);
  if (info.variant !== (threads > 1 ? "mt" : "st") || (threads > 1 && info.cfg.threads !== threads)) {
    throw new Error(`hooklab ran the ${info.variant} build with ${info.cfg.threads} threads; wanted ${threads}`);
  }
  return { page, cfg: info.cfg };
}

/** One greedy generation in the page: ms from the call to the first token (the prompt's step) and
 *  between tokens (one cached step each, as onToken sees them). */
function hooklabGenerate(page, tokens) {
  return page.evaluate(async ({ tokens, newTokens }) => {
    const stamps = [];
    const t0 = performance.now();
    const out = await window.benchModel.generate(tokens, { maxNewTokens: newTokens, temperature: 0, stopAtEos: false,
      onToken: () => stamps.push(performance.now()) });
    const stepMs = stamps.map((t, i) => t - (i ? stamps[i - 1] : t0));
    return { generated: Array.from(out.tokens.subarray(out.promptLength)), stepMs };
  }, { tokens, newTokens });
}

function ortGenerate(page, tokens, cfg) {
  return page.evaluate(({ tokens, newTokens, heads, headDim }) => window.ortPeer.generate(tokens, newTokens, { heads, headDim }),
    { tokens, newTokens, heads: cfg.n_heads, headDim: cfg.d_head ?? cfg.d_model / cfg.n_heads });
}

function streamBandwidth(page, threads, rounds = 5) {
  return page.evaluate(async ({ threads, rounds }) => {
    const { measureStreamBandwidth } = await import("/repo/bench/pages/stream-bandwidth.mjs");
    return measureStreamBandwidth({ wasmUrl: "/repo/build/bench/stream_bandwidth.wasm", threads, rounds });
  }, { threads, rounds });
}

/** The mean number of cached positions over the one-token steps of a prompt of length T. */
const meanContext = (T) => T + (newTokens - 2) / 2;

/** The mean time of a run's one-token steps (steps 2..N). */
const perTokenMs = (run) => run.stepMs.slice(1).reduce((s, x) => s + x, 0) / (run.stepMs.length - 1);

/** A row from each run's step times: the first step is the prompt, the rest one token each. */
function summarize(system, threads, T, runs, load) {
  const prefill = median(runs.map((r) => r.stepMs[0]));
  const perToken = median(runs.map(perTokenMs));
  return { system, threads, prompt_length: T, new_tokens: newTokens, prompt_ms: prefill, ms_per_token: perToken,
    tokens_per_s: 1000 / perToken, runs: runs.length, load_average_1min: load };
}

/** hooklab and (when loaded) ORT alternating run by run at one prompt length, then their rows. */
async function measurePrompt(hooklab, half, ort, threads, T, checks) {
  const tokens = tokensFor(T);
  const load = loadAverage()[0];
  const first = await hooklabGenerate(hooklab.page, tokens);  // warm-up, and the tokens compared below
  const ours = [], halves = [], theirs = [], bandwidths = [];
  if (half) {
    // Greedy tokens agree until the f16 rounding flips a near tie (a random model has many).
    const f16 = await hooklabGenerate(half.page, tokens);
    let agree = 0;
    while (agree < newTokens && f16.generated[agree] === first.generated[agree]) agree++;
    checks.push({ threads, prompt_length: T, f16_weights_greedy_tokens_equal_before_first_difference: agree, of: newTokens });
  }
  let peer;
  if (ort) {
    peer = await ortGenerate(ort.page, tokens, hooklab.cfg);
    let agree = 0;
    while (agree < newTokens && peer.generated[agree] === first.generated[agree]) agree++;
    checks.push({ threads, prompt_length: T, greedy_tokens_equal_before_first_difference: agree, of: newTokens });
    if (agree === 0) throw new Error("hooklab and onnxruntime-web choose different first tokens: not the same model");
  }
  for (let r = 0; r < reps; r++) {
    ours.push(await hooklabGenerate(hooklab.page, tokens));
    // The floor again, right after: the machine's memory traffic from other work changes from
    // minute to minute, so each run is also compared with the bandwidth of its own moment.
    await pause(100);
    bandwidths.push(median(await streamBandwidth(hooklab.page, threads, 3)));
    if (half) {
      await pause(200);
      halves.push(await hooklabGenerate(half.page, tokens));
    }
    if (!ort) continue;
    await pause(200);  // let one system's threads go idle before the other starts
    theirs.push(await ortGenerate(ort.page, tokens, hooklab.cfg));
    await pause(200);
  }
  const paired = (runs, weights) => median(runs.map((r, i) => perTokenMs(r) / (stepBytes(hooklab.cfg, meanContext(T), weights) / (bandwidths[i] * 1e6))));
  const rows = [{ ...summarize("hooklab", threads, T, ours, load), floor_ratio_paired: paired(ours, "f32"), stream_gb_per_s_paired: bandwidths }];
  if (half) rows.push({ ...summarize("hooklab", threads, T, halves, load), weights: "f16", floor_ratio_paired: paired(halves, "f16") });
  if (ort) rows.push(summarize("onnxruntime-web", threads, T, theirs, load));
  return rows;
}

async function measureThreads(browser, url, threads, rows, checks, runs) {
  console.error(`\n== ${threads} thread(s): loading hooklab${skipOrt ? "" : " and onnxruntime-web"}...`);
  const hooklab = await openHooklab(browser, url, threads);
  const half = withF16 ? await openHooklab(browser, url, threads, "f16") : undefined;
  const ort = skipOrt ? undefined : await openOrt(browser, url, threads, "/repo/build/bench/gpt2-small-random-kv.onnx");
  const bandwidth = await streamBandwidth(hooklab.page, threads);
  for (const T of prompts) {
    const measured = await measurePrompt(hooklab, half, ort, threads, T, checks);
    rows.push(...measured);
    console.error(measured.map((r) => `${threads}t T=${T} ${r.system}${r.weights ? ` ${r.weights}` : ""}: ${r.ms_per_token.toFixed(1)} ms/token`).join("; "));
  }
  bandwidth.push(...await streamBandwidth(hooklab.page, threads));  // before and after, under the same load
  runs[`stream-bandwidth/${threads}`] = bandwidth;
  const gbPerS = median(bandwidth);
  for (const T of prompts) {
    const context = meanContext(T);
    const bytes = stepBytes(hooklab.cfg, context);
    const ms = bytes / (gbPerS * 1e6);
    rows.push({ system: "memory floor", threads, prompt_length: T, new_tokens: newTokens, ms_per_token: ms, tokens_per_s: 1000 / ms,
      step_bytes: bytes, stream_gb_per_s: gbPerS });
    if (!half) continue;
    const halfBytes = stepBytes(hooklab.cfg, context, "f16");
    rows.push({ system: "memory floor", weights: "f16", threads, prompt_length: T, new_tokens: newTokens, ms_per_token: halfBytes / (gbPerS * 1e6),
      tokens_per_s: (gbPerS * 1e9) / halfBytes, step_bytes: halfBytes, stream_gb_per_s: gbPerS });
  }
  if (half) {
    await half.page.evaluate(() => window.benchModel.dispose());
    await half.page.close();
  }
  if (ort) {
    await ort.page.evaluate(() => window.ortPeer.release());
    await ort.page.close();
  }
  await hooklab.page.evaluate(() => window.benchModel.dispose());
  await hooklab.page.close();
}

function printTable(rows, machine) {
  const find = (system, threads, T, weights) => rows.find((r) => r.system === system && r.threads === threads && r.prompt_length === T && r.weights === weights);
  console.log(`\nKV-cached greedy generation, ${newTokens} new tokens, GPT-2-small-shaped random model, Chromium; ${machine}`);
  console.log("(a shared machine: other work ran at the same time; load averages are in the JSON)");
  console.log("threads prompt | hooklab ms/token tok/s prompt ms | ORT ms/token tok/s prompt ms | hooklab/ORT tok/s (target >= 1.3) | floor ms/token (GB/s) | hooklab / floor (target <= 1.5) | paired");
  const f = (x, d, w) => (x === undefined ? "-" : x.toFixed(d)).padStart(w);
  for (const threads of threadsList) {
    for (const T of prompts) {
      const h = find("hooklab", threads, T), o = find("onnxruntime-web", threads, T), m = find("memory floor", threads, T);
      console.log(`${f(threads, 0, 7)} ${f(T, 0, 6)} | ${f(h.ms_per_token, 1, 16)} ${f(h.tokens_per_s, 1, 5)} ${f(h.prompt_ms, 0, 9)} |` +
        ` ${f(o?.ms_per_token, 1, 12)} ${f(o?.tokens_per_s, 1, 5)} ${f(o?.prompt_ms, 0, 9)} | ${f(o ? h.tokens_per_s / o.tokens_per_s : undefined, 2, 34)} |` +
        ` ${f(m.ms_per_token, 1, 14)} (${m.stream_gb_per_s.toFixed(1)}) | ${f(h.ms_per_token / m.ms_per_token, 2, 30)} | ${f(h.floor_ratio_paired, 2, 6)}`);
    }
  }
  if (!rows.some((r) => r.weights === "f16")) return;
  console.log("\nf16 weights in memory (same runs): threads prompt | ms/token tok/s | f32 ms / f16 ms | ORT ms / f16 ms | f16 floor ms/token | f16 / its floor | paired");
  for (const threads of threadsList) {
    for (const T of prompts) {
      const h = find("hooklab", threads, T, "f16"), h32 = find("hooklab", threads, T), o = find("onnxruntime-web", threads, T);
      const m = find("memory floor", threads, T, "f16");
      console.log(`${f(threads, 0, 7)} ${f(T, 0, 6)} | ${f(h.ms_per_token, 1, 8)} ${f(h.tokens_per_s, 1, 5)} | ${f(h32.ms_per_token / h.ms_per_token, 2, 15)} |` +
        ` ${f(o ? o.ms_per_token / h.ms_per_token : undefined, 2, 15)} | ${f(m.ms_per_token, 1, 18)} | ${f(h.ms_per_token / m.ms_per_token, 2, 16)} | ${f(h.floor_ratio_paired, 2, 6)}`);
    }
  }
}

const machine = cpuDescription();
const startLoad = loadAverage();
const server = await startServer(Number(arg("port", 4191)));
const browser = await launchChromium();
const chromium = browser.version();
const rows = [], checks = [], runs = {};
try {
  for (const threads of threadsList) await measureThreads(browser, server.url, threads, rows, checks, runs);
} finally {
  await browser.close();
  server.stop();
}
printTable(rows, machine);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(join(root, "bench/results/generate.json"), JSON.stringify({
  machine, chromium, load_average_start: startLoad, load_average_end: loadAverage(),
  notes: ["greedy (temperature 0), 64 new tokens, no EOS stop; ms_per_token = median over runs of the mean of steps 2..64 (one cached step each); prompt_ms = the first step (the prompt and the first token)",
    "hooklab: model.generate on the wasm backend, step times as onToken reaches the page; onnxruntime-web: the wasm EP on the KV export, one session.run per step fed the previous presents, argmax in the page",
    "memory floor: step_bytes (all block weights, the unembedding, one embedding row each, cached K and V at the mean context, f32) / the streaming read bandwidth of `threads` Web Workers measured in the hooklab page before and after the runs",
    "floor_ratio_paired (hooklab rows): the median over runs of the run's ms per token / the floor from the bandwidth measured right after that run (stream_gb_per_s_paired: 3 rounds each), so that a minute of other work on the machine falls on both sides of the ratio",
    "rows with weights 'f16': the same model loaded with f16 weight matrices in memory, measured in the same alternating runs; its memory floor counts the matrices at 2 bytes",
    "the machine is shared with other engineers' builds and tests: timings carry that noise; the runs alternate the systems so it falls on both"],
  checks, rows, runs,
}, null, 1) + "\n");
console.error("wrote bench/results/generate.json");
