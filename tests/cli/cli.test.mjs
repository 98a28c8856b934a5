// The CLI's fixed interface: JSON on stdout, one "error: ..." line on stderr with exit 1
// (bad data) or 2 (bad usage), never a signal; `cache` output equal to the PyTorch reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareNpyDirs } from "../tools/npy.mjs";
import { hooklab, ok } from "../tools/cli.mjs";

const root = new URL("../..", import.meta.url).pathname;
const tinyA = join(root, "models/testdata/tiny-a");

function fails(code, fragment, ...args) {
  const r = hooklab(...args);
  assert.equal(r.status, code, `expected exit ${code} from hooklab ${args.join(" ")}, got ${r.status}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one error line expected, got: ${r.stderr}`);
  assert.match(lines[0], /^error: /);
  if (fragment) assert.ok(lines[0].includes(fragment), `'${fragment}' not in: ${lines[0]}`);
  assert.equal(r.stdout, "", "nothing on stdout after an error");
}

const fixtures = JSON.parse(readFileSync(join(root, "tests/fixtures/manifest.json"), "utf8"));

test("tokenize prints tokens and their strings, BOS first unless --no-bos", () => {
  assert.deepEqual(ok("tokenize", "--text", "Hello world"), {
    tokenizer: "gpt2",
    tokens: [50256, 15496, 995],
    str_tokens: ["<|endoftext|>", "Hello", " world"],
    decoded: "Hello world",
  });
  assert.deepEqual(ok("tokenize", "--no-bos", "--text", "Hello world").tokens, [15496, 995]);
});

test("run prints top-k at the last position and the loss", () => {
  const c = fixtures.cases.find((x) => x.id === "tiny-a-hello-default");
  const out = ok("run", "--model", tinyA, "--prompt", c.prompt, "--top-k", "5");
  assert.deepEqual(out.tokens, c.tokens);
  assert.equal(out.top_k.length, 5);
  for (let i = 1; i < 5; i++) assert.ok(out.top_k[i - 1].logit >= out.top_k[i].logit);
  for (const e of out.top_k) assert.deepEqual(Object.keys(e), ["token", "str", "prob", "logit"]);
  assert.ok(Math.abs(out.loss - c.loss) <= 1e-5 * Math.max(1, Math.abs(c.loss)), `${out.loss} vs ${c.loss}`);
  const none = ok("run", "--model", tinyA, "--no-processing", "--prompt", c.prompt, "--top-k", "1");
  // Processing shifts logits but not probabilities or the loss.
  assert.ok(Math.abs(none.loss - out.loss) < 1e-4);
  assert.ok(Math.abs(none.top_k[0].prob - out.top_k[0].prob) < 1e-5);
});

for (const id of ["tiny-b-mary-none", "tiny-a-unicode-default", "tiny-c-full-ctx-default"]) {
  test(`cache output equals the PyTorch reference (${id})`, () => {
    const c = fixtures.cases.find((x) => x.id === id);
    const out = mkdtempSync(join(tmpdir(), "hooklab-cache-"));
    const args = ["cache", "--model", join(root, c.model), "--prompt", c.prompt, "--out", out];
    if (!c.prepend_bos) args.push("--no-bos");
    if (c.processing === "none") args.push("--no-processing");
    if (c.attn_result) args.push("--attn-result");
    const listed = ok(...args);
    assert.deepEqual(listed.tokens, c.tokens);
    const rows = compareNpyDirs(out, join(root, c.dir));
    assert.equal(rows.length, listed.activations.length + 1, "one file per cached hook plus logits");
    for (const r of rows) assert.ok(r.ok, `${r.file}: ${r.detail ?? `${r.maxDiff} > ${r.tol}`}`);
  });
}

test("cache --weights f16 equals the reference with its matrices rounded to f16; f32 weights do not", () => {
  const f16 = JSON.parse(readFileSync(join(root, "tests/fixtures/f16-weights/manifest.json"), "utf8"));
  const c = f16.cases.find((x) => x.id === "tiny-a-mary-none-f16");
  const cache = (weights) => {
    const out = mkdtempSync(join(tmpdir(), "hooklab-cache-f16-"));
    const listed = ok("cache", "--model", join(root, c.model), "--no-processing", "--weights", weights, "--prompt", c.prompt, "--out", out);
    assert.deepEqual(listed.tokens, c.tokens);
    return compareNpyDirs(out, join(root, c.dir));
  };
  for (const r of cache("f16")) assert.ok(r.ok, `${r.file}: ${r.detail ?? `${r.maxDiff} > ${r.tol}`}`);
  assert.ok(cache("f32").some((r) => !r.ok), "f32 weights must miss the f16 reference");
  fails(2, "--weights must be f32 or f16", "run", "--model", tinyA, "--weights", "f8", "--prompt", "x");
});

test("cache --names filters by regular expression", () => {
  const out = mkdtempSync(join(tmpdir(), "hooklab-cache-"));
  const listed = ok("cache", "--model", tinyA, "--prompt", "Hi", "--names", "hook_pattern$", "--out", out);
  assert.deepEqual(listed.activations.map((a) => a.name), ["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"]);
  assert.ok(existsSync(join(out, "blocks.1.attn.hook_pattern.npy")));
});

test("patch gives TransformerLens shapes and baseline metrics", () => {
  const base = ["patch", "--model", tinyA, "--clean", "When Mary and John went to the store, John gave a drink to",
    "--corrupted", "When Mary and John went to the store, Mary gave a drink to", "--answer", " Mary", "--wrong", " John"];
  const resid = ok(...base, "--act", "resid_pre");
  const P = resid.str_tokens.length;
  assert.deepEqual(resid.shape, [2, P]);
  assert.equal(resid.values.length, 2 * P);
  // Patching the whole clean residual at layer 0's last position... at layer 0 every position
  // but the changed one is identical, so those cells equal the corrupted metric.
  assert.ok(Math.abs(resid.values[0] - resid.corrupted_metric) < 1e-5);
  const heads = ok(...base, "--act", "head_out");
  assert.deepEqual(heads.shape, [2, 4]);
  for (const act of ["resid_mid", "attn_out", "mlp_out"]) assert.deepEqual(ok(...base, "--act", act).shape, [2, P]);
  const norm = ok(...base, "--act", "resid_pre", "--normalize");
  // The prompts differ in one token; every other position of resid_pre at layer 0 is the same
  // in both runs, so patching that one position at layer 0 reproduces the clean run exactly.
  const clean = ok("tokenize", "--text", "When Mary and John went to the store, John gave a drink to").tokens;
  const corrupted = ok("tokenize", "--text", "When Mary and John went to the store, Mary gave a drink to").tokens;
  const d = clean.findIndex((t, i) => t !== corrupted[i]);
  assert.ok(Math.abs(norm.values[d] - 1) < 1e-4, `${norm.values[d]}`);
  assert.ok(Math.abs(norm.values[0]) < 1e-6, "BOS is identical in both runs: no effect");
});

test("bad usage exits 2 with one error line", () => {
  fails(2, "unknown command", "frobnicate");
  fails(2, "--model", "run", "--prompt", "x");
  fails(2, "unknown option --promt", "run", "--model", tinyA, "--promt", "x");
  fails(2, "--top-k", "run", "--model", tinyA, "--prompt", "x", "--top-k", "ten");
  fails(2, "--text needs a value", "tokenize", "--text");
  fails(2, "regular expression", "cache", "--model", tinyA, "--prompt", "x", "--names", "([", "--out", tmpdir());
  fails(2, "unknown patching activation", "patch", "--model", tinyA, "--clean", "a", "--corrupted", "b", "--answer",
    " a", "--wrong", " b", "--act", "everything");
});

test("bad data exits 1 with one error line", () => {
  const dir = mkdtempSync(join(tmpdir(), "hooklab-bad-"));
  fails(1, "not a directory", "run", "--model", join(dir, "nope"), "--prompt", "x");
  mkdirSync(join(dir, "m"));
  copyFileSync(join(tinyA, "config.json"), join(dir, "m/config.json"));
  writeFileSync(join(dir, "m/model.safetensors"), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 125]));
  fails(1, "model.safetensors", "run", "--model", join(dir, "m"), "--prompt", "x");
  fails(1, "n_ctx", "run", "--model", tinyA, "--prompt", "word ".repeat(70));
  fails(1, "not a single token", "patch", "--model", tinyA, "--clean", "a b", "--corrupted", "a c", "--answer",
    " Parisian", "--wrong", " b", "--act", "resid_pre");
  fails(1, "same number of tokens", "patch", "--model", tinyA, "--clean", "a b", "--corrupted", "a b c", "--answer",
    " b", "--wrong", " c", "--act", "resid_pre");
});

test("patch takes every TransformerLens sweep, metric and direction", () => {
  const base = ["patch", "--model", join(root, "models/testdata/tiny-c"), "--clean", "The cat sat", "--corrupted",
    "The dog sat", "--answer", " on", "--wrong", " in"];
  const expected = { head_out_by_pos: [1, 4, 2], head_pattern_by_pos: [1, 2, 4], head_pattern_dest_src: [1, 2, 4, 4],
    block_every: [3, 1, 4], head_all_pos_every: [5, 1, 2], head_by_pos_every: [5, 1, 4, 2], head_v: [1, 2] };
  for (const [act, shape] of Object.entries(expected)) assert.deepEqual(ok(...base, "--act", act).shape, shape, act);
  for (const metric of ["prob", "logprob", "rank"]) {
    const r = ok(...base, "--act", "resid_pre", "--metric", metric);
    assert.equal(r.metric, metric);
    if (metric === "prob") for (const v of r.values) assert.ok(v >= 0 && v <= 1);
    if (metric === "rank") for (const v of r.values) assert.ok(Number.isInteger(v) && v >= 0);
  }
  const plain = ok(...base, "--act", "head_k_by_pos", "--engine", "plain", "--direction", "noising");
  const fast = ok(...base, "--act", "head_k_by_pos", "--direction", "noising");
  assert.equal(fast.direction, "noising");
  plain.values.forEach((v, i) => assert.ok(Math.abs(v - fast.values[i]) <= 1e-5 * Math.max(1, Math.abs(v))));
});

test("lens, dla and heads print the analysis views", () => {
  const prompt = ["--model", tinyA, "--prompt", "When Mary and John went to the store, John gave a drink to"];
  const lens = ok("lens", ...prompt, "--answer", " Mary", "--wrong", " John", "--top-k", "3");
  assert.deepEqual(lens.labels, ["0_pre", "0_mid", "1_pre", "1_mid", "final_post"]);
  assert.equal(lens.top_k.length, 5);
  assert.equal(lens.top_k[0].length, 3);
  assert.equal(lens.resid_post_norm.length, 2);
  const dla = ok("dla", ...prompt, "--answer", " Mary", "--wrong", " John");
  const sum = dla.logit_diff.reduce((a, b) => a + b, 0) + dla.bias_term;
  assert.ok(Math.abs(sum - dla.total_logit_diff) < 1e-4, "components add up to the logit difference");
  // The lens's final entry with b_U is the model's own logit difference at that position.
  assert.ok(Math.abs(lens.logit_diff_with_bias.at(-1) - dla.total_logit_diff) < 1e-4);
  assert.deepEqual(dla.heads.shape, [2, 4]);
  const heads = ok("heads", "--model", tinyA, "--seq-len", "10");
  assert.equal(heads.tokens.length, 21);
  for (const k of ["previous_token", "duplicate_token", "induction", "previous_token_diagonal", "induction_diagonal"]) {
    assert.equal(heads[k].length, 8);
    for (const v of heads[k]) assert.ok(v >= 0 && v <= 1);
  }
  // The diagonal scores are the ones evaluate --repeated averages: on heads' own sequence they agree.
  const repeatedFile = join(mkdtempSync(join(tmpdir(), "hooklab-heads-")), "repeated.json");
  writeFileSync(repeatedFile, JSON.stringify({ n_repeat: 10, sequences: [heads.tokens] }));
  const evaluated = ok("evaluate", "--model", tinyA, "--repeated", repeatedFile).repeated;
  heads.induction_diagonal.forEach((v, i) => assert.ok(Math.abs(v - evaluated.induction_score[i]) < 1e-12));
  heads.previous_token_diagonal.forEach((v, i) => assert.ok(Math.abs(v - evaluated.previous_token_score[i]) < 1e-12));
  fails(2, "--answer and --wrong", "dla", ...prompt);
  fails(1, "does not fit", "heads", "--model", tinyA, "--seq-len", "40");
});

// --- convert: the weights in another dtype ---------------------------------------------------

function safetensorsHeader(path) {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.toString("utf8", 8, 8 + length));
}

test("convert writes an f16 copy that loads and predicts like the f32 model", () => {
  const parent = mkdtempSync(join(tmpdir(), "hooklab-convert-"));
  const out = join(parent, "tiny-a-f16");
  const r = ok("convert", "--model", tinyA, "--out", out, "--dtype", "f16");
  assert.deepEqual(Object.keys(r), ["out", "dtype", "tensors", "bytes_in", "bytes_out"]);
  assert.equal(r.dtype, "f16");
  assert.equal(r.bytes_out, readFileSync(join(out, "model.safetensors")).length);
  assert.ok(r.bytes_out < r.bytes_in * 0.55, "f16 halves the file");
  assert.equal(readFileSync(join(out, "config.json"), "utf8"), readFileSync(join(tinyA, "config.json"), "utf8"));
  assert.ok(existsSync(join(out, "README.md")), "the model card travels with the weights");
  const header = safetensorsHeader(join(out, "model.safetensors"));
  assert.deepEqual(header.__metadata__, { format: "pt", converted_by: "hooklab convert" });
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  assert.equal(names.length, r.tensors);
  assert.ok(names.every((k) => header[k].dtype === "F16"));
  const isMask = (k) => /\.attn\.(bias|masked_bias)$/.test(k);
  assert.ok(Object.keys(safetensorsHeader(join(tinyA, "model.safetensors"))).some(isMask), "tiny-a has mask buffers");
  assert.ok(!names.some(isMask), "mask buffers are dropped");
  assert.deepEqual(readdirSync(parent), ["tiny-a-f16"], "no staging directory is left behind");

  // Logits agree within 8u = 3.9e-3 of the largest (tests/native/half_precision_test.cpp).
  const prompt = "When Mary and John went to the store, John gave";
  const full = ok("run", "--model", tinyA, "--prompt", prompt, "--top-k", "5");
  const half = ok("run", "--model", out, "--prompt", prompt, "--top-k", "5");
  const tol = 3.9e-3 * Math.max(1, Math.abs(full.top_k[0].logit));
  assert.equal(half.top_k[0].token, full.top_k[0].token);
  for (const e of full.top_k) {
    const h = half.top_k.find((x) => x.token === e.token);
    if (h) assert.ok(Math.abs(h.logit - e.logit) <= tol, `${e.token}: ${h.logit} vs ${e.logit}`);
  }
  assert.ok(Math.abs(half.loss - full.loss) < 0.01, `${half.loss} vs ${full.loss}`);
});

test("convert to f32 and back is lossless for an f16 model", () => {
  const tinyB = join(root, "models/testdata/tiny-b");
  const parent = mkdtempSync(join(tmpdir(), "hooklab-convert-"));
  ok("convert", "--model", tinyB, "--out", join(parent, "f32"), "--dtype", "f32");
  ok("convert", "--model", join(parent, "f32"), "--out", join(parent, "f16"), "--dtype", "f16");
  const prompt = "Zürich — 東京 🙂 naïve";
  const original = ok("run", "--model", tinyB, "--no-processing", "--prompt", prompt, "--top-k", "20");
  for (const dir of ["f32", "f16"]) {
    assert.deepEqual(ok("run", "--model", join(parent, dir), "--no-processing", "--prompt", prompt, "--top-k", "20"),
      original, `${dir} copy computes the same logits`);
  }
  // Same bytes per tensor (the layout may differ from the original writer's).
  const read = (dir) => {
    const path = join(dir, "model.safetensors");
    const bytes = readFileSync(path);
    const start = 8 + Number(bytes.readBigUInt64LE(0));
    const header = safetensorsHeader(path);
    return (name) => bytes.subarray(start + header[name].data_offsets[0], start + header[name].data_offsets[1]);
  };
  const a = read(tinyB), b = read(join(parent, "f16"));
  for (const name of Object.keys(safetensorsHeader(join(tinyB, "model.safetensors")))) {
    if (name !== "__metadata__") assert.ok(a(name).equals(b(name)), name);
  }
});

test("convert refuses bad input, bad usage and its own input as output", () => {
  const parent = mkdtempSync(join(tmpdir(), "hooklab-convert-"));
  fails(1, "not a directory", "convert", "--model", join(parent, "nope"), "--out", join(parent, "x"), "--dtype", "f16");
  fails(2, "--dtype must be f16, bf16 or f32", "convert", "--model", tinyA, "--out", join(parent, "x"), "--dtype", "int8");
  fails(2, "--dtype", "convert", "--model", tinyA, "--out", join(parent, "x"));
  fails(2, "never overwrites its input", "convert", "--model", tinyA, "--out", tinyA, "--dtype", "f16");
  fails(2, "never overwrites its input", "convert", "--model", tinyA, "--out", `${tinyA}/../tiny-a/`, "--dtype", "bf16");
  // A malformed model fails the core's checks before anything is written.
  mkdirSync(join(parent, "broken"));
  copyFileSync(join(tinyA, "config.json"), join(parent, "broken/config.json"));
  const weights = readFileSync(join(tinyA, "model.safetensors"));
  writeFileSync(join(parent, "broken/model.safetensors"), weights.subarray(0, weights.length - 100));
  fails(1, "model.safetensors", "convert", "--model", join(parent, "broken"), "--out", join(parent, "x"), "--dtype", "f16");
  // A weight beyond f16's range (65504) is refused by name; bf16 has f32's range and takes it.
  mkdirSync(join(parent, "huge"));
  copyFileSync(join(tinyA, "config.json"), join(parent, "huge/config.json"));
  const huge = Buffer.from(weights);
  const dataStart = 8 + Number(huge.readBigUInt64LE(0));
  huge.writeFloatLE(1e6, dataStart + safetensorsHeader(join(tinyA, "model.safetensors"))["ln_f.bias"].data_offsets[0]);
  writeFileSync(join(parent, "huge/model.safetensors"), huge);
  fails(1, '"ln_f.bias" holds 1000000', "convert", "--model", join(parent, "huge"), "--out", join(parent, "x"), "--dtype", "f16");
  assert.deepEqual(readdirSync(parent).sort(), ["broken", "huge"], "nothing written for failed conversions");
  ok("convert", "--model", join(parent, "huge"), "--out", join(parent, "huge-bf16"), "--dtype", "bf16");
});

const gradientFixtures = JSON.parse(readFileSync(join(root, "tests/fixtures/gradients/manifest.json"), "utf8"));

test("cache --grad writes every <hook>_grad.npy equal to the autograd reference (mean loss)", () => {
  const c = gradientFixtures.cases.find((x) => x.id === "a-loss-default");
  const out = mkdtempSync(join(tmpdir(), "hooklab-grad-"));
  const listed = ok("cache", "--grad", "--model", join(root, c.model), "--prompt", c.prompt, "--out", out);
  assert.deepEqual(listed.tokens, c.tokens);
  assert.equal(listed.metric.kind, "loss");
  assert.ok(Math.abs(listed.metric.value - c.metric_value) < 1e-5 * Math.abs(c.metric_value), `${listed.metric.value}`);
  assert.deepEqual(listed.gradients.map((g) => `${g.name}`), Object.keys(c.grad_max_abs).map((n) => `${n}_grad`));
  // Compare only the gradient files: the reference directory holds gradients alone.
  const gradOnly = mkdtempSync(join(tmpdir(), "hooklab-grad-only-"));
  for (const g of listed.gradients) copyFileSync(join(out, `${g.name}.npy`), join(gradOnly, `${g.name}.npy`));
  const rows = compareNpyDirs(gradOnly, join(root, c.dir), 1e-4);
  assert.equal(rows.length, listed.gradients.length);
  for (const r of rows) assert.ok(r.ok, `${r.file}: ${r.detail ?? `${r.maxDiff} > ${r.tol}`}`);
});

test("attribute: patch's JSON plus the method, --compare adds the exact sweep and their agreement", () => {
  const demo = join(root, "models/hooklab-demo");
  const base = ["--model", demo, "--clean", "When Mary and John went to the store, John gave a drink to",
    "--corrupted", "When Mary and John went to the store, Mary gave a drink to", "--answer", " Mary", "--wrong", " John",
    "--normalize"];
  // attn_out: a sweep where the first-order estimate tracks the exact one on this model (README, "Where AtP is poor")
  const exact = ok("patch", ...base, "--act", "attn_out");
  assert.equal(exact.method, "exact");
  const atp = ok("attribute", ...base, "--act", "attn_out", "--compare");
  assert.equal(atp.method, "atp");
  assert.deepEqual(atp.shape, exact.shape);
  assert.deepEqual(atp.exact_values, exact.values);
  assert.ok(atp.agreement.pearson > 0.5 && atp.agreement.pearson <= 1, JSON.stringify(atp.agreement));
  const star = ok("attribute", ...base, "--act", "head_q_by_pos", "--method", "atp-star", "--compare");
  assert.equal(star.method, "atp-star");
  assert.equal(star.values.length, star.exact_values.length);
  fails(2, "unknown patching method 'atp*'", "attribute", ...base, "--act", "head_q", "--method", "atp*");
  fails(2, "hooklab attribute", "patch", ...base, "--act", "head_q", "--method", "atp");
  fails(2, "unknown metric 'logit-diff'", "attribute", ...base, "--act", "head_q", "--metric", "logit-diff");
  fails(2, "no gradient", "attribute", ...base, "--act", "head_q", "--metric", "rank");
});

test("--dataset gives mean and a bootstrap interval per cell; a bad line is named", () => {
  const dir = mkdtempSync(join(tmpdir(), "hooklab-dataset-"));
  const pairs = [
    { clean: "When Mary and John went to the store, John gave a drink to", corrupted: "When Mary and John went to the store, Mary gave a drink to", answer: " Mary", wrong: " John" },
    { clean: "When Tom and Anna went to the park, Anna gave a ball to", corrupted: "When Tom and Anna went to the park, Tom gave a ball to", answer: " Tom", wrong: " Anna" },
  ];
  writeFileSync(join(dir, "pairs.jsonl"), pairs.map((p) => JSON.stringify(p)).join("\n") + "\n");
  const demo = join(root, "models/hooklab-demo");
  for (const command of ["patch", "attribute"]) {
    const r = ok(command, "--model", demo, "--dataset", join(dir, "pairs.jsonl"), "--act", "resid_pre", "--bootstrap", "200");
    assert.equal(r.pairs, 2);
    assert.equal(r.mean.length, r.shape[0] * r.shape[1]);
    r.mean.forEach((m, i) => assert.ok(r.ci_low[i] <= m + 1e-12 && m <= r.ci_high[i] + 1e-12, `cell ${i}`));
  }
  writeFileSync(join(dir, "bad.jsonl"), JSON.stringify(pairs[0]) + "\n" + JSON.stringify({ clean: "Hi there", corrupted: "Hi" }) + "\n");
  fails(1, "dataset line 2: every prompt must have the same number of tokens", "attribute", "--model", demo,
    "--dataset", join(dir, "bad.jsonl"), "--act", "resid_pre");
  writeFileSync(join(dir, "html.jsonl"), "<script>alert(1)</script>\n");
  fails(1, "dataset line 1: not a JSON object", "patch", "--model", demo, "--dataset", join(dir, "html.jsonl"), "--act", "resid_pre");
});

test("generate: greedy JSON, each step's token, probabilities and top-5", () => {
  const out = ok("generate", "--model", tinyA, "--prompt", "When Mary and John went", "--max-new-tokens", "6",
                 "--temperature", "0");
  assert.deepEqual(Object.keys(out), ["prompt_tokens", "tokens", "str_tokens", "text", "generated_text",
                                      "stopped_at_eos", "sampling", "steps"]);
  assert.equal(out.tokens.length, 6);
  assert.equal(out.steps.length, 6);
  assert.ok(out.text.startsWith("<|endoftext|>When Mary and John went"));
  assert.ok(out.text.endsWith(out.generated_text));
  out.steps.forEach((s, i) => {
    assert.equal(s.token, out.tokens[i]);
    assert.equal(s.top.length, 5);
    assert.equal(s.top[0].token, s.token, "greedy takes the most likely token");
    assert.equal(s.sample_prob, 1);
    for (let j = 1; j < 5; j++) assert.ok(s.top[j - 1].prob >= s.top[j].prob);
  });
  // The first step's predictions are run's predictions on the prompt.
  const run = ok("run", "--model", tinyA, "--prompt", "When Mary and John went", "--top-k", "5");
  run.top_k.forEach((e, j) => {
    assert.equal(out.steps[0].top[j].token, e.token);
    assert.ok(Math.abs(out.steps[0].top[j].prob - e.prob) < 1e-6);
  });
});

test("generate: a seeded sample is the same for every backend and thread count, another seed differs", () => {
  const args = ["generate", "--model", tinyA, "--prompt", "The cat sat", "--max-new-tokens", "12", "--temperature",
                "0.9", "--top-p", "0.95", "--freq-penalty", "0.5", "--seed", "42"];
  const first = ok(...args);
  assert.deepEqual(ok(...args, "--backend", "reference").tokens, first.tokens);
  assert.deepEqual(ok(...args, "--threads", "2").tokens, first.tokens);
  assert.notDeepEqual(ok(...args.slice(0, -1), "43").tokens, first.tokens);
  assert.deepEqual(first.sampling, { temperature: 0.9, top_k: 0, top_p: 0.95, freq_penalty: 0.5, seed: 42 });
});

test("generate: steering (two prompts or a W_U direction) and head ablation change the continuation", () => {
  const base = ["generate", "--model", tinyA, "--prompt", "I think that you are", "--max-new-tokens", "8",
                "--temperature", "0"];
  const plain = ok(...base);
  const steered = ok(...base, "--steer", "resid_pre:1:8", "--steer-from", " Hate", "--steer-to", " Love");
  assert.notDeepEqual(steered.tokens, plain.tokens);
  const zero = ok(...base, "--steer", "resid_pre:1:0", "--steer-from", " Hate", "--steer-to", " Love");
  assert.deepEqual(zero.tokens, plain.tokens, "a coefficient of 0 changes nothing");
  const ablated = ok(...base, "--ablate-head", "0.0,1.3", "--ablation", "mean");
  assert.equal(ablated.tokens.length, 8);
  // Along the DLA direction " Paris" - " London" at every position (the fixture's a-unembed-steered-greedy).
  const unembed = ["--steer-by", "unembed", "--steer-to", " Paris", "--steer-positions", "all"];
  const towards = ok(...base, "--steer", "resid_mid:0:6", ...unembed, "--steer-from", " London");
  assert.notDeepEqual(towards.tokens, plain.tokens);
  assert.deepEqual(ok(...base, "--steer", "resid_mid:0:0", ...unembed).tokens, plain.tokens, "a coefficient of 0 changes nothing");
});

test("generate: bad input is a clear error", () => {
  const base = ["generate", "--model", tinyA, "--prompt", "Hi"];
  fails(2, "--temperature", ...base, "--temperature", "-1");
  fails(2, "--top-p", ...base, "--top-p", "1.5");
  fails(2, "--top-p", ...base, "--top-p", "0");
  fails(2, "--steer-from", ...base, "--steer", "resid_pre:1:4");
  fails(2, "--steer", ...base, "--steer-from", "a", "--steer-to", "b");
  fails(2, "unknown hook name 'nothing'", ...base, "--steer", "nothing:1:4", "--steer-from", "a", "--steer-to", "b");
  fails(2, "steering needs a hook", ...base, "--steer", "pattern:1:4", "--steer-from", "a", "--steer-to", "b");
  fails(2, "ablate head 7.0", ...base, "--ablate-head", "7.0");
  fails(2, "--steer-by must be activations or unembed", ...base, "--steer", "resid_pre:1:4", "--steer-by", "logits", "--steer-to", "b");
  fails(2, "--steer-by unembed needs --steer-to", ...base, "--steer", "resid_pre:1:4", "--steer-by", "unembed");
  fails(2, "need --steer", ...base, "--steer-by", "unembed", "--steer-to", " Paris");
  fails(2, "d_model-wide hook", ...base, "--steer", "z:1:4", "--steer-by", "unembed", "--steer-to", " Paris");
  fails(1, "is not a single token", ...base, "--steer", "resid_pre:1:4", "--steer-by", "unembed", "--steer-to", " Paris France");
  fails(1, "n_ctx", "generate", "--model", join(root, "models/testdata/tiny-c"), "--prompt", "Hi there",
        "--max-new-tokens", "11");
});

test("path-patch: every sender to the logits or to receiver heads, normalised with its baseline; bad receivers are usage errors", () => {
  const base = ["path-patch", "--model", tinyA, "--clean", "When Mary and John went to the store, John gave a drink to",
    "--corrupted", "When Mary and John went to the store, Mary gave a drink to", "--answer", " Mary", "--wrong", " John"];
  const logits = ok(...base);
  assert.deepEqual([logits.method, logits.direction, logits.shape, logits.receivers, logits.cells_computed], ["path", "noising", [2, 4], [], 8]);
  assert.equal(logits.receiving_metric, logits.clean_metric);
  assert.ok(logits.values.some((v) => Math.abs(v - logits.receiving_metric) > 1e-4), "some sender moves the metric");
  const q = ok(...base, "--receivers", "1.2:q, 1.0:v,", "--normalize", "--direction", "denoising");
  assert.deepEqual([q.receivers, q.cells_computed, q.normalized], [["1.2:q", "1.0:v"], 4, true]);
  assert.ok(q.receiving_metric === 0, String(q.receiving_metric));  // normalised: the corrupted (receiving) run is 0
  q.values.slice(4).forEach((v) => assert.ok(v === 0, String(v)));  // layer-1 senders cannot reach layer-1 receivers
  fails(2, "receiver \"1.2:z\": unknown receiver input 'z' (one of: q, k, v)", ...base, "--receivers", "1.2:z");
  fails(2, "receiver 5.0:q is not a head of this model (2 layers x 4 heads)", ...base, "--receivers", "5.0:q");
  fails(1, "same number of tokens", ...base.slice(0, 5), "--corrupted", "x", "--answer", " Mary", "--wrong", " John");
});
