// Lesson format (web/src/lessons): any string parses to a lesson or a clear error, never an
// exception; hostile files (scripts, event attributes, javascript: links, huge or deeply
// nested input, broken directives) produce no HTML of their own; grading and per-model
// adaptation behave as the README's format reference says. The bundled lessons all parse.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync, readdirSync } from "node:fs";
import { importTypeScript } from "./import-typescript.mjs";
import fc from "fast-check";

const root = new URL("../..", import.meta.url).pathname;
let L;

before(async () => {
  L = await importTypeScript("tests/node/lessons-entry.ts", "lessons");
});

const HEAD = "---\ntitle: T\nmodels: [hooklab-demo, gpt2]\nclean: \"When Mary and John went, John gave it to\"\nanswer: \" Mary\"\nwrong: \" John\"\noverrides:\n  gpt2:\n    clean: The Eiffel Tower is in\n    q1: 3\n---\n";

/** Every rendered piece of text in a lesson (what reaches marked). */
function allMarkdown(lesson) {
  const texts = [lesson.title];
  for (const s of lesson.steps) {
    texts.push(s.title);
    for (const b of s.blocks) texts.push(b.markdown ?? "", b.ask ?? "", b.task ?? "", b.explain ?? "", ...(b.hints ?? []), b.message ?? "", b.source ?? "");
  }
  return texts;
}

function assertNoActiveHtml(html) {
  assert.doesNotMatch(html, /<(script|iframe|object|embed|style|svg|form|input)\b/i);
  assert.doesNotMatch(html, /<[^>]*\son[a-z]+\s*=/i);
  assert.doesNotMatch(html, /(href|src)\s*=\s*"\s*(javascript|data|vbscript):/i);
}

test("a well-formed lesson parses into steps, directives and per-model overrides", () => {
  const r = L.parseLesson(`${HEAD}## One\nSome *text*.\n:::view patching\n:::\n:::question q1\nask: Which layer?\nanswer: top-patch-layer\nhint: look\nhint: again\nexplain: because\n:::\n## Two\n:::yourturn flip\ntask: flip it\nedit: clean\nuntil: logit-diff < 0\n:::\n`);
  assert.equal(r.ok, true, r.error);
  const { lesson } = r;
  assert.deepEqual(lesson.models, ["hooklab-demo", "gpt2"]);
  assert.equal(lesson.steps.length, 2);
  assert.deepEqual(lesson.steps[0].blocks.map((b) => b.kind), ["text", "view", "question"]);
  assert.deepEqual(lesson.steps[0].blocks[2].hints, ["look", "again"]);
  const y = lesson.steps[1].blocks[0];
  assert.deepEqual([y.metric, y.comparator, y.threshold, y.edit], ["logit-diff", "<", 0, "clean"]);
  assert.equal(L.inputsFor(lesson, "gpt2").clean, "The Eiffel Tower is in");
  assert.equal(L.inputsFor(lesson, "gpt2").answer, " Mary");
  assert.equal(L.inputsFor(lesson, "hooklab-demo").clean, "When Mary and John went, John gave it to");
  assert.equal(L.fixedExpectation(lesson, "gpt2", lesson.steps[0].blocks[2]), "3");
  assert.equal(L.fixedExpectation(lesson, "hooklab-demo", lesson.steps[0].blocks[2]), undefined);
  assert.deepEqual(L.worksOn(lesson, "gpt2"), { ok: true, name: "gpt2" });
  assert.deepEqual(L.worksOn(lesson, "openai-community/gpt2"), { ok: true, name: "gpt2" });
  const no = L.worksOn(lesson, "tiny-a");
  assert.equal(no.ok, false);
  assert.match(no.message, /works on hooklab-demo, gpt2; the loaded model is tiny-a/);
});

test("broken directives become error blocks and the rest of the lesson still parses", () => {
  const r = L.parseLesson(`${HEAD}## S\n:::nope\n:::\n:::view nowhere\n:::\n:::question Q!\nanswer: x\n:::\n:::question q2\nanswer: logit-diff\nask: a\ntolerance: -1\n:::\n:::yourturn t\ntask: x\nuntil: logit-diff ~ 3\n:::\n:::view tokens\nlayer: <b>\n:::\nafter\n:::question q3\nask: unclosed\n`);
  assert.equal(r.ok, true, r.error);
  const kinds = r.lesson.steps[0].blocks.map((b) => b.kind);
  assert.deepEqual(kinds, ["error", "error", "error", "error", "error", "error", "text", "error"]);
  const messages = r.lesson.steps[0].blocks.filter((b) => b.kind === "error").map((b) => b.message);
  assert.match(messages[0], /unknown directive ':::nope'/);
  assert.match(messages[1], /names one view/);
  assert.match(messages[5], /whole number/);
  assert.match(messages[6], /not closed/);
});

test("files that are not lessons get a clear error", () => {
  const cases = [
    [42, /text file/], ["", /front matter/], ["---\ntitle: x\n", /not closed/],
    ["---\nmodels: [a]\n---\n## s\n", /'title' is required/], ["---\ntitle: x\n---\n## s\n", /models/],
    ["---\ntitle: x\nmodels: [a]\n---\nno heading\n", /starts with a step heading/],
    ["---\ntitle: x\nmodels: [a]\n---\n", /no steps/], ["---\ntitle: x\nmodels: [a]\ncolour: red\n---\n## s\n", /unknown key 'colour'/],
    ["x".repeat(L.LIMITS.maxChars + 1), /at most 200000/],
    [`---\ntitle: x\nmodels: [a]\n---\n${"## s\n".repeat(L.LIMITS.maxSteps + 1)}`, /more than 40 steps/],
    [`---\ntitle: x\nmodels: [a]\n---\n## s\n${":::view tokens\n:::\n".repeat(L.LIMITS.maxDirectives + 1)}`, /more than 120 directives/],
  ];
  for (const [text, want] of cases) {
    const r = L.parseLesson(text);
    assert.equal(r.ok, false, String(text).slice(0, 40));
    assert.match(r.error, want);
    assert.ok(r.error.length < 300);
  }
});

test("property: any string is a lesson or a short error, never an exception", () => {
  const fragment = fc.constantFrom("---\n", "title: t\n", "models: [hooklab-demo]\n", "## s\n", ":::view tokens\n", ":::question q\n",
    ":::yourturn y\n", ":::\n", "answer: logit-diff\n", "ask: ?\n", "until: logit-diff < 0\n", "overrides:\n", "  gpt2:\n", "    prompt: x\n",
    "<script>alert(1)</script>", "[a](javascript:alert(1))", "<img src=x onerror=alert(1)>", "\"\\u0000\"", "> ", "- ", "\n");
  const text = fc.oneof(fc.string({ maxLength: 400 }), fc.array(fc.oneof(fragment, fc.string({ maxLength: 20 })), { maxLength: 60 }).map((a) => a.join("")));
  fc.assert(fc.property(text, (t) => {
    const r = L.parseLesson(t);
    if (!r.ok) { assert.equal(typeof r.error, "string"); assert.ok(r.error.length > 0 && r.error.length < 400); return; }
    assert.ok(r.lesson.steps.length >= 1 && r.lesson.steps.length <= L.LIMITS.maxSteps);
    for (const md of allMarkdown(r.lesson)) assertNoActiveHtml(L.lessonMarkdownToHtml(md));
  }), { numRuns: 1500 });
});

test("hostile Markdown renders none of its own HTML and no script links", () => {
  const hostile = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))", "[x](JaVaScRiPt:alert(1))", "[x](java\tscript:alert(1))", "[x](<javascript:alert(1)>)",
    "![x](javascript:alert(1))", "![x](data:text/html,<script>alert(1)</script>)", "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<svg onload=alert(1)>", "<iframe src=https://evil>", "<div style=\"x\" onclick=\"y\">z</div>", "[x]: javascript:alert(1)\n\n[x]",
    `${"> ".repeat(500)}deep`, `${"- ".repeat(500)}deep`, `${"[".repeat(2000)}x${"]".repeat(2000)}`, "`<script>` code",
  ];
  for (const md of hostile) assertNoActiveHtml(L.lessonMarkdownToHtml(md));
  assert.match(L.lessonMarkdownToHtml("[ok](https://example.org)"), /href="https:\/\/example.org"/);
  assert.match(L.lessonMarkdownToHtml("<b>x</b>"), /&lt;b&gt;x&lt;\/b&gt;/);
});

test("grading: tokens, layers, heads and numbers within a tolerance, right and wrong", () => {
  assert.equal(L.grade("token", " Paris", "Paris", 0).correct, true);
  assert.equal(L.grade("token", " Paris", "London", 0).correct, false);
  assert.equal(L.grade("layer", "2", "2", 0).correct, true);
  assert.equal(L.grade("layer", "2", "3", 0).correct, false);
  assert.equal(L.grade("layer", "2", "2.5", 1).correct, false);
  for (const form of ["1.3", "L1H3", "l1h3", "1 3", "1,3"]) assert.equal(L.grade("head", "L1H3", form, 0).correct, true, form);
  assert.equal(L.grade("head", "L1H3", "L3H1", 0).correct, false);
  assert.match(L.grade("head", "L1H3", "three", 0).message, /layer.head/);
  assert.equal(L.grade("number", "1.5", "1.55", 0.1).correct, true);
  assert.equal(L.grade("number", "1.5", "1.7", 0.1).correct, false);
  assert.equal(L.grade("number", "1.5", "1.4", 0.1).correct, true);
  assert.equal(L.grade("number", "1.5", "", 0.1).correct, false);
  assert.equal(L.grade("number", "1.5", "NaN", 1e9).correct, false);
});

test("property: a number within the tolerance passes and one outside fails, on both sides", () => {
  fc.assert(fc.property(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: 0.001, max: 10, noNaN: true }), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.boolean(),
    (want, tol, frac, above) => {
      const sign = above ? 1 : -1;
      assert.equal(L.grade("number", String(want), String(want + sign * tol * frac), tol).correct, true);
      assert.equal(L.grade("number", String(want), String(want + sign * tol * 1.5), tol).correct, false);
    }));
});

test("answers read from the model's numbers: argmax, head argmax, correlation, conditions, steps", () => {
  assert.equal(L.argmax([1, 5, 5, 2]), 1);
  assert.equal(L.argmax([NaN, 2, 1]), 1);
  assert.equal(L.argmax([]), -1);
  assert.deepEqual(L.argmaxHead([0, 0, 0, 0, 0, 9, 0, 0], 4), { layer: 1, head: 1 });
  assert.ok(Math.abs(L.pearson([1, 2, 3], [2, 4, 6.5]) - 0.9979487157886733) < 1e-12);  // torch.corrcoef, float64
  assert.ok(Number.isNaN(L.pearson([1, 1], [1, 2])));
  assert.equal(L.conditionHolds(-0.1, "<", 0), true);
  assert.equal(L.conditionHolds(0, "<", 0), false);
  assert.equal(L.conditionHolds(NaN, ">", 0), false);
  assert.equal(L.clampStep("3", 5), 2);
  assert.equal(L.clampStep("99", 5), 4);
  assert.equal(L.clampStep("x", 5), 0);
  assert.equal(L.answerText("head", { layer: 2, head: 0 }), "L2H0");
  assert.equal(L.halfLossDrop([4, 6, 9, 1, 2]), 5 - 1.5);
  assert.ok(Number.isNaN(L.halfLossDrop([3])));
});

test("every bundled lesson parses, has no broken directive, and declares its models", () => {
  const dir = join(root, "models/lessons");
  const files = readdirSync(dir).filter((f) => f.endsWith(".md"));
  assert.ok(files.length >= 4, files.join());
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  assert.deepEqual(index.map((e) => e.file).sort(), files.sort());
  for (const f of files) {
    const r = L.parseLesson(readFileSync(join(dir, f), "utf8"));
    assert.equal(r.ok, true, `${f}: ${r.error}`);
    const broken = r.lesson.steps.flatMap((s) => s.blocks).filter((b) => b.kind === "error");
    assert.deepEqual(broken, [], f);
    assert.ok(r.lesson.steps.some((s) => s.blocks.some((b) => b.kind === "question")), `${f} asks something`);
    assert.equal(index.find((e) => e.file === f).title, r.lesson.title);
  }
  const induction = L.parseLesson(readFileSync(join(dir, "3-induction-heads.md"), "utf8")).lesson;
  assert.deepEqual(induction.models, ["hooklab-induction", "gpt2"]);
  assert.equal(L.worksOn(induction, "hooklab-demo").ok, false);
  assert.match(L.worksOn(induction, "hooklab-demo").message, /works on hooklab-induction, gpt2/);
});

test("training records: the bundled one parses; hostile ones (paths out of the model, too large, out of order) are one clear error", () => {
  const bundled = JSON.parse(readFileSync(join(root, "models/hooklab-induction/training_loss.json"), "utf8"));
  const record = L.parseTrainingRecord(bundled);
  assert.ok(record.checkpoints.length >= 3 && record.curve.length > 100);
  for (const c of record.checkpoints) assert.ok(readdirSync(join(root, "models/hooklab-induction", c.path)).includes("model.safetensors"), c.path);
  const ok = { steps: 100, curve: [{ step: 10, loss: 5 }], checkpoints: [{ step: 50, path: "checkpoints/step-50" }] };
  assert.deepEqual(L.parseTrainingRecord(ok), ok);
  const bad = [
    [null, /JSON object/], [[], /JSON object/], [{ ...ok, steps: 0 }, /steps/], [{ ...ok, curve: [] }, /curve/],
    [{ ...ok, curve: [{ step: 1, loss: "x" }] }, /curve point 0/], [{ ...ok, curve: Array(L.TRAINING_LIMITS.maxPoints + 1).fill({ step: 1, loss: 1 }) }, /at most/],
    ...["../../secret", "/etc/passwd", "https://evil.example/m", "a/../../b", ".hidden", "a//b", "a\\b", ""].map((path) => [{ ...ok, checkpoints: [{ step: 5, path }] }, /relative 'path'/]),
    [{ ...ok, checkpoints: [{ step: 500, path: "c" }] }, /within 'steps'/],
    [{ ...ok, checkpoints: [{ step: 50, path: "a" }, { step: 50, path: "b" }] }, /increasing/],
    [{ ...ok, checkpoints: Array.from({ length: 65 }, (_, i) => ({ step: i, path: "c" })) }, /at most 64/],
  ];
  for (const [json, message] of bad) assert.throws(() => L.parseTrainingRecord(json), (e) => message.test(e.message) && e.message.length < 200, JSON.stringify(json)?.slice(0, 80));
  fc.assert(fc.property(fc.jsonValue(), (json) => {
    try { L.parseTrainingRecord(json); } catch (e) { assert.match(e.message, /^training record: /); }
  }));
});

test("the induction heads' formation step: the first checkpoint at half the finished model's best induction score", () => {
  const at = (step, best) => ({ step, shape: [2, 2], inductionDiagonal: Float64Array.from([0, best / 2, best, 0.01]),
    induction: Float64Array.from([0.3, 0, 0, 0]), previousToken: new Float64Array(4), previousTokenDiagonal: new Float64Array(4) });
  assert.equal(L.inductionFormationStep([at(1000, 0.02), at(2000, 0.1), at(3000, 0.45), at(4000, 0.8), at(8000, 0.9)]), 3000);
  assert.equal(L.inductionFormationStep([at(1000, 0.5), at(2000, 0.2), at(8000, 0.9)]), 1000);  // first, not last
  assert.equal(L.inductionFormationStep([]), undefined);
  const unscored = (step) => ({ ...at(step, 0), inductionDiagonal: new Float64Array(4).fill(NaN) });
  assert.equal(L.inductionFormationStep([unscored(1000), unscored(2000)]), undefined);  // never a throw
  assert.deepEqual(L.bestHead([0.1, 0.7, 0.7, 0.2], 2), { layer: 0, head: 1, score: 0.7 });
});

test("plain paths below models/: bundled names and checkpoints, never '..', a scheme or an absolute path", () => {
  for (const ok of ["hooklab-demo", "hooklab-induction/checkpoints/step-01000", "a.b_c-d"]) assert.ok(L.isPlainPath(ok, 3), ok);
  for (const bad of ["..", "../x", "a/../b", ".hidden", "/etc", "https://x", "a//b", "a\\b", "", "a/b/c/d"]) assert.ok(!L.isPlainPath(bad, 3), bad);
});

test("a path-patching view takes receivers (the logits or layer.head:q|k|v); anything else is an error block", () => {
  const ok = L.parseLesson(`${HEAD}## S\n:::view path-patching\nreceivers: 2.0:q, 1.3:v\n:::\n:::view path-patching\nreceivers: logits\n:::\n`);
  assert.equal(ok.ok, true, ok.error);
  assert.deepEqual(ok.lesson.steps[0].blocks.map((b) => b.params?.receivers), ["2.0:q, 1.3:v", "logits"]);
  for (const bad of ["2.0:z", "2.0", "<b>x</b>", "1.1:q, 1.1:q", Array.from({ length: 40 }, (_, i) => `0.${i}:q`).join(",")]) {
    const r = L.parseLesson(`${HEAD}## S\n:::view path-patching\nreceivers: ${bad}\n:::\n`);
    assert.equal(r.ok, true, r.error);
    const [block] = r.lesson.steps[0].blocks;
    assert.equal(block.kind, "error", bad);
    assert.match(block.message, /receivers:.*(not a receiver|twice|more than 32)/, bad);
  }
  assert.deepEqual(L.pathEffectsFor({ values: [3, 1, 2.5, 2], shape: [2, 2], receivingMetric: 2 }), { strongest: { layer: 0, head: 1, effect: -1 }, effects: [1, -1, 0.5, 0] });
  assert.equal(L.pathEffectsFor({ values: [2, 2], shape: [1, 2], receivingMetric: 2 }).strongest, null);
  assert.deepEqual(L.pathEffectsFor({ values: [3, 1], shape: [1, 2], receivingMetric: 2 }, "raise").strongest, { layer: 0, head: 0, effect: 1 });
  assert.equal(L.receiversLabel([]), "the logits");
  // Toward the source run: down in noising when clean > corrupted, up when the metric is lower-is-better (rank).
  assert.equal(L.towardSource({ cleanMetric: 5, corruptedMetric: -5 }, "noising", false), "drop");
  assert.equal(L.towardSource({ cleanMetric: 0, corruptedMetric: 900 }, "noising", false), "raise");
  assert.equal(L.towardSource({ cleanMetric: 5, corruptedMetric: -5 }, "denoising", false), "raise");
  assert.equal(L.towardSource({ cleanMetric: 0, corruptedMetric: 900 }, "noising", true), "drop");
  assert.equal(L.towardSource({ cleanMetric: 0, corruptedMetric: 900 }, "denoising", true), "raise");
});
