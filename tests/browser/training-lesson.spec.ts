// The training view and its lesson on hooklab-induction in Chromium: the loss curve with the
// checkpoints of models/hooklab-induction/training_loss.json, the head detectors run on every
// checkpoint, scrubbed with the slider, and the formation-step question graded wrong and right.
// The expected numbers are recomputed here through the public API, checkpoint by checkpoint.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const record = JSON.parse(readFileSync(join(root, "models/hooklab-induction/training_loss.json"), "utf8")) as {
  steps: number; checkpoints: Array<{ step: number; path: string }>;
};

type Best = { step: number; induction: number; head: string; previous: number };

test("training lesson: checkpoints scored and scrubbed, the formation step graded wrong and right", async ({ page }) => {
  test.setTimeout(300_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`/index.html#v=1&model=hooklab-induction&lesson=${encodeURIComponent("/models/lessons/3b-induction-heads-forming.md")}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("lesson-title")).toHaveText("Watching induction heads form during training");

  // The loss curve is there before anything is scored, with one mark per checkpoint.
  await page.locator('[data-lesson-view="training"] button').click();
  await expect(page.locator('[data-chart="training-loss"]')).toBeVisible();
  await expect(page.getByTestId("training-slider")).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId("training-status")).toHaveText("");

  // Every checkpoint and the finished model, scored independently through the public API.
  const expected = await page.evaluate(async ({ checkpoints, steps }) => {
    const { HookedTransformer } = (window as unknown as { hooklabLab: { HookedTransformer: typeof import("../../web/src/engine").HookedTransformer } }).hooklabLab;
    const out: Best[] = [];
    for (const c of [...checkpoints, { step: steps, path: "" }]) {
      const model = await HookedTransformer.load({ bundled: c.path ? `hooklab-induction/${c.path}` : "hooklab-induction" }, { singleThreaded: true, backend: "wasm" });
      const d = await model.detectHeads();
      model.dispose();
      const argmax = (a: Float64Array) => a.reduce((b, v, i) => (v > a[b] ? i : b), 0);
      const i = argmax(d.inductionDiagonal);
      out.push({ step: c.step, induction: d.inductionDiagonal[i], head: `L${Math.floor(i / d.shape[1])}H${i % d.shape[1]}`,
        previous: d.previousTokenDiagonal[argmax(d.previousTokenDiagonal)] });
    }
    return out;
  }, { checkpoints: record.checkpoints, steps: record.steps });
  expect(expected.length).toBe(record.checkpoints.length + 1);
  const last = expected[expected.length - 1];
  const formed = expected.find((b) => b.induction >= last.induction / 2)!.step;

  // The slider starts at the finished model; scrubbing shows each checkpoint's own scores.
  const summary = page.getByTestId("training-summary");
  await expect(summary).toContainText(`Step ${record.steps} (the finished model): best induction head ${last.head} ${last.induction.toFixed(3)}`);
  await page.getByTestId("training-slider").fill("0");
  await expect(summary).toContainText(`Step ${expected[0].step}: best induction head ${expected[0].head} ${expected[0].induction.toFixed(3)}`);
  await expect(summary).toContainText(`best previous-token head L`);
  await expect(page.locator('[data-chart="training-detectors"]')).toBeVisible();
  // The scored panel passes axe (WCAG 2 A/AA) like every other view.
  const axe = await new AxeBuilder({ page }).include('[data-testid="training"]').withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);

  // The question's answer is computed from the same checkpoints.
  await page.getByTestId("lesson-next").click();
  const answer = async (text: string, right: boolean) => {
    await page.getByTestId("answer-formed").fill(text);
    await page.getByTestId("check-formed").click();
    await expect(page.getByTestId("grade-formed")).toHaveClass(right ? /lesson-right/ : /lesson-wrong/, { timeout: 120_000 });
  };
  await answer(String(formed + 1000), false);
  await answer(String(formed), true);
  expect(errors).toEqual([]);
});
