#!/usr/bin/env node
// The error half-precision weights introduce (issue: model formats). Each model is converted
// with `hooklab convert` and a fixed set of prompts runs through the reference weights and
// each converted copy, with TransformerLens processing and without; per copy it reports
// max |logit error| (absolute, and relative to the position's max |logit|), max |prob error|,
// top-1 agreement and KL(reference || copy). Writes bench/results/half_precision.json.
// Beside the converted files, each model is also loaded from its reference file with f16
// weights in memory (the lab's "f16 weights", LoadOptions.weights): copy "f16 in memory", where
// the processed matrices are rounded rather than the file's tensors.
//
//   node bench/half-precision.mjs            (needs npm run build:native and build:wasm)
//
// Models: the GPT-2-small-shaped random model (f32 reference; random weights make logits
// unlike a trained model's — here large and spiky rather than calibrated — so its
// probability, top-1 and KL figures say little about GPT-2; rows are labelled "random"),
// the trained demo model
// models/hooklab-demo (stored in f16: its f32 copy must be exact, its bf16 copy is measured
// against the stored f16), and the real GPT-2 when $HOOKLAB_GPT2_DIR or models/gpt2 holds it.
// The forwards run in the single-threaded WebAssembly core (the browser's engine) in Node,
// so each model is loaded once for all prompts.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureGpt2SmallRandom } from "./gpt2-small-random.mjs";
import { loadHooklabModule } from "../wasm/tools/load-module-node.mjs";

const root = new URL("..", import.meta.url).pathname;
const cli = join(process.env.HOOKLAB_NATIVE_BUILD ?? join(root, "build/native"), "hooklab");
const work = join(root, "build/bench/half-precision");

// English prose, dialogue, lists, code in several languages, numbers, unicode and emoji,
// repetition (induction) and the IOI sentence the lab's tutorials use.
export const PROMPTS = [
  "The capital of France is",
  "When Mary and John went to the store, John gave a drink to",
  "Once upon a time, in a small village by the sea, there lived an old fisherman who",
  "The mitochondria is the powerhouse of the",
  "\"Where are you going?\" she asked. \"To the library,\" he said, \"I have",
  "Ingredients: 2 cups flour, 1 cup sugar, 3 eggs, and a pinch of",
  "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) +",
  "for (int i = 0; i < n; ++i) {\n  sum += a[i] *",
  "SELECT name, COUNT(*) FROM users WHERE age > 30 GROUP BY",
  "const total = items.reduce((acc, item) => acc + item.price,",
  "1, 1, 2, 3, 5, 8, 13, 21, 34,",
  "In 1969, Neil Armstrong became the first person to walk on the",
  "Zürich, München, Kraków and Ångström are all words with",
  "東京は日本の首都です。大阪は",
  "Привет, как дела? Я думаю, что",
  "I love pizza 🍕 and tacos 🌮 but my favourite food is",
  "A B C D E F G A B C D E F G A B C D",
  "The cat sat on the mat. The dog sat on the log. The cat sat on the",
  "e^{i\\pi} + 1 = 0 is known as Euler's",
  "<html><head><title>Hello</title></head><body><p>",
];

function safetensorsDtype(path) {
  const bytes = readFileSync(path);
  const header = JSON.parse(bytes.toString("utf8", 8, 8 + Number(bytes.readBigUInt64LE(0))));
  const dtypes = new Set(Object.entries(header).filter(([k]) => k !== "__metadata__").map(([, v]) => v.dtype));
  return [...dtypes].join("+").toLowerCase();
}

function convert(dir, name, dtype) {
  const out = join(work, `${name}-${dtype}`);
  execFileSync(cli, ["convert", "--model", dir, "--out", out, "--dtype", dtype], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

// --- the models ------------------------------------------------------------------------------

/** The reference file itself, loaded with f16 weight matrices in memory. */
function inMemoryF16(dir) {
  return { dtype: "f16 in memory", dir, weights: "f16" };
}

function models() {
  const list = [];
  const random = ensureGpt2SmallRandom();
  list.push({ name: "gpt2-small-random", weights: "random", reference: { dtype: "f32", dir: random },
    copies: [...["f16", "bf16"].map((d) => ({ dtype: d, dir: convert(random, "gpt2-small-random", d) })), inMemoryF16(random)] });
  const gpt2 = process.env.HOOKLAB_GPT2_DIR ?? join(root, "models/gpt2");
  if (existsSync(join(gpt2, "model.safetensors"))) {
    // The hub's GPT-2 is f32; whatever it is stored in, the reference is its f32 copy.
    const f32 = convert(gpt2, "gpt2", "f32");
    list.push({ name: "gpt2", weights: "trained", reference: { dtype: "f32", dir: f32 },
      copies: [...["f16", "bf16"].map((d) => ({ dtype: d, dir: convert(f32, "gpt2", d) })), inMemoryF16(f32)] });
  } else {
    console.error(`real GPT-2 not found (set HOOKLAB_GPT2_DIR or put it in models/gpt2): skipped`);
  }
  const demo = join(root, "models/hooklab-demo");
  const stored = safetensorsDtype(join(demo, "model.safetensors"));
  list.push({ name: "hooklab-demo", weights: "trained", reference: { dtype: `${stored} (as stored)`, dir: demo },
    copies: [...["f32", "bf16"].map((d) => ({ dtype: d, dir: convert(demo, "hooklab-demo", d) })), inMemoryF16(demo)] });
  return list;
}

// --- running ---------------------------------------------------------------------------------

const vocabText = readFileSync(join(root, "models/tokenizer/encoder.json"), "utf8");
const mergesText = readFileSync(join(root, "models/tokenizer/vocab.bpe"), "utf8");

function load(core, dir, processing, weights = "f32") {
  const bytes = readFileSync(join(dir, "model.safetensors"));
  const model = core.loadModel({
    config: readFileSync(join(dir, "config.json"), "utf8"), vocab: vocabText, merges: mergesText,
    weights: { size: bytes.length, read(offset, length, pointer) { core.HEAPU8.set(bytes.subarray(offset, offset + length), pointer); } },
  }, { processing, weights, threads: 1 });
  if (!model) throw new Error(`${dir}: ${core.lastError().error}`);
  return model;
}

/** Logits [P, V] of every prompt (tokens from the reference, cut to n_ctx). */
function allLogits(core, dir, processing, tokenLists, weights = "f32") {
  const model = load(core, dir, processing, weights);
  try {
    const nCtx = model.config().n_ctx;
    if (!tokenLists.length) for (const p of PROMPTS) tokenLists.push(Int32Array.from(model.toTokens(p, true)).subarray(0, nCtx));
    const logits = tokenLists.map((tokens) => {
      const out = model.run(tokens, { returnLogits: true });
      if (out.error) throw new Error(`${dir}: ${out.error}`);
      return { logits: out.logits, vocab: out.logitsShape[2] };
    });
    // The processed weights' bytes in the engine's memory.
    logits.weightBytes = model.config().weight_bytes;
    return logits;
  } finally {
    model.delete();
  }
}

function logSoftmax(row) {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Error of `copy` against `ref`, over every position of every prompt. */
export function compareLogits(ref, copy) {
  const m = { positions: 0, maxAbsLogit: 0, maxRelLogit: 0, maxAbsProb: 0, top1Agree: 0, klSum: 0, klMax: 0, maxFlipMargin: 0 };
  ref.forEach(({ logits, vocab }, k) => {
    for (let at = 0; at < logits.length; at += vocab) {
      const r = logits.subarray(at, at + vocab), c = copy[k].logits.subarray(at, at + vocab);
      let maxRef = 0, maxDiff = 0;
      for (let i = 0; i < vocab; i++) {
        maxRef = Math.max(maxRef, Math.abs(r[i]));
        maxDiff = Math.max(maxDiff, Math.abs(r[i] - c[i]));
      }
      const lr = logSoftmax(r), lc = logSoftmax(c);
      let kl = 0, maxProb = 0;
      for (let i = 0; i < vocab; i++) {
        const p = Math.exp(lr[i]);
        kl += p * (lr[i] - lc[i]);
        maxProb = Math.max(maxProb, Math.abs(p - Math.exp(lc[i])));
      }
      const top = argmax(r);
      if (top === argmax(c)) {
        m.top1Agree++;
      } else {
        // How close the reference's top two were where the copy changed its mind.
        let second = -Infinity;
        for (let i = 0; i < vocab; i++) if (i !== top) second = Math.max(second, r[i]);
        m.maxFlipMargin = Math.max(m.maxFlipMargin, r[top] - second);
      }
      m.positions++;
      m.maxAbsLogit = Math.max(m.maxAbsLogit, maxDiff);
      m.maxRelLogit = Math.max(m.maxRelLogit, maxDiff / Math.max(1, maxRef));
      m.maxAbsProb = Math.max(m.maxAbsProb, maxProb);
      m.klSum += Math.max(0, kl);
      m.klMax = Math.max(m.klMax, kl);
    }
  });
  return {
    positions: m.positions, max_abs_logit_error: m.maxAbsLogit, max_rel_logit_error: m.maxRelLogit,
    max_abs_prob_error: m.maxAbsProb, top1_agreement_pct: (100 * m.top1Agree) / m.positions,
    kl_mean: m.klSum / m.positions, kl_max: m.klMax, max_ref_margin_where_top1_changed: m.maxFlipMargin,
  };
}

// --- main ------------------------------------------------------------------------------------

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: npm run build:native first`);
  mkdirSync(work, { recursive: true });
  const core = await loadHooklabModule("st");
  const rows = [];
  for (const model of models()) {
    for (const processing of ["default", "none"]) {
      const tokens = [];
      const ref = allLogits(core, model.reference.dir, processing, tokens);
      let maxLogit = 0;
      for (const { logits } of ref) for (const v of logits) maxLogit = Math.max(maxLogit, Math.abs(v));
      for (const copy of model.copies) {
        const logits = allLogits(core, copy.dir, processing, tokens, copy.weights);
        const errors = compareLogits(ref, logits);
        rows.push({ model: model.name, weights: model.weights, processing, reference: model.reference.dtype,
          copy: copy.dtype, file_bytes: statSync(join(copy.dir, "model.safetensors")).size,
          memory_weight_bytes: logits.weightBytes, reference_memory_weight_bytes: ref.weightBytes,
          max_abs_ref_logit: maxLogit, ...errors });
        console.error(`${model.name} ${processing} ${copy.dtype}: done`);
      }
    }
  }

  const fmt = (v, d = 2) => (v === 0 ? "0" : v.toExponential(d));
  console.log(`${PROMPTS.length} prompts; errors of each copy against the reference weights (wasm core, single thread)`);
  console.log("model               weights  processing  ref             copy           positions  max|Δlogit|  rel       max|Δp|    top-1 %   KL mean    KL max");
  for (const r of rows) {
    console.log([r.model.padEnd(19), r.weights.padEnd(8), r.processing.padEnd(11), r.reference.padEnd(15), r.copy.padEnd(14),
      String(r.positions).padStart(9), fmt(r.max_abs_logit_error).padStart(12), fmt(r.max_rel_logit_error).padStart(9),
      fmt(r.max_abs_prob_error).padStart(10), r.top1_agreement_pct.toFixed(2).padStart(9), fmt(r.kl_mean).padStart(10),
      fmt(r.kl_max).padStart(9)].join(" "));
  }
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/half_precision.json"), JSON.stringify({
    engine: "hooklab wasm core (single-threaded) in Node", prompts: PROMPTS,
    note: "rows with weights 'random' come from a random-weight model: its logit error scales like a trained model's, but its probability, top-1 and KL figures do not describe a trained model",
    rows,
  }, null, 1) + "\n");
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
