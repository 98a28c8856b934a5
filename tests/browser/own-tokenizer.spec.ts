// Models with their own Hugging Face tokenizer files in the browser: picked as local files, from
// the hub stand-in (through the store, offline too) and from a plain URL. Every way encodes the
// committed reference strings (tests/fixtures/own-tokenizer/*/encodings.json, from the Python
// reference tests/reference/hf_tokenizer.py) to the reference ids and decodes them back; a model
// without tokenizer files still gets GPT-2's, and half a tokenizer is refused with a clear message.
import { test, expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtureDir = (name: string) => join(root, "tests/fixtures/own-tokenizer", name);
const FIXTURES = [
  { name: "bpe-files", files: ["vocab.json", "merges.txt"], kind: "bpe" },
  { name: "bpe-json", files: ["tokenizer.json"], kind: "bpe" },
  { name: "wordlevel", files: ["tokenizer.json"], kind: "wordlevel" },
  { name: "wordlevel-split", files: ["tokenizer.json"], kind: "wordlevel" },
] as const;

interface Case { text: string; ids: number[]; decoded: string }

function referenceCases(name: string): Case[] {
  const { cases } = JSON.parse(readFileSync(join(fixtureDir(name), "encodings.json"), "utf8")) as { cases: Case[] };
  return cases;
}

type Source = { files: string } | { hub: string } | { url: string };

/**
 * Loads a model in the harness page and encodes, then decodes, every case there. `files` names a
 * fixture whose files the page fetches from /repo/ and passes as a ModelFileSet.
 */
async function encodeInPage(page: Page, source: Source, files: readonly string[], cases: Case[]) {
  return page.evaluate(async ({ source, files, cases }) => {
    const { HookedTransformer } = window.hooklab;
    let spec: Parameters<typeof HookedTransformer.load>[0];
    if ("files" in source) {
      const base = `/repo/tests/fixtures/own-tokenizer/${source.files}/`;
      const get = async (name: string) => (await fetch(base + name)).blob();
      const set: Record<string, Blob> = { config: await get("config.json"), weights: await get("model.safetensors") };
      for (const name of files) set[name === "tokenizer.json" ? "tokenizer" : name === "vocab.json" ? "vocab" : "merges"] = await get(name);
      spec = { files: set as unknown as import("../../web/src/engine").ModelFileSet };
    } else {
      spec = "hub" in source ? { hub: source.hub } : { url: `${location.origin}${source.url}` };
    }
    const model = await HookedTransformer.load(spec, { hubEndpoint: `${location.origin}/hub` });
    const out = [];
    for (const c of cases) {
      const ids = Array.from(await model.toTokens(c.text, { prependBos: false }));
      out.push({ ids, decoded: await model.toString(c.ids) });
    }
    const withBos = Array.from(await model.toTokens("When Mary and John went to the store"));
    const tokenizer = model.cfg.tokenizer;
    model.dispose();
    return { out, withBos, tokenizer };
  }, { source, files, cases });
}

async function openHarness(page: Page) {
  await page.goto("/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
  await page.request.get("/__reset");
  await page.evaluate(async () => {
    for (const f of await window.hooklab.listStoredModels()) await window.hooklab.removeStoredModel(f.key);
  });
}

function expectReference(result: Awaited<ReturnType<typeof encodeInPage>>, cases: Case[], name: string, kind: string) {
  expect(result.tokenizer).toBe(kind);
  result.out.forEach((r, i) => {
    expect(r.ids, `ids of ${JSON.stringify(cases[i].text)}`).toEqual(cases[i].ids);
    expect(r.decoded, `decoded ${JSON.stringify(cases[i].text)}`).toBe(cases[i].decoded);
  });
  const config = JSON.parse(readFileSync(join(fixtureDir(name), "config.json"), "utf8"));
  expect(result.withBos[0]).toBe(config.bos_token_id);
}

for (const f of FIXTURES) {
  test(`${f.name}: local files encode and decode every reference string`, async ({ page }) => {
    await openHarness(page);
    const cases = referenceCases(f.name);
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expectReference(await encodeInPage(page, { files: f.name }, f.files, cases), cases, f.name, f.kind);
  });
}

test("hub and URL sources find the model's tokenizer files; the store keeps them for offline loads", async ({ page }) => {
  await openHarness(page);
  const cases = referenceCases("bpe-json").slice(0, 60);
  expectReference(await encodeInPage(page, { hub: "test/bpe-json" }, [], cases), cases, "bpe-json", "bpe");
  const stored = await page.evaluate(() => window.hooklab.listStoredModels());
  expect(stored.some((s) => s.url.endsWith("/hub/test/bpe-json/resolve/main/tokenizer.json"))).toBe(true);
  // Offline, the stored tokenizer.json is used again.
  await page.request.get("/__hub-offline");
  expectReference(await encodeInPage(page, { hub: "test/bpe-json" }, [], cases), cases, "bpe-json", "bpe");
  await page.request.get("/__reset");

  const bpeFiles = referenceCases("bpe-files").slice(0, 60);
  expectReference(await encodeInPage(page, { hub: "test/bpe-files" }, [], bpeFiles), bpeFiles, "bpe-files", "bpe");
  // A plain URL has no file list: the lab asks for tokenizer.json, and a 404 means "not there".
  const words = referenceCases("wordlevel").slice(0, 60);
  expectReference(await encodeInPage(page, { url: "/repo/tests/fixtures/own-tokenizer/wordlevel/" }, [], words), words, "wordlevel", "wordlevel");

  // A model without tokenizer files gets GPT-2's, and the hub's file list spares the requests.
  const before = (await (await page.request.get("/__hub-log")).json()).length;
  const gpt2 = await encodeInPage(page, { hub: "test/tiny-a" }, [], [{ text: "Hello world", ids: [15496, 995], decoded: "Hello world" }]);
  expect(gpt2.tokenizer).toBe("gpt2");
  expect(gpt2.out[0].ids).toEqual([15496, 995]);
  const requests: Array<{ path: string }> = (await (await page.request.get("/__hub-log")).json()).slice(before);
  expect(requests.filter((r) => /tokenizer\.json|vocab\.json|merges\.txt/.test(r.path))).toEqual([]);
});

test("the lab: picking a model directory with its own tokenizer shows its tokens; half a tokenizer is refused", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/plain/index.html");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  const pick = (dir: string, names: string[]) => page.getByLabel("model files").setInputFiles(
    names.map((name) => ({ name, mimeType: "application/octet-stream", buffer: readFileSync(join(fixtureDir(dir), name)) })));

  await pick("bpe-files", ["config.json", "model.safetensors", "vocab.json"]);
  await expect(page.getByTestId("model-error")).toContainText("vocab.json was given without merges.txt", { timeout: 60_000 });

  await pick("wordlevel", ["config.json", "model.safetensors", "tokenizer.json"]);
  await expect(page.getByTestId("model-error")).toHaveCount(0, { timeout: 60_000 });
  await page.getByTestId("prompt").fill("When Mary and John went to the store");
  const c = referenceCases("wordlevel").find((x) => x.text === "When Mary and John went to the store")!;
  const config = JSON.parse(readFileSync(join(fixtureDir("wordlevel"), "config.json"), "utf8"));
  const chipIds = () => page.getByTestId("tokens").locator("[data-position]").evaluateAll(
    (chips) => chips.map((chip) => Number(chip.getAttribute("data-id"))));
  await expect.poll(chipIds, { timeout: 30_000 }).toEqual([config.bos_token_id, ...c.ids]);
  await expect(page.getByTestId("topk-table").locator("tbody tr").first()).toBeVisible();
  expect(errors).toEqual([]);
});
