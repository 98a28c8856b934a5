// Results that belong to their inputs, in Chromium: a result whose inputs changed is marked
// stale (never shown as current), every view names its answer pair and metric, normalised
// patching warns when clean and corrupted barely differ, and a shared link's out-of-range
// fields are refused by name.
import { test, expect, type Page } from "@playwright/test";

async function openLab(page: Page, fragment: string) {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`/index.html#${fragment}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  return dialogs;
}

/** The fragment once the page has written the experiment into it (debounced). */
async function settledHash(page: Page, contains: string): Promise<string> {
  await expect.poll(() => page.evaluate(() => decodeURIComponent(location.hash.replace(/\+/g, " "))), { timeout: 10_000 }).toContain(contains);
  return page.evaluate(() => location.hash.slice(1));
}

test("patching results are marked stale when their inputs change, until Run", async ({ page }) => {
  await openLab(page, "v=1&view=patch&sweeps=resid_pre");
  const results = page.getByTestId("patch-results");
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(results).toHaveAttribute("data-stale", "false");
  await expect(page.getByTestId("patch-stale")).toBeEmpty();
  // The title names the metric and the answer pair it was computed with.
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toContainText('logit_diff of "␣Mary" − "␣John" (normalised)');

  await page.getByTestId("clean-prompt").fill("When Mary and John went to the park, John gave a drink to");
  await expect(results).toHaveAttribute("data-stale", "true");
  await expect(page.getByTestId("patch-stale")).toContainText("Out of date — clean prompt changed");
  await expect(results).toHaveAttribute("aria-description", /clean prompt changed/);
  expect(await results.evaluate((r) => Number(getComputedStyle(r.firstElementChild!).opacity))).toBeLessThan(0.5);
  // Editing it back makes the result current again; another input makes it stale again.
  await page.getByTestId("clean-prompt").fill("When Mary and John went to the store, John gave a drink to");
  await expect(results).toHaveAttribute("data-stale", "false");
  await page.getByTestId("metric").selectOption("logprob");
  await expect(page.getByTestId("patch-stale")).toContainText("metric changed");
  await page.getByTestId("run-patch").click();
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toContainText('logprob of "␣Mary" (normalised)', { timeout: 60_000 });
  await expect(results).toHaveAttribute("data-stale", "false");
});

test("inside views: stale after a prompt edit elsewhere, recomputed when opened; their own answer pair travels in the link", async ({ page, context }) => {
  const prompt = "When Mary and John went to the store, John gave a drink to";
  await openLab(page, `v=1&view=inside&prompt=${encodeURIComponent(prompt)}`);
  // By default the pair is the prompt's top two predictions, named in the lens and DLA.
  await expect(page.getByTestId("inside-pair")).toContainText(/top two predictions at position 14 /, { timeout: 60_000 });
  await expect(page.getByTestId("dla-pair")).toBeVisible({ timeout: 60_000 });
  const top = await page.evaluate(async () => {
    const { lab } = (window as unknown as { hooklabLab: { lab: { state: { predictions?: { top: Array<Array<{ str: string }>> } } } } }).hooklabLab;
    const p = lab.state.predictions!.top;
    return p[p.length - 1].slice(0, 2).map((e) => e.str.replace(/ /g, "␣"));
  });
  await expect(page.getByTestId("dla-pair")).toContainText(`"${top[0]}" − "${top[1]}"`);
  await expect(page.locator('[data-heatmap="logit-lens"]')).toContainText(`"${top[0]}" − "${top[1]}"`);

  // Edit the prompt on the first tab: the inside results (not recomputed there) are stale.
  await page.getByRole("tab", { name: "Tokens & predictions" }).click();
  await page.getByTestId("prompt").fill("The cat sat on the mat. The cat");
  for (const id of ["norms", "lens", "dla"]) await expect(page.getByTestId(id)).toHaveAttribute("data-stale", "true");
  await expect(page.getByTestId("lens-stale")).toContainText("prompt changed");
  await page.getByRole("tab", { name: "Inside the model" }).click();
  for (const id of ["norms", "lens", "dla", "attention"]) await expect(page.getByTestId(id)).toHaveAttribute("data-stale", "false", { timeout: 60_000 });

  // Choose the pair: it is used, named, and in the link.
  await page.getByTestId("inside-answer").fill(" mat");
  await page.getByTestId("inside-wrong").fill(" cat");
  await expect(page.getByTestId("dla-pair")).toContainText('"␣mat" − "␣cat"', { timeout: 60_000 });
  await expect(page.getByTestId("dla")).toHaveAttribute("data-stale", "false");
  const hash = await settledHash(page, "insideAnswer= mat");
  const other = await context.newPage();
  await openLab(other, hash);
  await expect(other.getByTestId("inside-answer")).toHaveValue(" mat");
  await expect(other.getByTestId("inside-wrong")).toHaveValue(" cat");
  await expect(other.getByTestId("dla-pair")).toContainText('"␣mat" − "␣cat"', { timeout: 60_000 });
  await expect(other.getByTestId("inside-pair")).toContainText("your choice");
});

test("normalised patching warns when clean and corrupted barely differ, and offers the raw metric", async ({ page }) => {
  // The probability of a token neither prompt predicts: both metrics are near 0.
  await openLab(page, "v=1&view=patch&sweeps=resid_pre&metric=prob&answer=%20z");
  const heatmap = page.locator('[data-heatmap="patch-resid_pre"]');
  await expect(heatmap).toBeVisible({ timeout: 60_000 });
  const [clean, corrupted] = await page.getByTestId("patch-results").locator("p.muted").first().evaluate((p) =>
    (p.textContent!.match(/clean (\S+) · corrupted (\S+)/) ?? []).slice(1).map(Number));
  expect(Math.abs(clean - corrupted)).toBeLessThan(0.05);
  await expect(page.getByTestId("small-difference")).toContainText("too little to normalise by");
  await page.getByTestId("small-difference-raw").click();
  await expect(heatmap).not.toContainText("(normalised)", { timeout: 60_000 });
  await expect(heatmap).toContainText('prob of "␣z"');
  await expect(page.getByTestId("small-difference")).toHaveCount(0);
  await expect(page.getByTestId("normalize")).not.toBeChecked();
  expect(await settledHash(page, "normalize=false")).toContain("normalize=false");

  // The default IOI pair differs clearly: no warning.
  const other = await page.context().newPage();
  await openLab(other, "v=1&view=patch&sweeps=resid_pre");
  await expect(other.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(other.getByTestId("small-difference")).toHaveCount(0);
});

test("a link's out-of-range fields give a notice naming the field and the default, never a clamp or a huge run", async ({ page }) => {
  await openLab(page, "v=1&view=inside&layer=7&head=9&position=500");
  const notices = page.locator('[data-notice="warning"]');
  await expect(notices.filter({ hasText: "layer 7 is out of range for this model (0–3)" })).toHaveCount(1);
  await expect(notices.filter({ hasText: "head 9 is out of range for this model (0–3)" })).toHaveCount(1);
  await expect(notices.filter({ hasText: /position 500 is out of range for this prompt \(0–\d+\)/ })).toHaveCount(1, { timeout: 30_000 });
  await expect(page.getByTestId("attention-layer")).toHaveValue("0", { timeout: 60_000 });
  expect(await settledHash(page, "view=inside")).not.toMatch(/layer=|head=|position=/);
  // A link opened in the same page (hashchange) is checked against the loaded model too.
  await page.evaluate(() => (location.hash = "#v=1&view=inside&layer=9"));
  await expect(notices.filter({ hasText: "layer 9 is out of range for this model (0–3)" })).toHaveCount(1);
  await expect(page.getByTestId("attention-layer")).toHaveValue("0");
  // Past what any model the loader accepts: refused before the model loads.
  const beyond = await page.context().newPage();
  await openLab(beyond, "v=1&layer=999");
  await expect(beyond.locator('[data-notice="warning"]')).toContainText("layer 999 is out of range (0–255)");

  // A sweep list longer than the lab writes is refused by name; the default sweeps run. 100,000
  // sweeps (a short link when compressed) are more than any experiment holds: refused whole.
  const { compress } = await import("lz-string").then((m) => ({ compress: m.default.compressToEncodedURIComponent }));
  const sweeps = (n: number) => compress(JSON.stringify({ view: "patch", sweeps: Array(n).fill("resid_pre").join(",") }));
  const huge = await page.context().newPage();
  await openLab(huge, `v=1&z=${sweeps(100_000)}`);
  await expect(huge.locator('[data-notice="warning"]')).toContainText("larger than any the lab writes");
  const other = await page.context().newPage();
  await openLab(other, `v=1&z=${sweeps(1000)}`);
  await expect(other.locator('[data-notice="warning"]')).toContainText("sweeps lists more than the 9 activations");
  await expect(other.locator('[data-heatmap="patch-head_out"]')).toBeVisible({ timeout: 90_000 });
  await expect(other.locator('[data-heatmap^="patch-"]')).toHaveCount(4);
});
