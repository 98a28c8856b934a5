// Path patching in the lab, in Chromium: the map equals the engine's numbers (as changes from the
// clean run), clicking a head makes its queries the receivers and runs again, the receivers
// travel in the share link, a result goes stale when its inputs change, bad receivers (typed or
// in a link) are refused by name, and a run can be cancelled with the engine still usable.
import { test, expect, type Page } from "@playwright/test";

type LabWindow = { hooklabLab: { lab: { loadedModel: import("../../web/src/engine").HookedTransformer; state: { experiment: Record<string, unknown> } } } };

async function openLab(page: Page, fragment = "") {
  await page.goto(`/index.html${fragment ? `#${fragment}` : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await page.getByRole("tab", { name: "Activation patching" }).click();
}

async function mapValues(page: Page): Promise<number[]> {
  return page.locator('[data-heatmap="path-patching"]').evaluate((fig) => {
    const cells = Array.from(fig.querySelectorAll("rect[data-row]"));
    const cols = 1 + Math.max(...cells.map((r) => Number(r.getAttribute("data-col"))));
    const out: number[] = [];
    for (const r of cells) out[Number(r.getAttribute("data-row")) * cols + Number(r.getAttribute("data-col"))] = Number(r.getAttribute("data-value"));
    return out;
  });
}

/** The engine's own path patching of the experiment's prompts, as changes from the receiving run. */
async function engineEffects(page: Page, receivers: Array<{ layer: number; head: number; input: string }>): Promise<number[]> {
  return page.evaluate(async (rec) => {
    const { lab } = (window as unknown as LabWindow).hooklabLab;
    const e = lab.state.experiment as Record<string, string>;
    const r = await lab.loadedModel.pathPatch({ clean: e.clean, corrupted: e.corrupted, answers: [[e.answer, e.wrong]], normalize: true,
      receivers: rec as never });
    return Array.from(r.values, (v) => v - r.receivingMetric);
  }, receivers);
}

test("path patching: the map equals the engine, a click follows the circuit back, and the link restores it", async ({ page, context }) => {
  await openLab(page);
  await page.getByTestId("run-path").click();
  await expect(page.locator('[data-heatmap="path-patching"]')).toBeVisible({ timeout: 60_000 });
  const toLogits = await mapValues(page);
  const engine = await engineEffects(page, []);
  expect(toLogits.length).toBe(16);
  toLogits.forEach((v, i) => expect(v).toBeCloseTo(engine[i], 10));
  const strongest = engine.indexOf(Math.min(...engine));
  const [layer, head] = [Math.floor(strongest / 4), strongest % 4];
  await expect(page.getByTestId("path-strongest")).toContainText(`Strongest path: L${layer}H${head} → the logits`);

  // Click the strongest head: its queries become the receivers and the map is recomputed.
  await page.locator(`[data-heatmap="path-patching"] rect[data-row="${layer}"][data-col="${head}"]`).click();
  await expect(page.getByTestId("path-result")).toHaveAttribute("data-receivers", `${layer}.${head}:q`, { timeout: 60_000 });
  await expect(page.getByTestId("path-receivers")).toHaveValue(`${layer}.${head}:q`);
  const toQueries = await mapValues(page);
  const engineQ = await engineEffects(page, [{ layer, head, input: "q" }]);
  toQueries.forEach((v, i) => expect(v).toBeCloseTo(engineQ[i], 10));
  // A sender at or after the receiver's layer cannot reach it: exactly no change.
  toQueries.slice(layer * 4).forEach((v) => expect(v).toBe(0));
  await expect(page.getByTestId("path-results")).toHaveAttribute("data-stale", "false");

  // Shared: the receivers and direction travel in the link.
  await page.getByTestId("share").click();
  expect(page.url()).toContain(`pathReceivers=${layer}.${head}%3Aq`);
  const other = await context.newPage();
  await other.goto(page.url());
  await expect(other.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await other.getByRole("tab", { name: "Activation patching" }).click();
  await expect(other.getByTestId("path-receivers")).toHaveValue(`${layer}.${head}:q`);
  await other.getByTestId("run-path").click();
  await expect(other.getByTestId("path-result")).toHaveAttribute("data-receivers", `${layer}.${head}:q`, { timeout: 60_000 });
  expect(await mapValues(other)).toEqual(toQueries);

  // An edit of the receivers makes the result stale (dimmed, with the reason) until the next run.
  await page.getByTestId("path-receivers").fill("logits");
  await page.getByTestId("path-receivers").press("Enter");
  await expect(page.getByTestId("path-stale")).toContainText("path receivers changed");
  await expect(page.getByTestId("path-results")).toHaveAttribute("data-stale", "true");
});

test("path patching refuses bad receivers by name, a layer-0 click says why, and a cancelled run leaves the engine usable", async ({ page }) => {
  await openLab(page, "v=1&view=patch&pathReceivers=9.0%3Aq");
  await expect(page.locator('[data-notice="warning"]').first()).toContainText("path receiver 9.0:q out of range for this model");
  await expect(page.getByTestId("path-receivers")).toHaveValue("logits");
  await page.getByTestId("path-receivers").fill("2.0:z");
  await page.getByTestId("path-receivers").press("Enter");
  await expect(page.getByTestId("path-receivers-problem")).toContainText("not a receiver (layer.head:q, :k or :v)");
  await expect(page.locator("body")).not.toContainText("undefined");

  // Cancel: aborted right after it starts, the job stops between senders; the engine answers the next call.
  const cancelled = await page.evaluate(async () => {
    const { lab } = (window as unknown as LabWindow).hooklabLab;
    const abort = new AbortController();
    const run = lab.loadedModel.pathPatch({ clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to", answers: [[" Mary", " John"]] }, { signal: abort.signal });
    abort.abort();
    return run.then(() => "finished", (e: Error) => e.name);
  });
  expect(cancelled).toBe("AbortError");
  await page.getByTestId("path-receivers").fill("3.0:q, 3.1:k");
  await page.getByTestId("path-receivers").press("Enter");
  await page.getByTestId("run-path").click();
  await expect(page.getByTestId("path-result")).toHaveAttribute("data-receivers", "3.0:q,3.1:k", { timeout: 60_000 });
  await expect(page.getByTestId("path-strongest")).toContainText("→ 3.0:q, 3.1:k");
  await page.locator('[data-heatmap="path-patching"] rect[data-row="0"][data-col="1"]').click();
  await expect(page.locator('[data-notice="warning"]').filter({ hasText: "No head can reach the queries of L0H1" })).toHaveCount(1);
  await expect(page.getByTestId("path-receivers")).toHaveValue("3.0:q, 3.1:k");
});

test("a malformed receivers link is refused with a notice and the default kept", async ({ page }) => {
  await openLab(page, "v=1&pathReceivers=%3Cimg%20src%3Dx%3E&pathDirection=sideways");
  const notices = page.locator('[data-notice="warning"]');
  await expect(notices.filter({ hasText: "pathReceivers lists" })).toHaveCount(1);
  await expect(notices.filter({ hasText: "pathDirection \"sideways\" is not one of denoising, noising" })).toHaveCount(1);
  await expect(page.locator("img[src=x]")).toHaveCount(0);
  await expect(page.getByTestId("path-direction")).toHaveValue("noising");
});
