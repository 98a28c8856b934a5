// Parity of the C++ GPT-2 tokenizer with an independent implementation: js-tiktoken's
// r50k_base (= GPT-2). Runs build/native/tests/tokenize_jsonl once over corpus.json and
// requires identical token ids for every string, and decodes equal to js-tiktoken's.
//
//   cmake --build --preset native --target tokenize_jsonl && node --test tests/tokenizer/
//   (HOOKLAB_NATIVE_BUILD=<build dir> picks another build; default build/native)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";
import { getEncoding } from "js-tiktoken";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");
const buildDir = resolve(repoRoot, process.env.HOOKLAB_NATIVE_BUILD ?? "build/native");
const tool = join(buildDir, "tests", "tokenize_jsonl");
const corpus = JSON.parse(readFileSync(join(here, "corpus.json"), "utf8"));
const encoding = getEncoding("r50k_base");

// Both tokenizers' results, computed once for the tests below.
function runTool(texts) {
  assert.ok(existsSync(tool), `${tool} is missing: cmake --build --preset native --target tokenize_jsonl`);
  const result = spawnSync(tool, [join(repoRoot, "models", "tokenizer")], {
    input: texts.map((text) => JSON.stringify(text)).join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `tokenize_jsonl failed (status ${result.status}): ${result.stderr}`);
  const lines = result.stdout.split("\n").filter((line) => line.length > 0);
  assert.equal(lines.length, texts.length, "tokenize_jsonl must answer every line");
  return lines.map((line) => JSON.parse(line));
}

// The corpus goes through the tool once; the tests below share its answers.
let corpusAnswers = null;
const answersForCorpus = () => (corpusAnswers ??= runTool(corpus));

const show = (text) => (text.length > 120 ? JSON.stringify(text.slice(0, 120)) + "…" : JSON.stringify(text));

test(`corpus has at least 400 strings (${corpus.length})`, () => {
  console.log(`corpus: ${corpus.length} strings`);
  assert.ok(corpus.length >= 400);
  assert.ok(corpus.every((text) => typeof text === "string" && text.isWellFormed()));
});

test("the C++ Unicode tables come from this Node's Unicode version", () => {
  // js-tiktoken's \p{L}, \p{N} and \s follow the running V8; tables from another Unicode
  // version would disagree on the characters that version added.
  const table = readFileSync(join(repoRoot, "core/src/tokenizer/unicode_class_table.inc"), "utf8");
  const tableVersion = table.match(/HOOKLAB_UNICODE_TABLE_VERSION "([^"]+)"/)?.[1];
  assert.equal(tableVersion, process.versions.unicode,
    "rerun `node core/src/tokenizer/generate_unicode_tables.mjs` with this Node and rebuild");
});

test("token ids match js-tiktoken r50k_base on the whole corpus", () => {
  const ours = answersForCorpus();
  const mismatches = [];
  corpus.forEach((text, i) => {
    const expected = encoding.encode(text, "all");
    if (JSON.stringify(ours[i].tokens) !== JSON.stringify(expected)) {
      mismatches.push(`#${i} ${show(text)}\n  hooklab:     [${ours[i].tokens}]\n  js-tiktoken: [${expected}]`);
    }
  });
  console.log(`token mismatches: ${mismatches.length} of ${corpus.length}`);
  for (const mismatch of mismatches) console.log(mismatch);
  assert.equal(mismatches.length, 0);
});

test("decode round-trips and matches js-tiktoken's decode", () => {
  const ours = answersForCorpus();
  const mismatches = [];
  corpus.forEach((text, i) => {
    // js-tiktoken decodes with a default TextDecoder, which drops one leading U+FEFF (BOM);
    // hooklab decodes bytes as Python does and keeps it, so put it back before comparing.
    let expected = encoding.decode(encoding.encode(text, "all"));
    if (text.startsWith("\ufeff")) expected = "\ufeff" + expected;
    if (ours[i].decoded !== text || ours[i].decoded !== expected) {
      mismatches.push(`#${i} ${show(text)}\n  hooklab:     ${show(ours[i].decoded)}\n  js-tiktoken: ${show(expected)}`);
    }
  });
  console.log(`decode mismatches: ${mismatches.length} of ${corpus.length}`);
  for (const mismatch of mismatches) console.log(mismatch);
  assert.equal(mismatches.length, 0);
});

test("single tokens decode like js-tiktoken, including partial UTF-8 characters", () => {
  // Every 97th id plus the ends: each id alone, as a model's sampled token would be shown.
  const ids = [];
  for (let id = 0; id < 50257; id += 97) ids.push(id);
  ids.push(50255, 50256);
  const ours = runTool(ids.map((id) => encoding.decode([id])));
  // A token holding part of a character decodes to U+FFFD on both sides, so compare texts.
  ids.forEach((id, i) => assert.equal(ours[i].decoded, encoding.decode([id]), `token ${id}`));
});

test("token ids match js-tiktoken on seeded random strings", () => {
  // Characters from every plane mixed with the pre-tokenizer's pivots (spaces, apostrophes,
  // contraction letters, JS-only whitespace): cheap extra coverage beyond the fixed corpus.
  const pivots = [" ", " ", "  ", "\t", "\n", "\r\n", "'", "s", "ll", "a", "Z", "7", "!", "\u00a0", "\u3000",
                  "\ufeff", "\u0085", "\u2028", "\u0301", "\u00e9", "\u65e5", "<|endoftext|>"];
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
  const texts = [];
  for (let i = 0; i < 3000; ++i) {
    let text = "";
    for (let k = 1 + Math.floor(random() * 16); k > 0; --k) {
      if (random() < 0.25) {
        let codePoint;
        do codePoint = Math.floor(random() * 0x110000); while (codePoint >= 0xd800 && codePoint <= 0xdfff);
        text += String.fromCodePoint(codePoint);
      } else {
        text += pivots[Math.floor(random() * pivots.length)];
      }
    }
    texts.push(text);
  }
  const ours = runTool(texts);
  const mismatches = texts.filter((text, i) => JSON.stringify(ours[i].tokens) !== JSON.stringify(encoding.encode(text, "all")));
  for (const text of mismatches.slice(0, 10)) console.log(`mismatch: ${show(text)}`);
  assert.equal(mismatches.length, 0);
});
