// The CLI's fixed interface: JSON on stdout, one "error: ..." line on stderr with exit 1
// (bad data) or 2 (bad usage), never a signal; `cache` output equal to the PyTorch reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareNpyDirs } from "../tools/npy.mjs";

const root = new URL("../..", import.meta.url).pathname;
const build = process.env.HOOKLAB_NATIVE_BUILD ?? join(root, "build/native");
const cli = join(build, "hooklab");
const tinyA = join(root, "models/testdata/tiny-a");

function hooklab(...args) {
  const r = spawnSync(cli, args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.signal, null, `hooklab ${args.join(" ")} was killed by ${r.signal}`);
  return r;
}

function ok(...args) {
  const r = hooklab(...args);
  assert.equal(r.status, 0, `hooklab ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

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
    tokens: [50256, 15496, 995],
    str_tokens: ["<|endoftext|>", "Hello", " world"],
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
  for (const k of ["previous_token", "duplicate_token", "induction"]) {
    assert.equal(heads[k].length, 8);
    for (const v of heads[k]) assert.ok(v >= 0 && v <= 1);
  }
  fails(2, "--answer and --wrong", "dla", ...prompt);
  fails(1, "does not fit", "heads", "--model", tinyA, "--seq-len", "40");
});
