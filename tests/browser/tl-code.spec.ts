// "Show as TransformerLens code" in Chromium: every view of the lab has the button; its panel
// shows the Python for that view's own inputs (a hostile prompt stays text inside an escaped
// literal, no HTML), and Copy puts exactly that code on the clipboard.
import { test, expect, type Page } from "@playwright/test";

async function openLab(page: Page, fragment = "") {
  await page.goto(`/index.html${fragment ? `#${fragment}` : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
}

async function openCode(page: Page, id: string): Promise<string> {
  await page.getByTestId(`tl-code-${id}`).click();
  const text = page.getByTestId(`tl-code-text-${id}`);
  await expect(text).toBeVisible();
  return (await text.textContent()) ?? "";
}

test("every view has its TransformerLens code, with the view's inputs", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openLab(page);
  const hostile = 'Say "hi" <img src=x onerror="window.__pwned=1">\\ end';
  await page.getByTestId("prompt").fill(hostile);
  await expect(page.getByTestId("topk-table")).toBeVisible();

  const tokens = await openCode(page, "tokens");
  expect(tokens).toContain("model.to_tokens(prompt, prepend_bos=True)");
  expect(tokens).toContain(String.raw`prompt = "Say \"hi\" <img src=x onerror=\"window.__pwned=1\">\\ end"`);
  expect(await page.locator(".tl-code img").count()).toBe(0);
  await page.getByTestId("tl-code-copy-tokens").click();
  await expect(page.getByTestId("tl-code-panel-tokens")).toContainText("Copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(tokens);
  expect(await openCode(page, "predictions")).toContain("probs.topk(10)");

  await page.getByRole("tab", { name: "Inside the model" }).click();
  expect(await openCode(page, "norms")).toContain('cache["resid_post", layer]');
  expect(await openCode(page, "attention")).toContain('cache["pattern", layer]');
  await expect(page.getByTestId("dla-pair")).toBeVisible({ timeout: 60_000 });
  expect(await openCode(page, "lens")).toContain("cache.accumulated_resid(");
  expect(await openCode(page, "dla")).toContain("cache.stack_head_results(");
  expect(await openCode(page, "detectors")).toContain("induction");

  await page.getByRole("tab", { name: "Activation patching" }).click();
  const patching = await openCode(page, "patching");
  expect(patching).toContain("patching.get_act_patch_resid_pre(model, corrupted_tokens, clean_cache, metric)");
  expect(patching).toContain("result = sweep(corrupted_tokens, clean_cache, logit_diff)");
  // The panel offers one choice per selected sweep.
  await page.getByTestId("tl-code-panel-patching").locator("select").selectOption({ label: "head_out (exact)" });
  await expect(page.getByTestId("tl-code-text-patching")).toContainText("get_act_patch_attn_head_out_all_pos");
  await page.getByTestId("dataset-toggle").click();
  expect(await openCode(page, "dataset")).toContain("ci_low, ci_high");

  await page.getByRole("tab", { name: "Generate" }).click();
  expect(await openCode(page, "generate")).toContain("with model.hooks(fwd_hooks=[(hook_name, steer)]):");
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

test("attribution patching shows its AtP* code", async ({ page }) => {
  await openLab(page, "");
  await page.getByRole("tab", { name: "Activation patching" }).click();
  await page.evaluate(() => (window as unknown as { hooklabLab: { lab: { update(p: object): void } } }).hooklabLab.lab.update({ method: "atp-star", sweeps: ["head_q"] }));
  const code = await openCode(page, "patching");
  expect(code).toContain("atp_star_qk(\"q\"");
  expect(code).toContain("value.backward()");
});
