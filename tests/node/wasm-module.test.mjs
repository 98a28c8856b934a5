// The WebAssembly build against the committed PyTorch fixtures, in Node: every hook point and
// the logits within 1e-5 * max(1, max|ref|); malformed files give clear errors and leave the
// module usable. (The pthreads build's ES-module glue cannot start Node worker_threads in
// Emscripten 3.1.6, so it is checked in Chromium: tests/browser/engine.spec.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadHooklabModule } from "../../wasm/tools/load-module-node.mjs";
import { readNpy, compareArrays, keptLogitColumns } from "../tools/npy.mjs";

const root = new URL("../..", import.meta.url).pathname;
const fixtures = JSON.parse(readFileSync(join(root, "tests/fixtures/manifest.json"), "utf8"));
// f16 weights in memory against the reference with its processed matrices rounded to f16.
const f16Fixtures = JSON.parse(readFileSync(join(root, "tests/fixtures/f16-weights/manifest.json"), "utf8"));
// As tests/native/reference_parity_test.cpp explains: after processing, the two sides' f32
// processing can round a weight lying at an f16 midpoint to neighbouring f16 values.
const F16_PROCESSED_REL_TOLERANCE = 1e-4;
const vocab = readFileSync(join(root, "models/tokenizer/encoder.json"), "utf8");
const merges = readFileSync(join(root, "models/tokenizer/vocab.bpe"), "utf8");

function files(module, dir, bytes = readFileSync(join(root, dir, "model.safetensors"))) {
  return {
    config: readFileSync(join(root, dir, "config.json"), "utf8"), vocab, merges,
    weights: { size: bytes.length, read(offset, length, pointer) { module.HEAPU8.set(bytes.subarray(offset, offset + length), pointer); } },
  };
}

function load(module, dir, processing = "default", threads = 1, weights = "f32") {
  const model = module.loadModel(files(module, dir), { processing, threads, weights });
  if (!model) throw new Error(module.lastError().error);
  return model;
}

function hookNamesInOrder(manifestDir) {
  return JSON.parse(readFileSync(join(root, manifestDir, "manifest.json"), "utf8")).hooks;
}

async function checkFixtures(variant, threads, cases = fixtures.cases) {
  const module = await loadHooklabModule(variant);
  const models = new Map();
  let worst = 0;
  for (const c of cases) {
    const weights = c.weight_precision ?? "f32";
    const rel = weights === "f16" && c.processing !== "none" ? F16_PROCESSED_REL_TOLERANCE : 1e-5;
    const key = `${c.model}|${c.processing}|${weights}`;
    if (!models.has(key)) models.set(key, load(module, c.model, c.processing, threads, weights));
    const model = models.get(key);
    assert.equal(model.config().weights, weights, `${c.id}: weights in memory`);
    const tokens = model.toTokens(c.prompt, c.prepend_bos);
    assert.deepEqual(Array.from(tokens), c.tokens, `${c.id}: tokens`);
    const hooks = hookNamesInOrder(c.dir);
    const out = model.run(tokens, { cacheNames: hooks.map((h) => h.name), useAttnResult: c.attn_result });
    assert.ok(!out.error, out.error);
    assert.deepEqual(out.cache.entries.map((e) => e.name), hooks.map((h) => h.name), `${c.id}: hook order`);
    for (const entry of out.cache.entries) {
      const ref = readNpy(join(root, c.dir, `${entry.name}.npy`));
      assert.deepEqual(entry.shape, ref.shape, `${c.id} ${entry.name}: shape`);
      const n = ref.values.length;
      const cmp = compareArrays(out.cache.arena.subarray(entry.offset, entry.offset + n), ref.values, rel);
      assert.ok(cmp.ok, `${c.id} ${entry.name}: max|diff| ${cmp.maxDiff} > ${cmp.tol} ${cmp.detail ?? ""}`);
      worst = Math.max(worst, cmp.maxDiff / cmp.tol);
    }
    const logits = readNpy(join(root, c.dir, "logits.npy"));
    const manifest = JSON.parse(readFileSync(join(root, c.dir, "manifest.json"), "utf8"));
    assert.deepEqual(out.logitsShape, manifest.logits_shape);
    const cmp = compareArrays(keptLogitColumns(out.logits, out.logitsShape, manifest.logit_columns), logits.values, rel);
    assert.ok(cmp.ok, `${c.id} logits: max|diff| ${cmp.maxDiff} > ${cmp.tol}`);
    worst = Math.max(worst, cmp.maxDiff / cmp.tol);
  }
  for (const m of models.values()) m.delete();
  return worst;
}

test("single-threaded wasm build matches the PyTorch reference on every hook", async () => {
  const worst = await checkFixtures("st", 1);
  console.log(`  worst max|diff| / tolerance: ${worst.toFixed(3)}`);
});

test("single-threaded wasm build with f16 weights in memory matches the reference rounded to f16", async () => {
  const worst = await checkFixtures("st", 1, f16Fixtures.cases);
  console.log(`  worst max|diff| / tolerance: ${worst.toFixed(3)}`);
  const module = await loadHooklabModule("st");
  const f32 = module.modelMemoryNeed(readFileSync(join(root, "models/testdata/tiny-a/config.json"), "utf8"), "default", "f32");
  const f16 = module.modelMemoryNeed(readFileSync(join(root, "models/testdata/tiny-a/config.json"), "utf8"), "default", "f16");
  assert.ok(f16.weightBytes < f32.weightBytes, "f16 matrices take less memory");
  assert.equal(module.loadModel(files(module, "models/testdata/tiny-a"), { weights: "f8" }), null);
  assert.match(module.lastError().error, /unknown weight precision 'f8'/);
});

test("a malformed model file is a clear error and the module stays usable", async () => {
  const module = await loadHooklabModule("st");
  const good = readFileSync(join(root, "models/testdata/tiny-c/model.safetensors"));
  const truncated = good.subarray(0, good.length >> 1);
  assert.equal(module.loadModel(files(module, "models/testdata/tiny-c", truncated), {}), null);
  assert.match(module.lastError().error, /model\.safetensors.*truncated/);
  const garbage = Buffer.from("this is not a safetensors file at all");
  assert.equal(module.loadModel(files(module, "models/testdata/tiny-c", garbage), {}), null);
  assert.match(module.lastError().error, /model\.safetensors/);
  const model = load(module, "models/testdata/tiny-c");
  assert.equal(model.config().n_layers, 1);
  const bad = model.run(new Int32Array(13).fill(5), {});
  assert.match(bad.error, /n_ctx/);
  assert.match(model.singleToken(" Parisian").error, /not a single token/);
  model.delete();
});

// Every hook name of a model with n layers (names of points the model lacks match nothing).
function allHookNames(module, nLayers) {
  return module.hookPointTable().flatMap((h) =>
    h.perBlock ? Array.from({ length: nLayers }, (_, l) => h.pattern.replace("{L}", String(l))) : [h.pattern]);
}

function expectBitEqual(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const i = a.findIndex((x, j) => x !== b[j]);
  assert.equal(i, -1, `${what}: first difference at ${i}: ${actual[i]} vs ${expected[i]}`);
}

// A cache run streams its cache into JavaScript memory (RunOptions::cache_sink); a gradient run
// holds it in wasm memory, where the forward writes each cached point straight into its slot.
// Both, and a run with no cache, must compute the same thing bit for bit: watching a point
// must never change it (e.g. LayerNorm is recomputed only when a hook is on hook_scale).
test("wasm: a streamed cache, a held cache and no cache give bit-identical values", async () => {
  const module = await loadHooklabModule("st");
  const setups = [
    ["models/testdata/tiny-a", "default", false], ["models/testdata/tiny-b", "none", true],
    ["models/hooklab-demo", "default", false], ["models/hooklab-induction", "default", false],
  ];
  for (const [dir, processing, useAttnResult] of setups) {
    const model = load(module, dir, processing);
    const names = allHookNames(module, model.config().n_layers);
    const vocab = model.config().d_vocab;  // hooklab-induction has a 256-token vocabulary of its own
    const tokens = Int32Array.from([50256, 2215, 5335, 290, 1757, 1816, 284, 262, 3650, 11, 1757, 2921], (t) => t % vocab);
    for (const hooks of [[], [{ name: "blocks.0.attn.hook_z", kind: "zero", heads: [0] }, { name: "blocks.0.ln1.hook_scale", kind: "read", fn() {} }]]) {
      const what = `${dir} (${processing}${useAttnResult ? ", attn result" : ""}, ${hooks.length} hooks)`;
      const plain = model.run(tokens, { hooks, useAttnResult });
      const streamed = model.run(tokens, { hooks, useAttnResult, cacheNames: names });
      const held = model.run(tokens, { hooks, useAttnResult, cacheNames: names, gradMetric: { metric: "loss" } });
      for (const out of [plain, streamed, held]) assert.ok(!out.error, `${what}: ${out.error}`);
      expectBitEqual(streamed.logits, plain.logits, `${what} logits, streamed vs no cache`);
      expectBitEqual(held.logits, plain.logits, `${what} logits, held vs no cache`);
      assert.deepEqual(streamed.cache.entries.map((e) => [e.name, e.shape]), held.cache.entries.map((e) => [e.name, e.shape]));
      assert.ok(streamed.cache.entries.length >= 10 * model.config().n_layers, `${what}: ${streamed.cache.entries.length} entries`);
      for (const [i, e] of streamed.cache.entries.entries()) {
        const n = e.shape.reduce((a, b) => a * b, 1), h = held.cache.entries[i];
        expectBitEqual(streamed.cache.arena.subarray(e.offset, e.offset + n), held.cache.arena.subarray(h.offset, h.offset + n), `${what} ${e.name}`);
      }
    }
    model.delete();
  }
});

test("wasm: cache names cross exactly (none, some, one holding a NUL); a plan's entries are shared, frozen and right", async () => {
  const module = await loadHooklabModule("st");
  const model = load(module, "models/testdata/tiny-a");
  const L = model.config().n_layers;
  const names = allHookNames(module, L);
  const tokens = (n) => Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % model.config().d_vocab);
  const cachedNames = (cacheNames, n = 5) => model.run(tokens(n), { cacheNames }).cache.entries.map((e) => e.name);
  assert.deepEqual(cachedNames([]), []);
  assert.deepEqual(cachedNames(["hook_embed", `blocks.${L - 1}.hook_resid_post`, "no.such.hook"]), ["hook_embed", `blocks.${L - 1}.hook_resid_post`]);
  // One name holding a NUL is one name that matches no hook, not the two names around the NUL.
  assert.deepEqual(cachedNames([`hook_embed\0blocks.0.hook_resid_pre`]), []);
  assert.deepEqual(cachedNames([`hook_embed\0blocks.0.hook_resid_pre`, "hook_pos_embed"]), ["hook_pos_embed"]);
  // Every hook but the optional hook_result, in firing order.
  assert.deepEqual([...cachedNames(names)].sort(), names.filter((n) => !n.endsWith(".attn.hook_result")).sort());

  const first = model.run(tokens(5), { cacheNames: names });
  const again = model.run(tokens(5), { cacheNames: names });
  const longer = model.run(tokens(6), { cacheNames: names });
  assert.equal(again.cache.entries, first.cache.entries, "the same plan hands out the same entries");
  assert.notEqual(longer.cache.entries, first.cache.entries, "a longer prompt is another plan");
  for (const out of [first, longer]) {
    assert.ok(Object.isFrozen(out.cache.entries) && out.cache.entries.every((e) => Object.isFrozen(e) && Object.isFrozen(e.shape)));
  }
  assert.deepEqual(longer.cache.entries.find((e) => e.name === "hook_embed").shape, [1, 6, model.config().d_model]);
  let offset = 0;
  for (const e of longer.cache.entries) {
    assert.ok(e.offset >= offset && e.offset % 16 === 0, `${e.name}: offset ${e.offset}`);
    offset = e.offset + e.shape.reduce((a, b) => a * b, 1);
  }
  assert.ok(offset <= longer.cache.arena.length);

  // A gradient run's cache and gradients are two plans; both are kept, and run after run reuses them.
  const gradRun = () => model.run(tokens(5), { cacheNames: names, gradMetric: { metric: "loss" } });
  const [g1, g2] = [gradRun(), gradRun()];
  assert.equal(g2.cache.entries, g1.cache.entries);
  assert.equal(g2.grads.entries, g1.grads.entries);
  assert.notEqual(g1.grads.entries, g1.cache.entries);

  // Names that are not strings are refused as before (not turned into text), and the model stays usable.
  assert.throws(() => model.run(tokens(5), { cacheNames: ["hook_embed", 5] }), /string/);
  assert.deepEqual(cachedNames(["hook_embed"]), ["hook_embed"]);
  model.delete();
});

test("hook table and name resolution come from the core", async () => {
  const module = await loadHooklabModule("st");
  const table = module.hookPointTable();
  assert.equal(table.length, 22);
  assert.equal(module.resolveHookName("resid_post", -1, "", 12).name, "blocks.11.hook_resid_post");
  assert.equal(module.resolveHookName("scale4ln1", undefined, "", 12).name, "blocks.4.ln1.hook_scale");
  assert.match(module.resolveHookName("scale", 3, "", 12).error, /ln1/);
});

test("patching job and analysis run in the wasm module", async () => {
  const module = await loadHooklabModule("st");
  const model = load(module, "models/testdata/tiny-a");
  const c = JSON.parse(readFileSync(join(root, "tests/fixtures/patching/tiny-a-ioi-denoising.json"), "utf8"));
  // One session, two sweeps: each against the reference's own sweep.
  const job = model.startPatch({
    sweep: "resid_pre", cleanTokens: c.clean.tokens, corruptedTokens: c.corrupted.tokens, pairs: c.metric.pairs,
    items: [{ sweep: "resid_pre", method: "exact" }, { sweep: "attn_out", method: "exact" }],
  });
  while (!job.step().done) {
    // each step runs one chunk of cells; the results are read once the job is done
  }
  const results = job.results();
  job.delete();
  assert.equal(results.length, 2);
  for (const [i, fn] of ["get_act_patch_resid_pre", "get_act_patch_attn_out"].entries()) {
    const cmp = compareArrays(results[i].values, Float64Array.from(c.sweeps[fn].values.logit_diff.flat()));
    assert.ok(cmp.ok, `${fn}: ${cmp.maxDiff} > ${cmp.tol}`);
  }
  assert.equal(model.startPatch({ sweep: "resid_pre", cleanTokens: c.clean.tokens, corruptedTokens: c.corrupted.tokens,
    pairs: c.metric.pairs, items: Array(300).fill({ sweep: "resid_pre", method: "exact" }) }), null, "300 items are refused");
  assert.match(module.lastError().error, /at most 256 items/);
  const lens = model.logitLens(c.clean.tokens, [c.analysis.pos], c.analysis.pairs, 5);
  assert.ok(compareArrays(lens.logitDiff, Float64Array.from(c.analysis.logit_lens.logit_diff)).ok);
  model.delete();
});

test("path patching in the wasm module matches the PyTorch reference on every fixture; bad receivers are refused", async () => {
  const module = await loadHooklabModule("st");
  const manifest = JSON.parse(readFileSync(join(root, "tests/fixtures/path-patching/manifest.json"), "utf8"));
  const models = new Map();
  assert.ok(manifest.cases.length >= 10);
  for (const entry of manifest.cases) {
    const c = JSON.parse(readFileSync(join(root, entry.file), "utf8"));
    if (!models.has(c.model)) models.set(c.model, load(module, c.model));
    const job = models.get(c.model).startPathPatch({ cleanTokens: c.clean_tokens, corruptedTokens: c.corrupted_tokens, pairs: c.pairs,
      direction: c.direction, receivers: c.receivers });
    assert.ok(job, module.lastError().error);
    while (!job.step().done) {
      // one sender head per step
    }
    const [result] = job.results();
    job.delete();
    const cmp = compareArrays(result.values, Float64Array.from(c.values.logit_diff));
    assert.ok(cmp.ok, `${c.id}: ${cmp.maxDiff} > ${cmp.tol}`);
    assert.deepEqual(result.receivers, c.receivers.map((r) => `${r.layer}.${r.head}:${r.input}`));
    assert.ok(Math.abs(result.cleanMetric - c.baseline.clean.logit_diff) < 1e-5);
  }
  const [model] = models.values();
  const bad = (receivers) => model.startPathPatch({ cleanTokens: [50256, 1], corruptedTokens: [50256, 2], pairs: [[1, 2]], receivers });
  assert.equal(bad([{ layer: 0, head: 0, input: "z" }]), null);
  assert.match(module.lastError().error, /unknown receiver input 'z' \(one of: q, k, v\)/);
  assert.equal(bad([{ layer: 99, head: 0, input: "q" }]), null);
  assert.match(module.lastError().error, /receiver 99.0:q is not a head of this model/);
  assert.equal(bad([{ layer: "x" }]), null);
  assert.match(module.lastError().error, /needs a whole-number layer and head and an input/);
  assert.equal(bad([{ layer: 1.5, head: 0, input: "q" }]), null);
  assert.equal(bad("2.0:q"), null);
  assert.match(module.lastError().error, /receivers must be an array/);
  for (const m of models.values()) m.delete();
});

// A fixture hook ({name, action: zero|scale, heads?, positions?, factor?}) as a wasm hook spec.
// Scale has no built-in action: a callback multiplies the selected entries, with the fixture's
// axes ([B,P,H,X]: positions axis 1, heads axis 2; [B,H,Q,K]: heads 1, positions 2; else positions 1).
function wasmHook(h) {
  if (h.action === "zero") return { name: h.name, kind: "zero", heads: h.heads, positions: h.positions };
  return {
    name: h.name, kind: "callback",
    fn(t) {
      const s = t.shape;
      const attention = /hook_(pattern|attn_scores)$/.test(h.name);
      const inner = s.slice(2).reduce((a, b) => a * b, 1);
      const pick = (list, i, n) => !list || list.some((x) => (x < 0 ? x + n : x) === i);
      for (let a = 0; a < s[1]; a++) {
        for (let b = 0; b < (s.length > 2 ? s[2] : 1); b++) {
          const [pos, head] = attention ? [b, a] : [a, b];
          const headOk = s.length < 4 || pick(h.heads, head, attention ? s[1] : s[2]);
          if (!headOk || !pick(h.positions, pos, attention ? s[2] : s[1])) continue;
          const rest = s.length > 2 ? inner / s[2] : inner;
          const at = (a * (s.length > 2 ? s[2] : 1) + b) * rest;
          for (let i = 0; i < rest; i++) t.data[at + i] *= h.factor;
        }
      }
    },
  };
}

test("single-threaded wasm build: gradients at every hook equal the autograd reference", async () => {
  const module = await loadHooklabModule("st");
  const manifest = JSON.parse(readFileSync(join(root, "tests/fixtures/gradients/manifest.json"), "utf8"));
  let worst = 0;
  let worstAt = "";
  for (const c of manifest.cases) {
    const model = load(module, c.model, c.processing);
    const m = c.metric;
    const gradMetric = { metric: m.kind, pairs: m.pairs };
    if (m.position !== null && m.position !== undefined) gradMetric.position = m.position;
    if (m.weights_file) gradMetric.linearWeights = readNpy(join(root, m.weights_file)).values;
    const out = model.run(c.tokens, {
      useAttnResult: c.use_attn_result, gradMetric,
      hooks: c.fwd_hooks.map(wasmHook), bwdHooks: c.bwd_hooks.map(wasmHook),
    });
    assert.ok(!out.error, `${c.id}: ${out.error}`);
    assert.ok(Math.abs(out.metric - c.metric_value) <= 1e-5 * Math.max(1, Math.abs(c.metric_value)), `${c.id}: metric ${out.metric}`);
    assert.deepEqual(out.grads.entries.map((e) => e.name), Object.keys(c.grad_max_abs).map((n) => `${n}_grad`));
    for (const entry of out.grads.entries) {
      const ref = readNpy(join(root, c.dir, `${entry.name}.npy`));
      const cmp = compareArrays(out.grads.arena.subarray(entry.offset, entry.offset + ref.values.length), ref.values, 1e-4);
      assert.ok(cmp.ok, `${c.id} ${entry.name}: max|diff| ${cmp.maxDiff} > ${cmp.tol} ${cmp.detail ?? ""}`);
      if (cmp.maxDiff / cmp.tol > worst) worstAt = `${c.id} ${entry.name}`;
      worst = Math.max(worst, cmp.maxDiff / cmp.tol);
    }
    model.delete();
  }
  console.log(`  worst max|diff| / tolerance: ${worst.toFixed(3)} (${worstAt})`);
});

test("attribution sessions in the wasm module equal the reference's AtP and AtP*", async () => {
  const module = await loadHooklabModule("st");
  const c = JSON.parse(readFileSync(join(root, "tests/fixtures/attribution/tiny-b-ioi-noising.json"), "utf8"));
  const model = load(module, c.model);
  const session = model.startAttribution({ sweep: "resid_pre", cleanTokens: c.clean_tokens, corruptedTokens: c.corrupted_tokens,
    pairs: c.metric.pairs, position: c.metric.pos, direction: c.direction });
  assert.ok(session, module.lastError().error);
  const receiving = c.baseline[c.receiving_run].logit_diff;
  for (const { name, tlFunction } of module.patchingTable().sweeps) {
    for (const [method, key] of [["atp", "atp"], ["atp-star", "atp_star"]]) {
      const expected = (c[key].logit_diff[tlFunction] ?? c.atp.logit_diff[tlFunction]).values;
      const result = session.sweep(name, method, false);
      assert.ok(!result.error, result.error);
      const estimate = Float64Array.from(result.values, (v) => v - receiving);
      const cmp = compareArrays(estimate, Float64Array.from(expected), 1e-4);
      assert.ok(cmp.ok, `${name} ${method}: ${cmp.maxDiff} > ${cmp.tol}`);
    }
  }
  assert.match(session.sweep("resid", "atp", false).error, /unknown patching activation/);
  assert.match(session.sweep("resid_pre", "exact", false).error, /patch\(\)/);
  session.delete();
  assert.equal(model.startAttribution({ sweep: "resid_pre", cleanTokens: c.clean_tokens, corruptedTokens: c.corrupted_tokens,
    pairs: c.metric.pairs, direction: "sideways" }), null);
  assert.match(module.lastError().error, /unknown patching direction 'sideways'/);
  const agreement = module.compareSweeps([1, 2, 3, 4], [2, 4, 6, 8]);
  assert.ok(Math.abs(agreement.pearson - 1) < 1e-12 && agreement.topKOverlap === 1);
  model.delete();
});

// --- generation: the wasm Generator against the float64 PyTorch reference (tests/fixtures/generation) ---

const generation = JSON.parse(readFileSync(join(root, "tests/fixtures/generation/manifest.json"), "utf8"));
// As tests/native/generation_test.cpp: float32 logits move a probability by at most ~1e-6 here.
const GEN_PROB_TOLERANCE = 1e-5;

/** A fixture case's options in the binding's (TypeScript API's) names. */
function generateOptionsOf(c) {
  const s = c.sampling;
  const options = { maxNewTokens: c.max_new_tokens, temperature: s.temperature, topK: s.top_k, topP: s.top_p, freqPenalty: s.freq_penalty, seed: s.seed };
  if (c.steering) {
    const st = c.steering;
    options.steering = [{ hook: st.hook, layer: st.layer, coefficient: st.coefficient, from: st.from, to: st.to, positions: st.positions,
      by: st.by ?? "activations" }];
  }
  return options;
}

/** Steps a generator to the end, one token per step() as the worker does. */
function drive(generator) {
  const steps = [];
  for (;;) {
    const r = generator.step();
    assert.ok(!r.error, r.error);
    if (r.step) steps.push(r.step);
    if (r.done) return steps;
  }
}

test("single-threaded wasm Generator: every fixture case's tokens exactly, probabilities within 1e-5", async () => {
  const module = await loadHooklabModule("st");
  const models = new Map();
  let worst = 0;
  assert.ok(generation.cases.length >= 7);
  for (const c of generation.cases) {
    const key = `${c.model}|${c.processing}`;
    if (!models.has(key)) models.set(key, load(module, c.model, c.processing));
    const model = models.get(key);
    assert.deepEqual(Array.from(model.toTokens(c.prompt, true)), c.prompt_tokens, `${c.id}: prompt tokens`);
    const generator = model.startGenerate(c.prompt_tokens, generateOptionsOf(c));
    assert.ok(generator, `${c.id}: ${module.lastError().error}`);
    const steps = drive(generator);
    assert.deepEqual(steps.map((s) => s.token), c.tokens, `${c.id}: tokens`);
    assert.deepEqual(Array.from(generator.tokens()), [...c.prompt_tokens, ...c.tokens]);
    assert.equal(generator.done(), true);
    assert.deepEqual(generator.step(), { done: true }, "a finished generator stays finished");
    generator.delete();
    for (const [k, ref] of c.steps.entries()) {
      const mine = steps[k];
      assert.equal(mine.str, model.tokenText(ref.token));
      const diffs = [mine.prob - ref.prob, mine.sampleProb - ref.sample_prob];
      assert.deepEqual(mine.top.map((t) => t.token), ref.top.map((t) => t[0]), `${c.id} step ${k}: top-5`);
      for (const [j, t] of mine.top.entries()) diffs.push(t.prob - ref.top[j][1], t.sampleProb - ref.top[j][2]);
      for (const d of diffs) {
        worst = Math.max(worst, Math.abs(d));
        assert.ok(Math.abs(d) <= GEN_PROB_TOLERANCE, `${c.id} step ${k}: |prob - reference| ${Math.abs(d)}`);
      }
    }
    if (c.unsteered_tokens) {
      const plain = model.startGenerate(c.prompt_tokens, { ...generateOptionsOf(c), steering: [] });
      assert.deepEqual(drive(plain).map((s) => s.token), c.unsteered_tokens, `${c.id}: unsteered tokens`);
      plain.delete();
    }
  }
  for (const m of models.values()) m.delete();
  console.log(`  worst |prob - reference|: ${worst.toExponential(2)} (tolerance ${GEN_PROB_TOLERANCE})`);
});

/** `hooklab generate` (the native CLI, build/native) for a fixture case: its JSON. */
function cliGenerate(c) {
  const s = c.sampling;
  const args = ["generate", "--model", join(root, c.model), "--prompt", c.prompt, "--max-new-tokens", String(c.max_new_tokens),
    "--temperature", String(s.temperature), "--top-k", String(s.top_k), "--top-p", String(s.top_p), "--freq-penalty", String(s.freq_penalty),
    "--seed", String(s.seed)];
  if (c.processing === "none") args.push("--no-processing");
  if (c.steering) {
    const st = c.steering;
    args.push("--steer", `${st.hook}:${st.layer}:${st.coefficient}`, "--steer-from", st.from, "--steer-to", st.to, "--steer-positions", st.positions,
      "--steer-by", st.by ?? "activations");
  }
  const cli = join(process.env.HOOKLAB_NATIVE_BUILD ?? join(root, "build/native"), "hooklab");
  const r = spawnSync(cli, args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `hooklab ${args.join(" ")} failed (build it: npm run build:native): ${r.stderr ?? r.error}`);
  return JSON.parse(r.stdout);
}

test("single-threaded wasm Generator equals the CLI's generate on every fixture case", async () => {
  const module = await loadHooklabModule("st");
  let worst = 0;
  for (const c of generation.cases) {
    const model = load(module, c.model, c.processing);
    const generator = model.startGenerate(c.prompt_tokens, generateOptionsOf(c));
    const steps = drive(generator);
    generator.delete();
    model.delete();
    const cli = cliGenerate(c);
    assert.deepEqual(cli.prompt_tokens, c.prompt_tokens, `${c.id}: CLI prompt`);
    assert.deepEqual(steps.map((x) => x.token), cli.tokens, `${c.id}: tokens`);
    for (const [k, ref] of cli.steps.entries()) {
      assert.deepEqual(steps[k].top.map((t) => t.token), ref.top.map((t) => t.token), `${c.id} step ${k}: top-5`);
      for (const d of [steps[k].prob - ref.prob, steps[k].sampleProb - ref.sample_prob]) {
        worst = Math.max(worst, Math.abs(d));
        assert.ok(Math.abs(d) <= GEN_PROB_TOLERANCE, `${c.id} step ${k}: |wasm - CLI| ${Math.abs(d)}`);
      }
    }
  }
  console.log(`  worst |prob wasm - prob CLI|: ${worst.toExponential(2)}`);
});

test("wasm Generator: bad options are clear errors and the model stays usable", async () => {
  const module = await loadHooklabModule("st");
  const model = load(module, "models/testdata/tiny-a");
  const prompt = model.toTokens("The cat sat", true);
  const nCtx = model.config().n_ctx;
  const refused = [
    [{ temperature: -1 }, /temperature must be a number in \[0, 1e\+06\], got -1/],
    [{ topP: 0 }, /topP must be in \(0, 1\]/],
    [{ topP: 1.5 }, /topP must be a number in \[0, 1\], got 1.5/],
    [{ topK: 2.5 }, /topK must be an integer/],
    [{ maxNewTokens: nCtx }, new RegExp(`maxNewTokens \\(n_ctx ${nCtx} - the prompt's ${prompt.length} tokens\\) must be an integer in \\[0, ${nCtx - prompt.length}\\]`)],
    [{ temperature: "hot" }, /temperature must be a number/],
    [{ seed: -1 }, /seed must be an integer in \[0, 2.147\d*e\+09\]/],
    [{ freqPenalty: NaN }, /freqPenalty must be a number in/],
    [{ stopAtEos: "yes" }, /stopAtEos must be true or false/],
    [{ steering: [{ hook: "resid_pre", layer: 9, coefficient: 1, from: "a", to: "b" }] }, /steering layer must be an integer in \[0, 1\]/],
    [{ steering: [{ hook: "not_a_hook", layer: 0, coefficient: 1, from: "a", to: "b" }] }, /not_a_hook/],
    [{ steering: [{ hook: "pattern", layer: 0, coefficient: 1, from: "a", to: "b" }] }, /cannot steer blocks\.0\.attn\.hook_pattern/],
    [{ steering: [{ hook: "resid_pre", layer: 0, coefficient: 1, to: "b" }] }, /steering from .* must be a string/],
    [{ steering: [{ hook: "resid_pre", layer: 0, coefficient: 1, to: " Paris", by: "logits" }] }, /steering by must be "activations" or "unembed"/],
    [{ steering: [{ hook: "z", layer: 0, coefficient: 1, to: " Paris", by: "unembed" }] }, /d_model-wide hook/],
    [{ steering: [{ hook: "resid_pre", layer: 0, coefficient: 1, to: " Paris", from: " Paris", by: "unembed" }] }, /unembedding direction is zero/],
    [{ steering: [{ hook: "resid_pre", layer: 0, coefficient: 1, vector: [1, 2, 3] }] }, /steering vector/],
    [{ ablateHeads: [{ layer: 0, head: 99 }] }, /ablated head's index must be an integer in \[0, 3\]/],
    [{ ablateHeads: [{ layer: 0, head: 1, kind: "half" }] }, /kind must be "zero" or "mean"/],
  ];
  for (const [options, message] of refused) {
    assert.equal(model.startGenerate(prompt, options), null, JSON.stringify(options));
    assert.match(module.lastError().error, message, JSON.stringify(options));
  }
  // Every option at once is accepted; the model still runs and generates after all those errors.
  const g = model.startGenerate(prompt, { maxNewTokens: 3, temperature: 0.9, topK: 20, topP: 0.95, freqPenalty: 0.1, seed: 4, stopAtEos: true,
    ablateHeads: [{ layer: 1, head: 2, kind: "mean" }], steering: [{ hook: "resid_pre", layer: 1, coefficient: 2, from: " Hate", to: " Love", positions: "all" }],
    hooks: [{ name: "blocks.0.hook_resid_post", kind: "read", fn: () => undefined }] });
  assert.ok(g, module.lastError().error);
  assert.equal(drive(g).length, 3);
  g.delete();
  assert.ok(!model.run(prompt, {}).error);
  model.delete();
});
