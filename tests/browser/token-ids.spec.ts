// Token-id input in the lab: the prompt, answer and patching boxes read as ids ("12 7 3 9") for
// toy models whose tokens are not words. Switching converts each box through the model's own
// tokenizer, the ids give the same numbers as the text did, bad ids get a clear message and the
// mode travels in a shared link.
import { test, expect, type Page } from "@playwright/test";

async function openLab(page: Page, fragment = "") {
  await page.goto(`/index.html${fragment ? `#${fragment}` : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
}

const chipIds = (page: Page) => page.getByTestId("tokens").locator("[data-position]").evaluateAll(
  (chips) => chips.map((c) => Number(c.getAttribute("data-id"))));

/** Cell values of a heatmap as rendered (data-value), row by row. */
const heatmap = (page: Page, id: string) => page.locator(`[data-heatmap="${id}"] rect[data-row]`).evaluateAll(
  (cells) => cells.map((c) => Number(c.getAttribute("data-value"))));

test("token ids: switching converts the boxes, ids compute what the text did, bad ids are named, the link keeps the mode", async ({ page, context }) => {
  await openLab(page);
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
  const textIds = await chipIds(page);
  const textTop = await page.getByTestId("topk-table").locator("tbody tr").first().innerText();

  // The same prompt as ids: the box holds the chips' ids after BOS, predictions unchanged.
  await page.getByTestId("token-input").selectOption("ids");
  await expect(page.getByTestId("prompt")).toHaveValue(textIds.slice(1).join(" "));
  await expect.poll(() => chipIds(page)).toEqual(textIds);
  await expect.poll(() => page.getByTestId("topk-table").locator("tbody tr").first().innerText()).toBe(textTop);

  // Typed ids (commas and brackets allowed), then ids the model does not have.
  await page.getByTestId("prompt").fill("[464, 3797 3332]");
  await expect.poll(() => chipIds(page)).toEqual([textIds[0], 464, 3797, 3332]);
  await page.getByTestId("prompt").fill("464 99999");
  await expect(page.getByText("token id 99999 (item 2) is out of range for this model (0–50256)")).toBeVisible();
  await page.getByTestId("prompt").fill("464 <b>x</b>");
  await expect(page.getByText(/"<b>x<\/b>" \(item 2\) is not a token id/)).toBeVisible();
  await expect(page.locator("b", { hasText: "x" })).toHaveCount(0);
  await page.getByTestId("prompt").fill("464");
  await expect.poll(() => chipIds(page)).toEqual([textIds[0], 464]);

  // Patching: the IOI pair and its answers as ids give the text mode's heatmap exactly.
  await page.getByRole("tab", { name: "Activation patching" }).click();
  await expect(page.getByTestId("answer-input")).toHaveValue(/^\d+$/);
  await expect(page.getByTestId("answer-status")).toContainText("id");
  await page.getByTestId("run-patch").click();
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("patch-status")).toHaveText("", { timeout: 60_000 });
  const fromIds = await heatmap(page, "patch-resid_pre");
  const fromText = await page.evaluate(async () => {
    const { HookedTransformer } = (window as unknown as { hooklabLab: { HookedTransformer: typeof import("../../web/src/engine").HookedTransformer } }).hooklabLab;
    const model = await HookedTransformer.load("hooklab-demo");
    const r = await model.patch({ sweep: "resid_pre", clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to", answers: [[" Mary", " John"]], normalize: true });
    model.dispose();
    return Array.from(r.values);
  });
  expect(fromIds.length).toBe(fromText.length);
  fromIds.forEach((v, i) => expect(v).toBeCloseTo(fromText[i], 10));

  // The link carries the mode and the ids; text mode decodes the boxes back.
  await page.getByTestId("share").click();
  const other = await context.newPage();
  await openLab(other, page.url().split("#")[1]);
  await expect(other.getByTestId("token-input")).toHaveValue("ids");
  await expect(other.getByTestId("prompt")).toHaveValue("464");
  await page.getByRole("tab", { name: "Tokens & predictions" }).click();
  await page.getByTestId("token-input").selectOption("text");
  await expect(page.getByTestId("prompt")).toHaveValue("The");
  await expect(page.getByTestId("answer-input")).toHaveValue(" Mary");
});
