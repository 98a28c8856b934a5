// A model that does not fit in wasm memory, in Chromium. The browser's wasm memory is capped by
// a V8 flag (this file's browser only) at 72 MiB: the bundled demo model loads (its load peaks a
// little above the engine's initial 64 MiB since the tokenizer keeps Hugging Face's pair-ranked
// merge tables), and a generated GPT-2 whose weights need ~80 MB as float32 (a 39 MB float16
// file) cannot. The page gives a clear message, stays usable, and keeps the experiment.
import { test, expect } from "@playwright/test";

const PROMPT = "When Mary and John went to the store, Mary gave a drink to";

test.use({ launchOptions: { executablePath: process.env.HOOKLAB_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", "--js-flags=--wasm-max-mem-pages=1152", "--disable-background-networking"] } });

/** A valid GPT-2 checkpoint (all-zero float16 weights) of the given width, as safetensors. */
function zeroGpt2(d: number, layers: number, vocab = 50257, ctx = 128): { config: Buffer; weights: Buffer } {
  const shapes: Record<string, number[]> = { "wte.weight": [vocab, d], "wpe.weight": [ctx, d], "ln_f.weight": [d], "ln_f.bias": [d] };
  for (let l = 0; l < layers; l++) {
    Object.assign(shapes, {
      [`h.${l}.ln_1.weight`]: [d], [`h.${l}.ln_1.bias`]: [d], [`h.${l}.ln_2.weight`]: [d], [`h.${l}.ln_2.bias`]: [d],
      [`h.${l}.attn.c_attn.weight`]: [d, 3 * d], [`h.${l}.attn.c_attn.bias`]: [3 * d],
      [`h.${l}.attn.c_proj.weight`]: [d, d], [`h.${l}.attn.c_proj.bias`]: [d],
      [`h.${l}.mlp.c_fc.weight`]: [d, 4 * d], [`h.${l}.mlp.c_fc.bias`]: [4 * d],
      [`h.${l}.mlp.c_proj.weight`]: [4 * d, d], [`h.${l}.mlp.c_proj.bias`]: [d],
    });
  }
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: "F16", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  const weights = Buffer.concat([size, Buffer.from(json), Buffer.alloc(offset)]);
  const config = Buffer.from(JSON.stringify({ model_type: "gpt2", vocab_size: vocab, n_positions: ctx, n_ctx: ctx, n_embd: d,
    n_layer: layers, n_head: 4, layer_norm_epsilon: 1e-5, activation_function: "gelu_new", tie_word_embeddings: true }));
  return { config, weights };
}

test("a model that does not fit: a clear message, the page usable, the experiment kept", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/plain/index.html");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await page.getByTestId("prompt").fill(PROMPT);
  await page.getByRole("tab", { name: "Activation patching" }).click();
  await page.getByTestId("corrupted-prompt").fill("When Mary and John went to the store, John gave a drink to");

  const { config, weights } = zeroGpt2(384, 1);
  await page.getByLabel("model files").setInputFiles([
    { name: "config.json", mimeType: "application/json", buffer: config },
    { name: "model.safetensors", mimeType: "application/octet-stream", buffer: weights },
  ]);
  await expect(page.getByTestId("model-error")).toContainText(/memory/i, { timeout: 60_000 });
  const message = await page.getByTestId("model-error").textContent();
  expect(message!.length).toBeLessThan(400);
  console.log(`  shown: ${message}`);

  // The experiment is kept, and the page still works: views switch, edits reach the URL.
  await expect(page.getByTestId("corrupted-prompt")).toHaveValue("When Mary and John went to the store, John gave a drink to");
  await page.getByRole("tab", { name: "Tokens & predictions" }).click();
  await expect(page.getByTestId("prompt")).toHaveValue(PROMPT);
  await page.getByTestId("prompt").fill("Still here");
  await expect.poll(() => page.evaluate(() => location.hash), { timeout: 5_000 }).toContain("Still");
  // And a model that fits loads again in the same page.
  await page.getByTestId("model-select").selectOption("hooklab-demo");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("topk-table")).toBeVisible({ timeout: 60_000 });
  expect(errors).toEqual([]);
});
