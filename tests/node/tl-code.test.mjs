// "Show as TransformerLens code" (web/src/analysis/tl-code.ts): every prompt string becomes a
// Python literal that evaluates back to the same string and cannot end early; the code of every
// view, sweep, method and metric compiles (python3 -m py_compile); and every TransformerLens name
// it calls on model / cache / utils / patching is one that /work/shared/reference/transformerlens.md
// (or the project's copy) lists. The TypeScript under test is bundled as the lab bundles it.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importTypeScript } from "./import-typescript.mjs";
import fc from "fast-check";
import { committedNames, namesFromReference } from "./tl-reference-names.mjs";

const root = new URL("../..", import.meta.url).pathname;
const out = join(root, "build/tl-code-test");
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
let T;

before(async () => {
  T = await importTypeScript("tests/node/tl-code-entry.ts", "tl-code");
});

/** Runs a Python script with a JSON input file; returns its JSON output. */
function python(script, input) {
  const dir = join(out, "py");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "input.json"), JSON.stringify(input));
  writeFileSync(join(dir, "script.py"), script);
  return JSON.parse(execFileSync(PYTHON, [join(dir, "script.py"), join(dir, "input.json")], { encoding: "utf8", maxBuffer: 1 << 28 }));
}

// Each code's top-level statements, and the value of its `prompt = "..."` assignment.
const READ_PROMPTS = `
import ast, json, sys
out = []
for code in json.load(open(sys.argv[1])):
    tree = ast.parse(code)
    values = [node.value.value for node in tree.body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "prompt"]
    out.append({"statements": len(tree.body), "prompts": values})
print(json.dumps(out))
`;

test("pyString: quotes, backslashes, line breaks, controls and unicode read back exactly", () => {
  const cases = ['"', "\\", '\\"', "a\nb", "\r\n", "\t", "\0", "\x7f", "\u0085", "\u2028\u2029", "é", "日本", "😀", "\ud800", "\udfff",
    "\ufeff", "\u200b", '"""', "'''", "\\N{DASH}", "{x}", "${x}", "</script><b>", "\\x41"];
  const codes = cases.map((prompt) => T.tlCode({ view: "tokens", model: "hooklab-demo", processing: "default", prompt, prependBos: true }));
  const read = python(READ_PROMPTS, codes);
  read.forEach((r, i) => assert.deepEqual(r.prompts, [cases[i]], JSON.stringify(cases[i])));
  assert.equal(T.pyString("a\nb"), '"a\\nb"');
  assert.equal(T.pyString("é"), '"é"');  // readable where it is safe
});

test("property: any prompt becomes a literal that evaluates back to itself (no break-out)", () => {
  const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 30 }).map((a) => String.fromCharCode(...a));
  const anyString = fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), codeUnits,
    fc.array(fc.constantFrom('"', "\\", "\n", "'", "\r", "#", "\u2028", "x"), { maxLength: 20 }).map((a) => a.join("")));
  const prompts = fc.sample(anyString, { numRuns: 600, seed: 13 });
  const spec = (prompt) => ({ view: "attention", model: "openai-community/gpt2", processing: "default", prompt, prependBos: true, layer: 1, head: 2 });
  const read = python(READ_PROMPTS, prompts.map((p) => T.tlCode(spec(p))));
  const expected = read[0].statements;
  read.forEach((r, i) => {
    assert.deepEqual(r.prompts, [prompts[i]], JSON.stringify(prompts[i]));
    assert.equal(r.statements, expected, "the prompt added or removed a statement");
  });
});

/** One spec per view, sweep, method, metric and option the lab offers. */
function everySpec() {
  const e = T.DEFAULT_EXPERIMENT;
  const specs = [];
  for (const model of ["hooklab-demo", "openai-community/gpt2", "local"]) {
    for (const processing of ["default", "none"]) {
      for (const view of ["tokens", "predictions", "norms", "attention", "lens", "dla", "detectors"]) {
        specs.push(T.specFromExperiment({ ...e, model, processing, position: view === "lens" ? 3 : null, head: view === "attention" ? 1 : null }, view));
      }
    }
    // f16 weights: the rounding written out (official models) or named (the others).
    specs.push(T.specFromExperiment({ ...e, model, weights: "f16" }, "predictions"));
  }
  const differentiable = new Set(T.METRICS.filter((m) => m.differentiable).map((m) => m.name));
  for (const { name: sweep } of T.PATCH_SWEEPS) {
    for (const method of T.PATCH_METHODS) {
      for (const metric of T.LAB_METRICS) {
        if (method !== "exact" && !differentiable.has(metric)) continue;
        for (const normalize of [true, false]) specs.push(T.specFromExperiment({ ...e, method, metric, normalize }, "patching", { sweep }));
      }
      specs.push(T.specFromExperiment({ ...e, method, dataset: '{"clean": "a b", "corrupted": "a c"}\n' }, "dataset", { sweep }));
    }
  }
  for (const steerHook of T.STEER_HOOKS) specs.push(T.specFromExperiment({ ...e, steerHook }, "generate"));
  specs.push({ ...T.specFromExperiment({ ...e, temperature: 0, genTopK: 5, topP: 0.9 }, "generate"), steering: undefined });
  // The steered column's other interventions: a direction instead of two prompts, and ablated heads.
  for (const steerFrom of ["", " London"]) {
    specs.push(T.specFromExperiment({ ...e, steerBy: "unembed", steerTo: " Paris", steerFrom, ablateHeads: ["1.3", "0.2"] }, "generate"));
  }
  specs.push(T.specFromExperiment({ ...e, ablateHeads: ["1.3"], ablation: "mean" }, "generate"));
  specs.push({ ...T.specFromExperiment({ ...e, ablateHeads: ["0.1"] }, "generate"), steering: undefined });
  // Token-id input: every box that holds ids becomes a tensor (an empty or unreadable box keeps to_tokens).
  const ids = { ...e, tokenInput: "ids", prompt: "12 7 3 9", clean: "5 6 7", corrupted: "5 8 7", answer: "7", wrong: "9", genPrompt: "1 2 3" };
  for (const view of ["tokens", "predictions", "norms", "attention", "lens", "dla"]) {
    for (const prependBos of [true, false]) specs.push(T.specFromExperiment({ ...ids, prependBos }, view));
  }
  specs.push(T.specFromExperiment({ ...ids, prompt: "" }, "tokens"), T.specFromExperiment({ ...ids, answer: "not ids" }, "patching"));
  for (const method of T.PATCH_METHODS) specs.push(T.specFromExperiment({ ...ids, method }, "patching"));
  specs.push(T.specFromExperiment(ids, "generate"));
  for (const pathDirection of ["noising", "denoising"]) {
    for (const pathReceivers of [[], ["2.0:q", "1.3:v", "2.1:k"]]) specs.push(T.specFromExperiment({ ...e, pathDirection, pathReceivers }, "path"));
  }
  specs.push(T.specFromExperiment({ ...ids, pathReceivers: ["1.0:q"] }, "path"));
  return specs;
}

test("the code of every view, sweep, method and metric compiles", () => {
  const specs = everySpec();
  const views = new Set(specs.map((s) => s.view));
  assert.deepEqual([...views].sort(), [...T.TL_VIEWS].sort());
  const dir = join(out, "snippets");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = specs.map((spec, i) => {
    const file = join(dir, `snippet_${i}.py`);
    writeFileSync(file, T.tlCode(spec));
    return file;
  });
  execFileSync(PYTHON, ["-m", "py_compile", ...files], { encoding: "utf8" });
  // Each sweep's exact code calls its transformer_lens.patching function (from the core's table).
  for (const { name, tlFunction } of T.PATCH_SWEEPS) {
    const code = T.tlCode(T.specFromExperiment({ ...T.DEFAULT_EXPERIMENT, method: "exact" }, "patching", { sweep: name }));
    assert.ok(code.includes(`patching.${tlFunction}(model,`), name);
  }
});

// Attribute names reached from model / *cache / utils / patching (e.g. model.cfg.n_layers ->
// cfg, n_layers), with the line they are on.
const API_NAMES = `
import ast, json, sys
ROOTS = {"model", "utils", "patching"}
names = {}
for code in json.load(open(sys.argv[1])):
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if isinstance(base, ast.Name) and (base.id in ROOTS or base.id.endswith("cache")):
            for name in chain:
                names.setdefault(name, base.id)
print(json.dumps(names))
`;

test("the committed TransformerLens names equal the spec's, where the spec is beside the repository", () => {
  const fromSpec = namesFromReference();
  const committed = [...committedNames()].sort();
  assert.ok(committed.length > 500, "the committed list is the whole spec's");
  if (fromSpec) assert.deepEqual(committed, fromSpec, "regenerate: node tests/node/tl-reference-names.mjs --write");
});

test("every TransformerLens name the code uses is listed in the TransformerLens reference", () => {
  const allowed = committedNames();
  const used = python(API_NAMES, everySpec().map((s) => T.tlCode(s)));
  assert.ok(Object.keys(used).length > 20, "the AST walk found the API calls");
  const missing = Object.entries(used).filter(([name]) => !allowed.has(name)).map(([name, root]) => `${root}…${name}`);
  assert.deepEqual(missing, []);
  // The check can fail: a name TransformerLens does not have is caught.
  const bogus = python(API_NAMES, ["model.run_with_cach(tokens)\n"]);
  assert.ok(!allowed.has(Object.keys(bogus)[0]));
});

test("f16 weights: the code rounds the same matrices to f16, or says that the lab did", () => {
  const official = T.tlCode(T.specFromExperiment({ ...T.DEFAULT_EXPERIMENT, model: "openai-community/gpt2", weights: "f16" }, "predictions"));
  for (const w of ["W_Q", "W_K", "W_V", "W_O", "W_in", "W_out", "W_U", "W_E"]) assert.ok(official.includes(w), w);
  assert.ok(official.includes("W.to(torch.float16).to(torch.float32)"));
  const f32 = T.tlCode(T.specFromExperiment({ ...T.DEFAULT_EXPERIMENT, model: "openai-community/gpt2" }, "predictions"));
  assert.ok(!f32.includes("float16"));
  const demo = T.tlCode(T.specFromExperiment({ ...T.DEFAULT_EXPERIMENT, weights: "f16" }, "predictions"));
  assert.match(demo, /held the weight matrices in f16/);
});

test("token-id input: the ids are written as tensors, BOS first when the lab prepends it, answers as the ids themselves", () => {
  const e = { ...T.DEFAULT_EXPERIMENT, tokenInput: "ids", prompt: "12, 7 3 9", answer: "7", wrong: "9", clean: "5 6 7", corrupted: "5 8 7" };
  assert.match(T.tlCode(T.specFromExperiment(e, "tokens")), /tokens = torch\.cat\(\[model\.to_tokens\(""\), torch\.tensor\(\[\[12, 7, 3, 9\]\], dtype=torch\.long\)\], dim=1\)/);
  assert.match(T.tlCode(T.specFromExperiment({ ...e, prependBos: false }, "tokens")), /^tokens = torch\.tensor\(\[\[12, 7, 3, 9\]\], dtype=torch\.long\)$/m);
  const dla = T.tlCode(T.specFromExperiment(e, "dla", { pair: { answer: "7", wrong: "9" } }));
  assert.match(dla, /^answer_token = 7$/m);
  assert.match(dla, /^wrong_token = 9$/m);
  const patching = T.tlCode(T.specFromExperiment(e, "patching"));
  assert.match(patching, /^clean_tokens = torch\.cat\(\[model\.to_tokens\(""\), torch\.tensor\(\[\[5, 6, 7\]\]/m);
  // Text mode is unchanged by the same boxes.
  assert.match(T.tlCode(T.specFromExperiment({ ...e, tokenInput: "text" }, "tokens")), /^prompt = "12, 7 3 9"$/m);
});

test("inputs outside the closed sets or not finite are refused, not written into the code", () => {
  const e = T.DEFAULT_EXPERIMENT;
  assert.throws(() => T.tlCode({ view: "attention", model: "hooklab-demo", processing: "default", prompt: "x", prependBos: true, layer: NaN, head: null }));
  assert.throws(() => T.tlCode(T.specFromExperiment(e, "patching", { sweep: "resid_pre\nimport os" })), /unknown patching sweep/);
  assert.throws(() => T.tlCode(T.specFromExperiment({ ...e, method: "x\nimport os" }, "patching")), /unknown patching method/);
  assert.throws(() => T.tlCode(T.specFromExperiment({ ...e, metric: "loss" }, "patching")), /metric 'loss'/);
});

test("a model name from a link is a literal too", () => {
  const benign = T.tlCode({ view: "tokens", model: "someone/model", processing: "default", prompt: "x", prependBos: true });
  const hostile = T.tlCode({ view: "tokens", model: 'a/b")\nimport os\n#', processing: "default", prompt: "x", prependBos: true });
  const read = python(READ_PROMPTS, [benign, hostile]);
  assert.equal(read[1].statements, read[0].statements);
});
