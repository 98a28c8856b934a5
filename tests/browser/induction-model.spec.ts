// The bundled attention-only teaching model (models/hooklab-induction) in Chromium: it loads
// from the model picker's id, the head detectors the page draws equal the native CLI's on the
// same tokens, and the controls that need an MLP are absent or cannot be chosen.
import { test, expect, type Page } from "@playwright/test";

async function openInduction(page: Page, view: string) {
  // GPT-2's default prompt has ids past this model's 256: a prompt of single-byte tokens instead.
  await page.goto(`/index.html#v=1&model=hooklab-induction&view=${view}&prompt=${encodeURIComponent("q7X;z9J~k3V^w5Q|q7X;z9J~k3V^w5Q|")}`);
  await expect(page.getByTestId("model-config")).toContainText("hooklab-induction", { timeout: 60_000 });
}

/** Values of a heatmap as rendered: data-value of every cell, by [row][col]. */
async function heatmapValues(page: Page, id: string): Promise<number[][]> {
  const fig = page.locator(`[data-heatmap="${id}"]`);
  await expect(fig).toBeVisible({ timeout: 120_000 });
  return fig.evaluate((f) => {
    const out: number[][] = [];
    f.querySelectorAll("rect[data-row]").forEach((r) => {
      (out[Number(r.getAttribute("data-row"))] ??= [])[Number(r.getAttribute("data-col"))] = Number(r.getAttribute("data-value"));
    });
    return out;
  });
}

test("hooklab-induction: the page's head detectors equal hooklab heads on the same tokens", async ({ page, request }) => {
  await openInduction(page, "inside");
  await expect(page.getByTestId("model-select").locator('option[value="hooklab-induction"]')).toHaveCount(1);
  // eval/heads.json is `hooklab heads --model models/hooklab-induction --seed 0` (the native CLI):
  // the lab draws the same tokens from the same seed, so every score must agree.
  const cli = await (await request.get("/models/hooklab-induction/eval/heads.json")).json() as
    { shape: [number, number]; previous_token: number[]; duplicate_token: number[]; induction: number[];
      previous_token_diagonal: number[]; induction_diagonal: number[] };
  for (const [id, key] of [["detect-previous", "previous_token"], ["detect-duplicate", "duplicate_token"], ["detect-induction", "induction"],
    ["detect-previous-diagonal", "previous_token_diagonal"], ["detect-induction-diagonal", "induction_diagonal"]] as const) {
    const page_ = (await heatmapValues(page, id)).flat();
    expect(page_.length).toBe(cli.shape[0] * cli.shape[1]);
    page_.forEach((v, i) => expect(Math.abs(v - cli[key][i])).toBeLessThan(1e-4));
  }
  // The target, read off the page's own maps: one previous-token and one induction head >= 0.9.
  expect(Math.max(...(await heatmapValues(page, "detect-previous-diagonal")).flat())).toBeGreaterThanOrEqual(0.9);
  expect(Math.max(...(await heatmapValues(page, "detect-induction-diagonal")).flat())).toBeGreaterThanOrEqual(0.9);
  // TransformerLens's "mul" score: attention on the detection pattern over all attention. Only the
  // second copy's N rows of 2N + 1 have an induction target, so no head can pass N / (2N + 1).
  const n = 31;  // the lab's sequence length: (n_ctx - 1) / 2
  expect(Math.max(...cli.induction)).toBeLessThanOrEqual(n / (2 * n + 1) + 1e-6);
  // The demos' diagonal score, the one the issue's 0.9 target is judged by, is drawn with its definition.
  await expect(page.getByTestId("detector-definitions")).toContainText(`N / (2N + 1) = ${(n / (2 * n + 1)).toFixed(3)}`);
  await expect(page.getByTestId("detector-definitions")).toContainText("pattern.diagonal(-k).mean()");
});

test("hooklab-induction: no MLP sweep to tick, no MLP hook to steer at", async ({ page }) => {
  await openInduction(page, "patch");
  await expect(page.locator('input[data-sweep="resid_pre"]')).toBeVisible();
  for (const sweep of ["mlp_out", "resid_mid"]) await expect(page.locator(`input[data-sweep="${sweep}"]`)).toHaveCount(0);
  await page.getByRole("tab", { name: "Generate" }).click();
  const hook = page.getByTestId("gen-steerHook");
  await expect(hook.locator('option[value="mlp_out"]')).toBeDisabled();
  await expect(hook.locator('option[value="resid_pre"]')).toBeEnabled();
});

test("hooklab-induction from the model picker: token-id input on a repeated random sequence, predictions without an error", async ({ page }) => {
  await page.goto("/index.html");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await page.getByTestId("model-select").selectOption("hooklab-induction");
  await expect(page.getByTestId("model-config")).toContainText("hooklab-induction", { timeout: 60_000 });
  await expect(page.getByTestId("token-input")).toHaveValue("ids");
  const ids = (await page.getByTestId("prompt").inputValue()).split(" ").map(Number);
  expect(ids.length).toBe(16);
  expect(ids.slice(8)).toEqual(ids.slice(0, 8));
  expect(ids.every((id) => id > 0 && id < 256)).toBe(true);
  await expect(page.getByTestId("tokens").locator("[data-position]")).toHaveCount(17);
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
  // The patching pair is in ids too: both prompts tokenize, the answers are single ids.
  await page.getByRole("tab", { name: "Activation patching" }).click();
  await expect(page.getByTestId("answer-status")).toContainText("id 76");
  await expect(page.getByTestId("wrong-status")).toContainText("id 200");
  await expect(page.getByTestId("length-warning")).toHaveCount(0);
  await expect(page.getByTestId("run-patch")).toBeEnabled();
  await expect(page.locator(".notice.error")).toHaveCount(0);
});
