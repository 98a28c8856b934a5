// Lesson mode in Chromium: every bundled lesson that works on hooklab-demo walked end to end,
// each question answered wrong then right (the expected answer read from the engine the lab
// runs), a lesson from a URL, a failing URL (clear error, lab still usable), a step link,
// progress kept across reloads, a lesson for other models saying so, lesson 3 walked on
// hooklab-induction (its own prompt of single-byte tokens), and a hostile lesson
// that injects no element of its own.
import { test, expect, type Page } from "@playwright/test";

type Lab = { lab: { loadedModel: import("../../web/src/engine").HookedTransformer; state: { experiment: Record<string, string> } } };

async function openLesson(page: Page, lessonPath: string, step?: number) {
  const url = new URL(lessonPath, "http://127.0.0.1/").pathname;
  await page.goto(`/index.html#lesson=${encodeURIComponent(url)}${step ? `&step=${step}` : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("lesson-title")).toBeVisible();
}

/** Answer a question: the grade shown must say right or wrong as the test expects. */
async function answer(page: Page, id: string, text: string, right: boolean) {
  await page.getByTestId(`answer-${id}`).fill(text);
  await page.getByTestId(`check-${id}`).click();
  const grade = page.getByTestId(`grade-${id}`);
  await expect(grade).toHaveClass(right ? /lesson-right/ : /lesson-wrong/, { timeout: 120_000 });
  await expect(grade).toHaveText(right ? "Correct." : /Not|Write/);
}

async function engine<T>(page: Page, f: string): Promise<T> {
  return page.evaluate(async (body) => {
    const { lab } = (window as unknown as { hooklabLab: Lab }).hooklabLab;
    return new Function("model", "e", `return (async () => { ${body} })()`)(lab.loadedModel, lab.state.experiment);
  }, f) as Promise<T>;
}

const argmaxJs = "const argmax = (a) => Array.from(a).reduce((b, v, i, x) => (v > x[b] ? i : b), 0);";
const logitDiffJs = (prompt: string) => `const { logits } = await model.runWithHooks(${prompt}, { fwdHooks: [] });
  const V = logits.shape[2], last = logits.shape[1] - 1, a = await model.toSingleToken(e.answer), w = await model.toSingleToken(e.wrong);
  return logits.data[last * V + a] - logits.data[last * V + w];`;

test("lesson 1 (tokens, cache, norms, predictions): every question graded wrong and right; progress survives a reload", async ({ page }) => {
  await openLesson(page, "/models/lessons/1-activations.md");
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 1 of 4");
  await expect(page.getByTestId("lesson-model")).toHaveCount(0);
  await expect(page.locator("[data-notice]")).toHaveCount(0);  // a lesson link is not a broken experiment link
  const count = await engine<number>(page, "return (await model.toTokens(e.prompt)).length;");
  expect(count).toBe(15);  // BOS + the IOI prompt's 14 tokens (the comma is one)
  await answer(page, "count", String(count + 1), false);
  await answer(page, "count", String(count), true);
  await page.getByTestId("lesson-next").click();
  const peak = await engine<number>(page, `${argmaxJs} return argmax((await model.residualNorms(e.prompt)).perLayer);`);
  await answer(page, "norm", String((peak + 1) % 4), false);
  await answer(page, "norm", "layer two", false);
  await answer(page, "norm", String(peak), true);
  await page.getByTestId("lesson-next").click();
  await page.locator('[data-lesson-view="attention"] button').click();
  await expect(page.getByRole("tab", { name: "Inside the model" })).toHaveAttribute("aria-selected", "true");
  await page.getByTestId("lesson-next").click();
  const top = await engine<string>(page, "const p = await model.predictions(e.prompt, { k: 1 }); return p.top.at(-1)[0].str;");
  await answer(page, "next", "zzzz", false);
  await answer(page, "next", top, true);
  await expect(page).toHaveURL(/step=4/);

  await page.reload();
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 4 of 4");
  await expect(page.locator('[data-question="next"] .lesson-done')).toBeVisible();
});

test("lesson 2 (logit difference, patching, your turn) on the IOI pair", async ({ page }) => {
  await openLesson(page, "/models/lessons/2-activation-patching.md");
  const clean = await engine<number>(page, logitDiffJs("e.clean"));
  const corrupted = await engine<number>(page, logitDiffJs("e.corrupted"));
  expect(clean).toBeGreaterThan(0);
  expect(corrupted).toBeLessThan(0);
  await answer(page, "clean-ld", (clean + 0.2).toFixed(4), false);
  await answer(page, "clean-ld", (clean - 0.04).toFixed(4), true);
  await answer(page, "corrupt-ld", (-corrupted).toFixed(4), false);
  await answer(page, "corrupt-ld", (corrupted + 0.03).toFixed(4), true);
  await page.getByTestId("lesson-next").click();
  const layer = await engine<number>(page, `${argmaxJs} const r = await model.patch({ sweep: "resid_pre", clean: e.clean, corrupted: e.corrupted, answers: [[e.answer, e.wrong]], normalize: true });
    const P = r.shape[1]; return argmax(Array.from({ length: r.shape[0] }, (_, l) => r.values[l * P + P - 1]));`);
  await answer(page, "layer", String((layer + 1) % 4), false);
  await answer(page, "layer", String(layer), true);
  await page.getByTestId("lesson-next").click();
  const corruptedText = await engine<string>(page, "return e.corrupted;");
  await page.getByTestId("check-flip").click();
  await expect(page.getByTestId("grade-flip")).toHaveClass(/lesson-wrong/, { timeout: 60_000 });
  await expect(page.getByTestId("grade-flip")).toContainText("not yet < 0");
  await page.getByTestId("edit-flip").fill(corruptedText);
  await page.getByTestId("check-flip").click();
  await expect(page.getByTestId("grade-flip")).toHaveClass(/lesson-right/, { timeout: 60_000 });
  await expect(page.getByTestId("grade-flip")).toContainText(`logit-diff = ${Math.round(corrupted * 1000) / 1000}: done!`);
});

test("lesson 4 (attribution vs exact patching): agreement within tolerance and the exact layer", async ({ page }) => {
  await openLesson(page, "/models/lessons/4-attribution-patching.md", 2);
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 2 of 3");
  const r = await engine<number>(page, `const req = { sweep: "resid_pre", clean: e.clean, corrupted: e.corrupted, answers: [[e.answer, e.wrong]], normalize: true };
    const exact = await model.patch(req), atp = await model.attribute({ ...req, method: "atp" });
    return (await model.compareSweeps(atp.values, exact.values)).pearson;`);
  expect(Number.isFinite(r)).toBe(true);
  await answer(page, "agreement", (r + 0.2).toFixed(4), false);
  await answer(page, "agreement", (r + 0.01).toFixed(4), true);
  await page.getByTestId("lesson-next").click();
  const layer = await engine<number>(page, `${argmaxJs} const r = await model.patch({ sweep: "resid_pre", clean: e.clean, corrupted: e.corrupted, answers: [[e.answer, e.wrong]], normalize: true });
    const P = r.shape[1]; return argmax(Array.from({ length: r.shape[0] }, (_, l) => r.values[l * P + P - 1]));`);
  await answer(page, "exact", String((layer + 1) % 4), false);
  await answer(page, "exact", String(layer), true);
});

test("lesson 3 (induction heads) says it needs another model, and grades nothing on this one", async ({ page }) => {
  await openLesson(page, "/models/lessons/3-induction-heads.md");
  await expect(page.getByTestId("lesson-model")).toContainText("works on hooklab-induction, gpt2; the loaded model is hooklab-demo");
  await page.getByTestId("answer-drop").fill("1");
  await page.getByTestId("check-drop").click();
  await expect(page.getByTestId("grade-drop")).toContainText("works on hooklab-induction");
});

test("lesson 3 walked on hooklab-induction: the loss drop and the top induction head graded wrong and right", async ({ page }) => {
  await page.goto(`/index.html#v=1&model=hooklab-induction&lesson=${encodeURIComponent("/models/lessons/3-induction-heads.md")}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("lesson-title")).toBeVisible();
  await expect(page.getByTestId("lesson-model")).toHaveCount(0);
  const drop = await engine<number>(page, `const l = (await model.loss(e.prompt)).perToken, h = Math.floor(l.length / 2);
    let a = 0, b = 0; for (let i = 0; i < h; i++) { a += l[i] / h; b += l[l.length - h + i] / h; } return a - b;`);
  expect(drop).toBeGreaterThan(2);  // the second copy is predicted: an induction model, not a guess
  await answer(page, "drop", (drop + 0.5).toFixed(2), false);
  await answer(page, "drop", drop.toFixed(2), true);
  await page.getByTestId("lesson-next").click();
  const top = await engine<string>(page, `${argmaxJs} const s = await model.detectHeads({ seqLen: 31 }); const i = argmax(s.induction);
    return \`\${Math.floor(i / s.shape[1])}.\${i % s.shape[1]}\`;`);
  await answer(page, "head", top === "1.0" ? "1.1" : "1.0", false);
  await answer(page, "head", top, true);
});

test("a lesson from a URL opens; a failing URL says why and the lab keeps working", async ({ page }) => {
  await openLesson(page, "/repo/tests/fixtures/lessons/from-url.md");
  await expect(page.getByTestId("lesson-title")).toHaveText("A lesson from another site");
  await answer(page, "count", "7", true);  // BOS, The, cat, sat, on, the, mat
  await page.getByTestId("lesson-url").fill("/repo/tests/fixtures/lessons/missing.md");
  await page.getByTestId("lesson-open-url").click();
  await expect(page.getByTestId("lesson-error")).toContainText("404");
  await page.getByTestId("lesson-url").fill("javascript:alert(1)");
  await page.getByTestId("lesson-open-url").click();
  await expect(page.getByTestId("lesson-error")).toContainText("starts with http");
  await page.getByTestId("prompt").fill("The cat sat on the mat. The cat");
  await expect(page.getByTestId("tokens").locator("[data-position]")).toHaveCount(10);
});

test("a hostile lesson injects no element and runs no script of its own", async ({ page }) => {
  await openLesson(page, "/repo/tests/fixtures/lessons/hostile.md");
  const panel = page.getByTestId("lesson-panel");
  await expect(panel.locator(".lesson-error")).toHaveCount(2);
  await expect(panel).toContainText("<script>window.__pwned=4</script>");
  for (const id of ["injected-img", "injected-frame", "injected-link", "injected-svg", "injected-div", "injected-ask", "injected-broken"]) {
    await expect(page.locator(`#${id}`)).toHaveCount(0);
  }
  await expect(panel.locator("script, iframe, svg, img, [onerror], [onload], [onmouseover], [style]")).toHaveCount(0);
  await expect(panel.locator('a[href^="javascript"]')).toHaveCount(0);
  await expect(panel.locator('a[href="https://example.org"]')).toHaveCount(1);
  await expect(panel.getByText("a markdown link")).toBeVisible();  // the text stays, the javascript: link goes
  await page.locator("body").hover();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});

test("a lesson step is shareable and embeddable: the link and both embed snippets carry it", async ({ page }) => {
  await page.goto("/index.html");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await page.getByTestId("lessons-toggle").click();
  await page.getByTestId("lesson-picker").selectOption({ label: "Clean and corrupted prompts, logit difference and activation patching" });
  await page.getByTestId("lesson-open").click();
  await page.getByTestId("lesson-next").click();
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 2 of 3");
  await page.getByTestId("embed").click();
  const snippet = await page.getByTestId("embed-snippet").inputValue();
  expect(snippet).toContain("lesson=http");
  expect(snippet.match(/step=2/g)?.length).toBe(2);  // the iframe and the <hooklab-experiment> element
  const src = /<iframe src="([^"]+)"/.exec(snippet)![1].replace(/&amp;/g, "&");
  expect(src).toContain("?embed=1#");
  await page.goto(src);
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 2 of 3", { timeout: 60_000 });
  await expect(page.getByTestId("lesson-title")).toContainText("activation patching");
});

test("lesson 5 (circuits): path patching to the logits, then to the name mover's queries, keys and values, graded on the engine's numbers", async ({ page }) => {
  await openLesson(page, "/models/lessons/5-circuits.md", 2);
  await expect(page.getByTestId("lesson-step")).toHaveText("Step 2 of 4");
  await page.locator('[data-lesson-view="path-patching"] button').click();
  await expect(page.locator('[data-heatmap="path-patching"]')).toBeVisible({ timeout: 60_000 });
  const strongest = (receivers: string) => `const r = await model.pathPatch({ clean: e.clean, corrupted: e.corrupted, answers: [[e.answer, e.wrong]], receivers: ${receivers} });
    const d = Array.from(r.values, (v) => v - r.receivingMetric); const i = d.indexOf(Math.min(...d));
    return { layer: Math.floor(i / r.shape[1]), head: i % r.shape[1], drop: d[i] };`;
  const mover = await engine<{ layer: number; head: number; drop: number }>(page, strongest("[]"));
  expect(mover.drop).toBeLessThan(-0.5);  // a real name-mover path, not noise
  await answer(page, "mover", `${mover.layer}.${(mover.head + 1) % 4}`, false);
  await answer(page, "mover", `${mover.layer}.${mover.head}`, true);
  await page.getByTestId("lesson-next").click();
  // The step's instruction: click the mover's cell; its queries become the receivers.
  await page.locator(`[data-heatmap="path-patching"] rect[data-row="${mover.layer}"][data-col="${mover.head}"]`).click();
  await expect(page.getByTestId("path-result")).toHaveAttribute("data-receivers", `${mover.layer}.${mover.head}:q`, { timeout: 60_000 });
  // The driver is the strongest sender through the mover's queries, keys or values, whichever input carries it.
  let driver = { layer: -1, head: -1, drop: 0 };
  for (const input of ["q", "k", "v"]) {
    const d = await engine<{ layer: number; head: number; drop: number }>(page,
      strongest(`[{ layer: ${mover.layer}, head: ${mover.head}, input: "${input}" }]`));
    if (d.drop < driver.drop) driver = d;
  }
  expect(driver.layer).toBeLessThan(mover.layer);
  expect(driver.drop).toBeLessThan(-0.5);
  await answer(page, "driver", `${mover.layer}.${mover.head}`, false);
  await answer(page, "driver", `L${driver.layer}H${driver.head}`, true);
});
