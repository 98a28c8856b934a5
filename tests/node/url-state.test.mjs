// Property tests of the shared-link decoder (web/src/state): any string decodes to a valid
// experiment (every field within what the lab itself writes) or notices, never an exception;
// decode(encode(x)) == x for any experiment the lab can hold. The TypeScript under test is the
// lab's own, bundled as it is (rolldown, as Vite does) into build/state-test before the tests.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importTypeScript } from "./import-typescript.mjs";
import fc from "fast-check";

let S;  // url-state.ts and experiment.ts exports

before(async () => {
  S = await importTypeScript("tests/node/state-entry.ts", "state");
});

/** Every field within the bounds the lab writes (the same limits the decoder checks). */
function assertValid(e) {
  const inRange = (v, lo, hi) => Number.isInteger(v) && v >= lo && v <= hi;
  assert.deepEqual(Object.keys(e).sort(), Object.keys(S.DEFAULT_EXPERIMENT).sort());
  for (const k of ["prompt", "clean", "corrupted"]) assert.ok(typeof e[k] === "string" && e[k].length <= S.MAX_TEXT, k);
  for (const k of ["answer", "wrong", "insideAnswer", "insideWrong"]) assert.ok(typeof e[k] === "string" && e[k].length <= S.MAX_ANSWER, k);
  assert.ok(typeof e.dataset === "string" && e.dataset.length <= S.DATASET_SHARE_LIMIT);
  assert.ok(e.position === null || inRange(e.position, 0, S.MAX_POSITION));
  assert.ok(inRange(e.layer, 0, S.MAX_LAYERS - 1));
  assert.ok(e.head === null || inRange(e.head, 0, S.MAX_HEADS - 1));
  assert.ok(inRange(e.topK, 1, S.MAX_TOP_K));
  assert.ok(typeof e.prependBos === "boolean" && typeof e.normalize === "boolean");
  assert.ok(S.METRICS.includes(e.metric) && S.METHODS.includes(e.method) && S.VIEWS.includes(e.view));
  assert.ok(["default", "none"].includes(e.processing));
  assert.ok(S.WEIGHT_PRECISIONS.includes(e.weights));
  assert.ok(e.model.length <= S.MAX_MODEL_NAME);
  assert.ok(e.sweeps.length <= S.SWEEP_CHOICES.length && new Set(e.sweeps).size === e.sweeps.length);
  assert.ok(e.sweeps.every((s) => S.SWEEP_CHOICES.includes(s)));
  const within = (v, lo, hi) => typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi;
  assert.ok(typeof e.genPrompt === "string" && e.genPrompt.length <= S.MAX_TEXT);
  for (const k of ["steerFrom", "steerTo"]) assert.ok(typeof e[k] === "string" && e[k].length <= S.MAX_ANSWER, k);
  assert.ok(inRange(e.maxNewTokens, 1, S.MAX_NEW_TOKENS) && inRange(e.genTopK, 0, S.MAX_SAMPLE_TOP_K));
  assert.ok(inRange(e.seed, 0, S.MAX_SEED) && inRange(e.steerLayer, 0, S.MAX_LAYERS - 1));
  assert.ok(within(e.temperature, 0, S.MAX_TEMPERATURE) && within(e.topP, S.MIN_TOP_P, 1));
  assert.ok(within(e.steerCoef, -S.MAX_STEER_COEF, S.MAX_STEER_COEF) && S.STEER_HOOKS.includes(e.steerHook));
  assert.ok(S.STEER_BY.includes(e.steerBy) && S.ABLATIONS.includes(e.ablation));
  assert.ok(Array.isArray(e.ablateHeads) && e.ablateHeads.length <= S.MAX_ABLATED_HEADS && new Set(e.ablateHeads).size === e.ablateHeads.length);
  for (const h of e.ablateHeads) {
    const [l, hd] = h.split(".").map(Number);
    assert.ok(h === `${l}.${hd}` && inRange(l, 0, S.MAX_LAYERS - 1) && inRange(hd, 0, S.MAX_HEADS - 1), h);
  }
}

function checkDecodes(hash, search = "") {
  const d = S.decodeLocation(hash, search);
  assertValid(d.experiment);
  assert.ok(Array.isArray(d.notices) && d.notices.every((n) => typeof n === "string" && n.length < 400));
  assert.ok(d.notices.length <= 30);
}

const RUNS = Number(process.env.HOOKLAB_PROPERTY_RUNS ?? 1000);
const fieldNames = () => [...Object.keys(S.DEFAULT_EXPERIMENT), "v", "z", "embed", "__proto__", "constructor", "toString"];

test("any string decodes to a valid experiment or notices, never an exception", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => checkDecodes(s)), { numRuns: RUNS });
  fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 100 }), (h, q) => checkDecodes(`#${h}`, `?${q}`)), { numRuns: RUNS });
});

test("any fields, with any values, in either link form decode to a valid experiment or notices", () => {
  const value = fc.oneof(fc.string({ unit: "binary", maxLength: 60 }), fc.integer().map(String), fc.double().map(String),
    fc.constantFrom("", "1", "0", "true", "-1", "1e3", "999", "4096", "100000", "null", ...S.SWEEP_CHOICES),
    fc.array(fc.constantFrom(...S.SWEEP_CHOICES), { maxLength: 12 }).map((l) => l.join(",")),
    fc.string({ maxLength: 20 }).map((s) => s.repeat(300)));
  const fields = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...fieldNames()), fc.string({ maxLength: 12 })), value), { maxLength: 12 });
  fc.assert(fc.property(fields, fc.constantFrom("1", "0", "2", "x"), (pairs, v) => {
    checkDecodes(new URLSearchParams([["v", v], ...pairs]).toString());
    checkDecodes(`v=1&z=${S.compress(JSON.stringify(Object.fromEntries(pairs)))}`);
  }), { numRuns: RUNS });
  // JSON values of every type (numbers, lists, objects) in the compressed form.
  const json = fc.dictionary(fc.constantFrom(...fieldNames()), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 });
  fc.assert(fc.property(json, (o) => checkDecodes(`v=1&z=${S.compress(JSON.stringify(o))}`)), { numRuns: RUNS });
});

/** A number input's value: any finite double in range (the lab writes -0 as 0). */
const decimal = (min, max) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0);

/** Experiments the lab can hold, bounded as the lab bounds them. */
function experimentArbitrary() {
  // The lab's bounds count UTF-16 units (as a textarea's maxlength does); "binary" strings count
  // code points, so they are cut to the bound (which may leave a lone surrogate: the lab can hold one).
  const utf16 = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));  // lone surrogates too
  const text = (max) => fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: utf16, maxLength: 40 }),
    fc.string({ unit: "grapheme", maxLength: max }), fc.string({ unit: "binary", minLength: max - 5, maxLength: max })).map((s) => s.slice(0, max));
  const modelName = fc.oneof(fc.constant("hooklab-demo"), fc.stringMatching(/^[\w.-]{1,40}\/[\w.-]{1,40}$/));
  return fc.record({
    model: modelName, processing: fc.constantFrom("default", "none"), weights: fc.constantFrom(...S.WEIGHT_PRECISIONS),
    prompt: text(S.MAX_TEXT), prependBos: fc.boolean(),
    tokenInput: fc.constantFrom("text", "ids"),
    position: fc.option(fc.integer({ min: 0, max: S.MAX_POSITION })), layer: fc.integer({ min: 0, max: S.MAX_LAYERS - 1 }),
    head: fc.option(fc.integer({ min: 0, max: S.MAX_HEADS - 1 })), topK: fc.integer({ min: 1, max: S.MAX_TOP_K }),
    clean: text(S.MAX_TEXT), corrupted: text(S.MAX_TEXT), answer: text(S.MAX_ANSWER), wrong: text(S.MAX_ANSWER),
    metric: fc.constantFrom(...S.METRICS), normalize: fc.boolean(), sweeps: fc.uniqueArray(fc.constantFrom(...S.SWEEP_CHOICES)),
    method: fc.constantFrom(...S.METHODS), dataset: text(S.DATASET_SHARE_LIMIT), insideAnswer: text(S.MAX_ANSWER),
    insideWrong: text(S.MAX_ANSWER), view: fc.constantFrom(...S.VIEWS),
    genPrompt: text(S.MAX_TEXT), maxNewTokens: fc.integer({ min: 1, max: S.MAX_NEW_TOKENS }), temperature: decimal(0, S.MAX_TEMPERATURE),
    genTopK: fc.integer({ min: 0, max: S.MAX_SAMPLE_TOP_K }), topP: decimal(S.MIN_TOP_P, 1), seed: fc.integer({ min: 0, max: S.MAX_SEED }),
    steerHook: fc.constantFrom(...S.STEER_HOOKS), steerLayer: fc.integer({ min: 0, max: S.MAX_LAYERS - 1 }),
    steerCoef: decimal(-S.MAX_STEER_COEF, S.MAX_STEER_COEF), steerFrom: text(S.MAX_ANSWER), steerTo: text(S.MAX_ANSWER),
    steerBy: fc.constantFrom(...S.STEER_BY), ablation: fc.constantFrom(...S.ABLATIONS),
    ablateHeads: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: S.MAX_LAYERS - 1 }), fc.integer({ min: 0, max: S.MAX_HEADS - 1 }))
      .map(([l, h]) => `${l}.${h}`), { maxLength: S.MAX_ABLATED_HEADS }),
    pathReceivers: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: S.MAX_LAYERS - 1 }), fc.integer({ min: 0, max: S.MAX_HEADS - 1 }),
      fc.constantFrom("q", "k", "v")).map(([l, h, i]) => `${l}.${h}:${i}`), { maxLength: S.MAX_PATH_RECEIVERS }),
    pathDirection: fc.constantFrom("noising", "denoising"),
  });
}

test("decode(encode(x)) == x for any experiment the lab can hold, with no notice", () => {
  fc.assert(fc.property(experimentArbitrary(), (e) => {
    const d = S.decodeLocation(`#${S.encodeExperiment(e)}`);
    assert.deepEqual(d.notices, []);
    assert.deepEqual(d.experiment, { ...e });  // fc.record's objects have no prototype
  }), { numRuns: RUNS / 4 });
});

test("out-of-range and oversized fields are refused by name, never clamped", () => {
  const cases = [
    ["layer=999999", "layer 999999 is out of range (0–255)", "layer"],
    [`sweeps=${Array(5000).fill("resid_pre").join(",")}`, "sweeps lists more than the 9 activations", "sweeps"],
    // Compressed, a list the lab never writes is named too; 100,000 sweeps are more than any link holds.
    [`z=${S.compress(JSON.stringify({ sweeps: Array(1000).fill("resid_pre").join(",") }))}`, "sweeps lists more than the 9 activations", "sweeps"],
    [`z=${S.compress(JSON.stringify({ sweeps: Array(100000).fill("resid_pre").join(",") }))}`, "larger than any the lab writes", "sweeps"],
    ["sweeps=resid_pre,resid_pre", "sweeps lists resid_pre twice", "sweeps"],
    [`answer=${"a".repeat(S.MAX_ANSWER + 1)}`, `answer is longer than ${S.MAX_ANSWER} characters`, "answer"],
    ["position=-1", "position -1 is out of range", "position"],
    ["topK=1000", "topK 1000 is out of range (1–100)", "topK"],
    ["temperature=11", "temperature 11 is out of range (0–10)", "temperature"],
    ["topP=0", "topP 0 is out of range (0.01–1)", "topP"],
    ["maxNewTokens=257", "maxNewTokens 257 is out of range (1–256)", "maxNewTokens"],
    ["seed=1.5", "seed \"1.5\" is not a whole number", "seed"],
    ["steerCoef=NaN", "steerCoef \"NaN\" is not a number", "steerCoef"],
    ["steerHook=hook_z", "steerHook \"hook_z\" is not one of", "steerHook"],
    ["steerBy=logits", "steerBy \"logits\" is not one of activations, unembed", "steerBy"],
    ["ablation=half", "ablation \"half\" is not one of zero, mean", "ablation"],
    ["ablateHeads=1.2,x", "ablateHeads lists \"x\", which is not a head (layer.head)", "ablateHeads"],
    ["ablateHeads=256.0", "ablateHeads lists \"256.0\", which is not a head", "ablateHeads"],
    ["ablateHeads=1.2,1.02", "ablateHeads lists 1.2 twice", "ablateHeads"],
    [`ablateHeads=${Array.from({ length: 145 }, (_, i) => `0.${i}`).join(",")}`, "ablateHeads lists more than 144 heads", "ablateHeads"],
    ["pathReceivers=1.2:q,1.2:w", "pathReceivers lists \"1.2:w\", which is not a receiver (layer.head:q, :k or :v)", "pathReceivers"],
    ["pathReceivers=1.2:q,01.2:q", "pathReceivers lists 1.2:q twice", "pathReceivers"],
    [`pathReceivers=${Array.from({ length: 33 }, (_, i) => `0.${i}:v`).join(",")}`, "pathReceivers lists more than 32 receivers", "pathReceivers"],
    ["pathDirection=up", "pathDirection \"up\" is not one of denoising, noising", "pathDirection"],
  ];
  for (const [fields, message, key] of cases) {
    const d = S.decodeLocation(`#v=1&${fields}`);
    assert.ok(d.notices.some((n) => n.includes(message)), `${fields.slice(0, 40)}: ${d.notices}`);
    assert.deepEqual(d.experiment[key], S.DEFAULT_EXPERIMENT[key]);
  }
  const model = S.checkAgainstModel({ ...S.DEFAULT_EXPERIMENT, layer: 999, head: 7 }, { n_layers: 4, n_heads: 4 });
  assert.deepEqual(model.problems, ["layer 999 is out of range for this model (0–3)", "head 7 is out of range for this model (0–3)"]);
  assert.deepEqual(model.fixes, { layer: 0, head: null });
  const receivers = S.checkAgainstModel({ ...S.DEFAULT_EXPERIMENT, pathReceivers: ["3.3:q", "4.0:k", "0.9:v"] }, { n_layers: 4, n_heads: 4 });
  assert.deepEqual(receivers.problems, ["path receivers 4.0:k, 0.9:v out of range for this model (layers 0–3, heads 0–3)"]);
  assert.deepEqual(receivers.fixes, { pathReceivers: ["3.3:q"] });
  const heads = S.checkAgainstModel({ ...S.DEFAULT_EXPERIMENT, ablateHeads: ["3.3", "4.0", "0.9"] }, { n_layers: 4, n_heads: 4 });
  assert.deepEqual(heads.problems, ["ablated heads 4.0, 0.9 out of range for this model (layers 0–3, heads 0–3)"]);
  assert.deepEqual(heads.fixes, { ablateHeads: ["3.3"] });
  assert.deepEqual(S.parseHeadList(" 1.3, 0.2 ,"), { heads: ["1.3", "0.2"] });
  assert.match(S.parseHeadList("1.3 0.2").problem, /"1.3 0.2", which is not a head/);
  assert.equal(S.checkPosition(12, 12), "position 12 is out of range for this prompt (0–11)");
  assert.equal(S.checkPosition(11, 12), undefined);
});

test("the small-difference rule of normalised patching, and the metric named with its answers", () => {
  assert.equal(S.differenceTooSmall(0.007, -0.005), true);  // the case that showed normalised noise up to 1.24
  assert.equal(S.differenceTooSmall(4.276, -2.738), false);  // GPT-2 small's IOI pair
  assert.equal(S.differenceTooSmall(100, 96), true);  // 4 < 5 % of 100
  assert.equal(S.differenceTooSmall(100, 94), false);
  assert.equal(S.differenceTooSmall(1, 1), true);
  assert.equal(S.differenceTooSmall(NaN, 0), true);
  assert.equal(S.describeMetric({ metric: "logit_diff", answer: " Mary", wrong: " John", normalize: true }), 'logit_diff of "␣Mary" − "␣John" (normalised)');
  assert.equal(S.describeMetric({ metric: "prob", answer: " Mary", wrong: " John", normalize: false }), 'prob of "␣Mary"');
});

test("the bounded decompressor equals lz-string's, and stops a decompression bomb", () => {
  const utf16 = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
  const text = fc.oneof(fc.string({ unit: utf16, maxLength: 300 }), fc.string({ maxLength: 300 }),
    fc.tuple(fc.string({ minLength: 1, maxLength: 5 }), fc.nat(2000)).map(([s, n]) => s.repeat(n)));
  fc.assert(fc.property(text, (t) => assert.deepEqual(S.decompressBounded(S.compress(t), Infinity), { text: t })), { numRuns: RUNS });
  // Any input: never a throw, and any text read is lz-string's.
  const uriChars = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$ ");
  fc.assert(fc.property(fc.oneof(fc.string({ unit: uriChars, maxLength: 200 }), fc.string({ maxLength: 50 })), (z) => {
    const ours = S.decompressBounded(z, Infinity);
    let theirs;  // lz-string may throw on garbage, or splice "undefined" into its output
    try {
      theirs = S.decompress(z);
    } catch {
      theirs = undefined;
    }
    assert.ok(typeof ours.text === "string" || ["damaged", "too large"].includes(ours.problem));
    // Whatever we accept, lz-string reads the same (we refuse some garbage it reads, e.g. a first code of 3).
    if ("text" in ours) assert.equal(ours.text, theirs);
  }), { numRuns: RUNS });

  // 10 million characters in a 10 kB link: refused at the limit, quickly, without building them.
  const bomb = S.compress("a".repeat(10_000_000));
  assert.ok(bomb.length < 15_000, String(bomb.length));
  const t0 = performance.now();
  assert.deepEqual(S.decompressBounded(bomb, 200_000), { problem: "too large" });
  assert.ok(performance.now() - t0 < 1000);
  const d = S.decodeLocation(`#v=1&z=${bomb}`);
  assert.ok(d.notices.some((n) => n.includes("larger than any the lab writes")));
});

test("a lesson's part of a link (lesson=, step=) is read beside the experiment, in either link form, without notices", () => {
  const lesson = "lesson=https%3A%2F%2Fexample.org%2Fl.md&step=3";
  assert.deepEqual(S.decodeLocation(`#${lesson}`), { experiment: S.defaultExperiment(), notices: [] });
  const e = { ...S.defaultExperiment(), prompt: "x".repeat(700), layer: 2 };  // long enough to be compressed
  for (const encoded of [S.encodeExperiment({ ...S.defaultExperiment(), layer: 2 }), S.encodeExperiment(e)]) {
    const d = S.decodeLocation(`#${encoded}&${lesson}`);
    assert.deepEqual(d.notices, []);
    assert.equal(d.experiment.layer, 2);
  }
  assert.match(S.decodeLocation("#lesson=x&colour=red").notices[0], /no hooklab version/);
});

test("token-id input: any text gives ids within the vocabulary or one short problem, and formatted ids read back exactly", () => {
  fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.integer({ min: 1, max: 60_000 }), (text, vocab) => {
    const read = S.parseTokenIds(text, vocab);
    if ("problem" in read) {
      assert.ok(typeof read.problem === "string" && read.problem.length < 200, read.problem);
    } else {
      assert.ok(read.ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocab));
    }
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50_256 }), { maxLength: 64 }), (ids) => {
    assert.deepEqual(S.parseTokenIds(S.formatTokenIds(ids), 50_257), { ids });
  }), { numRuns: RUNS });
  assert.deepEqual(S.parseTokenIds(" 12, 7\n3 [9]", 13), { ids: [12, 7, 3, 9] });
  assert.match(S.parseTokenIds("12 7 13", 13).problem, /token id 13 \(item 3\) is out of range for this model \(0–12\)/);
  assert.match(S.parseTokenIds("12 -7", 13).problem, /"-7" \(item 2\) is not a token id/);
  assert.match(S.parseTokenIds("1.5", 13).problem, /not a token id/);
  assert.match(S.parseTokenIds("<img src=x onerror=alert(1)>", 13).problem, /is not a token id/);
  // A link holding the mode restores it; anything else is refused by name.
  assert.equal(S.decodeLocation(`#${S.encodeExperiment({ ...S.defaultExperiment(), tokenInput: "ids", prompt: "1 2 3" })}`).experiment.tokenInput, "ids");
  assert.match(S.decodeLocation("#v=1&tokenInput=words").notices.join(" "), /tokenInput "words" is not one of text, ids/);
});
