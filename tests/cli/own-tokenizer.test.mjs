// Models with their own Hugging Face tokenizer through the CLI: `tokenize --model DIR` encodes
// every committed reference string (tests/fixtures/own-tokenizer/*/encodings.json, written by
// tests/reference/make_tokenizer_fixtures.py) to the reference ids and decodes them back to the
// reference text; `run --model DIR` says which tokenizer it used and starts with the config's BOS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, cpSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hooklab, ok } from "../tools/cli.mjs";

const root = new URL("../..", import.meta.url).pathname;
const fixtureRoot = join(root, "tests/fixtures/own-tokenizer");
const fixtures = ["bpe-files", "bpe-json", "wordlevel", "wordlevel-split"];

for (const name of fixtures) {
  test(`tokenize --model ${name}: every reference string, both ways`, () => {
    const dir = join(fixtureRoot, name);
    const { tokenizer, cases } = JSON.parse(readFileSync(join(dir, "encodings.json"), "utf8"));
    assert.ok(cases.length >= 300);
    for (const c of cases) {
      const out = ok("tokenize", "--model", dir, "--no-bos", "--text", c.text);
      assert.equal(out.tokenizer, tokenizer);
      assert.deepEqual(out.tokens, c.ids, `tokens of ${JSON.stringify(c.text)}`);
      assert.equal(out.decoded, c.decoded, `decoded ${JSON.stringify(c.text)}`);
    }
  });
}

test("run --model uses the directory's tokenizer and the config's BOS", () => {
  for (const name of fixtures) {
    const dir = join(fixtureRoot, name);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    const { cases } = JSON.parse(readFileSync(join(dir, "encodings.json"), "utf8"));
    const c = cases.find((x) => x.text === "When Mary and John went to the store");
    const out = ok("run", "--model", dir, "--prompt", c.text, "--top-k", "3");
    assert.equal(out.tokenizer, name.startsWith("bpe") ? "bpe" : "wordlevel");
    assert.deepEqual(out.tokens, [config.bos_token_id, ...c.ids]);
    assert.equal(out.top_k.length, 3);
    assert.ok(out.top_k.every((t) => t.token < config.vocab_size));
  }
});

test("a model without tokenizer files gets GPT-2's", () => {
  const out = ok("run", "--model", join(root, "models/testdata/tiny-a"), "--prompt", "Hello world", "--top-k", "1");
  assert.equal(out.tokenizer, "gpt2");
  assert.deepEqual(out.tokens, [50256, 15496, 995]);
});

test("an unsupported tokenizer.json is one clear error line, exit 1", () => {
  const dir = mkdtempSync(join(tmpdir(), "hooklab-own-tokenizer-"));
  cpSync(join(fixtureRoot, "wordlevel"), dir, { recursive: true });
  const tokenizer = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  tokenizer.model.type = "Unigram";
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  for (const command of [["run", "--prompt", "x"], ["tokenize", "--text", "x"]]) {
    const r = hooklab(command[0], "--model", dir, ...command.slice(1));
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr.trim(), /^error: .*tokenizer\.json: model type "Unigram" is not supported[^\n]*$/);
  }
});
