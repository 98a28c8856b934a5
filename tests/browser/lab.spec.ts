// The lab as a user meets it, in Chromium: the demo model's tokens and predictions, a
// patching sweep whose heatmap cells equal the engine's numbers, the attention view, a shared
// URL that reproduces the view, an embed in a plain course page, hostile input, screenshots.
import { test, expect, type Page } from "@playwright/test";

async function openLab(page: Page, fragment = "", path = "/index.html") {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`${path}${fragment ? `#${fragment}` : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  return dialogs;
}

/** Values of a heatmap as rendered: data-value of every cell, by [row][col]. */
async function heatmapValues(page: Page, id: string): Promise<number[][]> {
  return page.locator(`[data-heatmap="${id}"]`).evaluate((fig) => {
    const out: number[][] = [];
    fig.querySelectorAll("rect[data-row]").forEach((r) => {
      const row = Number(r.getAttribute("data-row")), col = Number(r.getAttribute("data-col"));
      (out[row] ??= [])[col] = Number(r.getAttribute("data-value"));
    });
    return out;
  });
}

test("user journey: tokens, top-k, a resid_pre sweep equal to the engine, attention, shared URL", async ({ page, context }) => {
  const dialogs = await openLab(page);
  await expect(page.getByTestId("model-config")).toContainText("layers");

  // Type a prompt: tokens and predictions follow.
  await page.getByTestId("prompt").fill("The cat sat on the mat. The cat");
  await expect(page.getByTestId("tokens").locator("[data-position]")).toHaveCount(10);
  await expect(page.getByTestId("tokens").locator('[data-position="0"]')).toHaveClass(/bos/);
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
  await page.getByTestId("tokens").locator('[data-position="2"]').click();
  await expect(page.getByTestId("topk-table").locator("caption")).toContainText("position 2");

  // The patching experiment (the default IOI pair).
  await page.getByRole("tab", { name: "Activation patching" }).click();
  await expect(page.getByTestId("answer-status")).toContainText("id");
  await page.getByTestId("run-patch").click();
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("patch-status")).toHaveText("", { timeout: 60_000 });
  const shown = await heatmapValues(page, "patch-resid_pre");
  const engine = await page.evaluate(async () => {
    const { HookedTransformer } = (window as unknown as { hooklabLab: { HookedTransformer: typeof import("../../web/src/engine").HookedTransformer } }).hooklabLab;
    const model = await HookedTransformer.load("hooklab-demo");
    const r = await model.patch({
      sweep: "resid_pre", clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to", answers: [[" Mary", " John"]], normalize: true,
    });
    model.dispose();
    return { shape: r.shape, values: Array.from(r.values) };
  });
  expect([shown.length, shown[0].length]).toEqual(engine.shape);
  shown.flat().forEach((v, i) => expect(v).toBeCloseTo(engine.values[i], 10));

  // Click a cell: the attention and lens of that layer open.
  await page.locator('[data-heatmap="patch-resid_pre"] rect[data-row="1"][data-col="10"]').click();
  await expect(page.getByRole("tab", { name: "Inside the model" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("attention-layer")).toHaveValue("1");
  await page.locator('[data-testid="attention"] figure[data-head="2"]').click();
  await expect(page.locator('[data-heatmap="attention-L1H2"]')).toBeVisible();
  // The clicked position belongs to the clean prompt (15 tokens), not the 10 typed above.
  await expect(page.getByTestId("attention").locator("span.token[data-position]")).toHaveCount(15);
  await expect(page.getByText(/out of range/)).toHaveCount(0);

  // Share: the URL reproduces the view in a new page.
  await page.getByTestId("share").click();
  const url = page.url();
  expect(url).toContain("#v=1");
  const other = await context.newPage();
  await openLab(other, url.split("#")[1]);
  await expect(other.getByRole("tab", { name: "Inside the model" })).toHaveAttribute("aria-selected", "true");
  await expect(other.getByTestId("attention-layer")).toHaveValue("1");
  await expect(other.locator('[data-heatmap="attention-L1H2"]')).toBeVisible({ timeout: 60_000 });
  const a = await heatmapValues(page, "attention-L1H2");
  const b = await heatmapValues(other, "attention-L1H2");
  expect(b).toEqual(a);
  expect(dialogs).toEqual([]);
});

test("f16 weights: the model reloads with half the matrix memory, predictions stay within the rounding, the link keeps it", async ({ page, context }) => {
  await openLab(page);
  const config = page.getByTestId("model-config");
  await expect(config).toContainText("f32 weights");
  const topRow = page.getByTestId("topk-table").locator("tbody tr").first();
  await expect(topRow).toBeVisible();
  const read = async () => ({ token: await topRow.getAttribute("data-token"),
    logit: Number(await topRow.locator("td[data-logit]").getAttribute("data-logit")) });
  const f32 = await read();
  const megabytes = async () => Number(/weights ([\d.]+) MB/.exec((await config.textContent()) ?? "")![1]);
  const f32Bytes = await megabytes();

  await page.getByTestId("weights-select").selectOption("f16");
  await expect(config).toContainText("f16 weights", { timeout: 60_000 });
  await expect(topRow).toBeVisible();
  const f16 = await read();
  expect(f16.token).toBe(f32.token);
  // docs/half-precision.md: the rounding moves a logit by at most 8u = 3.9e-3 of the largest.
  console.log(`top logit f32 ${f32.logit}, f16 ${f16.logit}`);
  expect(Math.abs(f16.logit - f32.logit)).toBeLessThan(3.9e-3 * Math.max(1, Math.abs(f32.logit)));
  expect(f16.logit).not.toBe(f32.logit);
  // The demo's matrices are most of its weights: the total falls by well over a quarter.
  expect(await megabytes()).toBeLessThan(0.75 * f32Bytes);

  await page.getByTestId("share").click();
  const other = await context.newPage();
  await openLab(other, page.url().split("#")[1]);
  await expect(other.getByTestId("weights-select")).toHaveValue("f16");
  await expect(other.getByTestId("model-config")).toContainText("f16 weights", { timeout: 60_000 });
  const again = other.getByTestId("topk-table").locator("tbody tr").first();
  await expect(again).toHaveAttribute("data-token", f16.token!);
  expect(Number(await again.locator("td[data-logit]").getAttribute("data-logit"))).toBe(f16.logit);
});

test("a shared patching link opens with the same heatmap", async ({ page, context }) => {
  await openLab(page, "v=1&view=patch&sweeps=resid_pre,head_out");
  await expect(page.locator('[data-heatmap="patch-head_out"]')).toBeVisible({ timeout: 60_000 });
  const first = await heatmapValues(page, "patch-head_out");
  const other = await context.newPage();
  await openLab(other, "v=1&view=patch&sweeps=resid_pre,head_out");
  await expect(other.locator('[data-heatmap="patch-head_out"]')).toBeVisible({ timeout: 60_000 });
  expect(await heatmapValues(other, "patch-head_out")).toEqual(first);
});

test("the embed snippet works in a plain course page (no isolation)", async ({ page, baseURL }) => {
  await openLab(page, "v=1&view=patch&sweeps=resid_pre");
  await page.getByTestId("embed").click();
  const snippet = await page.getByTestId("embed-snippet").inputValue();
  const component = snippet.slice(snippet.indexOf("<script"));
  await page.route(`${baseURL}/course/page.html`, (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html><body><h1>Week 3: activation patching</h1>${component}</body></html>`,
  }));
  await page.goto(`${baseURL}/course/page.html`);
  const frame = page.frameLocator("hooklab-experiment iframe");
  await expect(frame.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 90_000 });
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await expect(frame.getByTestId("model-config")).toContainText("1 thread");
});

test("the bundled models ask for no file they lack: no failed request, no console or page error; their own files load", async ({ page }) => {
  const failures: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") failures.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
  page.on("response", (r) => { if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`); });
  page.on("requestfailed", (r) => failures.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  const shipped = (path: string) => page.waitForResponse((r) => r.url().endsWith(path));
  // The head detectors (Inside the model) draw their random tokens from the ids the demo was trained on.
  const tokenIds = shipped("/models/hooklab-demo/eval/trained_token_ids.json");
  await openLab(page, "v=1&view=inside");
  await expect(page.locator('[data-heatmap="detect-induction"]')).toBeVisible({ timeout: 60_000 });
  expect((await tokenIds).status()).toBe(200);
  // hooklab-induction ships a training record and no token-id list: its detectors run without one.
  const record = shipped("/models/hooklab-induction/training_loss.json");
  await page.getByTestId("model-select").selectOption("hooklab-induction");
  expect((await record).status()).toBe(200);
  await expect(page.getByTestId("model-config")).toContainText("hooklab-induction", { timeout: 60_000 });
  await expect(page.getByTestId("detectors").locator('[data-heatmap="detect-induction"] rect[data-row="1"]')).toHaveCount(2,
    { timeout: 60_000 });
  expect(failures).toEqual([]);
});

test("hostile prompts and URLs render as text or are rejected with a notice", async ({ page }) => {
  const payload = `<script>alert("x")</script>"><img src=x onerror=alert(1)>`;
  const dialogs = await openLab(page, `v=1&prompt=${encodeURIComponent(payload)}&answer=${encodeURIComponent('"><svg onload=alert(2)>')}`);
  await expect(page.getByTestId("prompt")).toHaveValue(payload);
  await expect(page.getByTestId("tokens").locator("[data-position]").first()).toBeVisible();
  expect(await page.locator("img, svg[onload], script:not([type=module])").evaluateAll((els) => els.map((e) => e.outerHTML))
    .then((list) => list.filter((h) => h.includes("onerror") || h.includes("onload") || h.includes('alert("x")')))).toEqual([]);
  await page.getByTestId("prompt").fill(`${payload} ${"very long ".repeat(120)}`);
  await expect(page.locator('[data-notice="error"]').last()).toContainText("n_ctx");

  for (const [fragment, expected] of [
    ["v=1&z=%%%not-lz%%%", "damaged"],
    ["v=99&prompt=hi", "newer hooklab"],
    ["prompt=no-version", "no hooklab version"],
    [`v=1&prompt=${"x".repeat(5000)}`, "longer than"],
    ["v=1&layer=abc&model=..%2F..%2Fetc", "Could not restore"],
  ]) {
    const p = await page.context().newPage();
    const d = await openLab(p, fragment);
    await expect(p.locator('[data-notice="warning"]').first()).toContainText(expected);
    expect(d).toEqual([]);
    await p.close();
  }
  const legacy = await page.context().newPage();
  await legacy.goto("/index.html?prompt=Hello%20there&bos=0");
  await expect(legacy.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(legacy.locator('[data-notice="warning"]')).toContainText("old query-string format");
  await expect(legacy.getByTestId("prompt")).toHaveValue("Hello there");
  expect(dialogs).toEqual([]);
});

test("answers that are not single tokens get suggestions; mismatched lengths warn", async ({ page }) => {
  await openLab(page, "v=1&view=patch&answer=Maryanne&corrupted=When%20Mary%20and%20John%20went%20to%20the%20store%2C%20Mary%20gave%20a%20bottle%20of%20milk%20to");
  await expect(page.getByTestId("answer-status")).toContainText("not a single token");
  await expect(page.getByTestId("length-warning")).toContainText("different lengths");
  await expect(page.getByTestId("run-patch")).toBeDisabled();
});

test("exports: CSV and JSON of a heatmap hold its numbers, PNG and SVG download", async ({ page }) => {
  await openLab(page, "v=1&view=patch&sweeps=head_out");
  await expect(page.locator('[data-heatmap="patch-head_out"]')).toBeVisible({ timeout: 60_000 });
  const block = page.locator(".heatmap-block").filter({ has: page.locator('[data-heatmap="patch-head_out"]') });
  const values = (await heatmapValues(page, "patch-head_out")).flat();
  for (const kind of ["csv", "json", "svg", "png"]) {
    const [download] = await Promise.all([page.waitForEvent("download"), block.locator(`[data-export="${kind}"]`).click()]);
    expect(download.suggestedFilename()).toBe(`patch-head_out.${kind}`);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (kind === "json") expect(JSON.parse(body.toString()).values).toEqual(values);
    if (kind === "csv") expect(body.toString().split("\r\n")[1].split(",").slice(1).map(Number)).toEqual(values.slice(0, values.length / (await heatmapValues(page, "patch-head_out")).length));
    if (kind === "svg") expect(body.toString()).toContain("<svg");
    if (kind === "png") expect(body.subarray(1, 4).toString()).toBe("PNG");
  }
});

test.describe("screenshots", () => {
  test.use({ viewport: { width: 1200, height: 900 } });
  for (const [name, fragment, ready] of [
    ["predictions", "v=1", "topk-table"],
    ["inside", "v=1&view=inside&layer=1&head=0", "lens"],
    ["patching", "v=1&view=patch", "patch-results"],
  ] as const) {
    test(`${name} view`, async ({ page }) => {
      await openLab(page, fragment);
      await expect(page.getByTestId(ready)).toBeVisible();
      if (name === "patching") await expect(page.locator('[data-heatmap="patch-head_out"]')).toBeVisible({ timeout: 60_000 });
      if (name === "inside") await expect(page.locator('[data-heatmap="detect-induction"]')).toBeVisible({ timeout: 60_000 });
      await page.evaluate(() => document.fonts.ready);
      await expect(page).toHaveScreenshot(`${name}.png`, {
        fullPage: true, maxDiffPixelRatio: 0.01,
        // The backend/thread count depends on the machine; numbers are rounded in the page.
        mask: [page.getByTestId("model-config")],
      });
    });
  }
});
