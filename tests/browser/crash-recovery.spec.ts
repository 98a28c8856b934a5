// Crash recovery in Chromium: when the engine worker dies (here killed from the test through
// Playwright's handle on the worker — nothing in the product can do it), the page says so,
// calls in flight reject with an error that says so instead of hanging, a fresh engine reloads
// the model, and the experiment (prompt, settings, URL) is kept. (crash-memory.spec.ts: a model
// that does not fit in wasm memory.)
import { test, expect, type Page, type Worker } from "@playwright/test";

const PROMPT = "When Mary and John went to the store, Mary gave a drink to";
type LabWindow = { hooklabLab: { lab: { model?: { toTokens(t: string): Promise<Int32Array> } } } };

async function openLab(page: Page, path: string) {
  await page.goto(path);
  await page.getByTestId("prompt").fill(PROMPT);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("topk-table")).toBeVisible({ timeout: 60_000 });
}

/** The engine's worker (not the pthread workers of the threaded build). */
async function engineWorker(page: Page): Promise<Worker> {
  await expect.poll(() => page.workers().some((w) => /worker/.test(w.url()))).toBe(true);
  return page.workers().find((w) => /worker/.test(w.url()))!;
}

test("a killed engine worker: pending calls reject, the page says so, the model comes back, the experiment stays", async ({ page }) => {
  await openLab(page, "/plain/index.html");
  await page.waitForFunction(() => location.hash.length > 1);
  const hash = await page.evaluate(() => location.hash);
  const worker = await engineWorker(page);

  // Keep the worker busy, then end it: the call sent meanwhile is queued in a worker that dies.
  void worker.evaluate(() => {
    const until = Date.now() + 1500;
    while (Date.now() < until) { /* busy */ }
    (self as unknown as { close(): void }).close();
  }).catch(() => undefined);
  await page.waitForTimeout(200);
  const pending = await page.evaluate(() => (window as unknown as LabWindow).hooklabLab.lab.model!.toTokens("hi")
    .then(() => "resolved", (e: Error) => `rejected: ${e.message}`));
  expect(pending).toMatch(/^rejected: the engine stopped unexpectedly/);

  await expect(page.locator('[data-notice="error"]')).toContainText("The engine stopped");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  // The experiment is as it was, and the fresh engine answers.
  await expect(page.getByTestId("prompt")).toHaveValue(PROMPT);
  expect(await page.evaluate(() => location.hash)).toBe(hash);
  await page.getByTestId("prompt").fill(`${PROMPT} the`);
  await expect(page.getByTestId("tokens").locator("[data-position]")).toHaveCount(15);
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
  const tokens = await page.evaluate(async () => Array.from(await (window as unknown as LabWindow).hooklabLab.lab.model!.toTokens("hi")));
  expect(tokens.length).toBeGreaterThan(0);
});
