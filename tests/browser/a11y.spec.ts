// Accessibility: axe-core (WCAG 2 A/AA rules) on every view of the lab in both themes, with its
// results on screen, must find no serious or critical violation; and a heatmap is usable with
// the keyboard alone.
import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

const VIEWS = ["predict", "inside", "patch", "generate"] as const;

async function openView(page: Page, view: (typeof VIEWS)[number], theme: "light" | "dark"): Promise<void> {
  await page.addInitScript((t) => localStorage.setItem("hooklab-theme", t), theme);
  await page.goto(`/index.html#v=1&view=${view}${view === "patch" ? "&sweeps=resid_pre" : ""}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
  if (view === "patch") await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  if (view === "inside") await expect(page.locator("[data-heatmap]").first()).toBeVisible({ timeout: 60_000 });
  if (view === "predict") await expect(page.getByTestId("topk-table").locator("tbody tr").first()).toBeVisible();
}

for (const theme of ["light", "dark"] as const) {
  for (const view of VIEWS) {
    test(`axe: ${view} view, ${theme} theme: no serious or critical violations`, async ({ page }) => {
      await openView(page, view, theme);
      const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
      const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
      expect(bad).toEqual([]);
    });
  }
}

test("keyboard alone: Tab reaches the patching heatmap, arrows move the cell, Enter opens the inside view there", async ({ page }) => {
  await openView(page, "patch", "light");
  const heatmap = page.locator('[data-heatmap="patch-resid_pre"]');
  for (let presses = 0; presses < 80; presses++) {
    if (await heatmap.evaluate((f) => f === document.activeElement)) break;
    await page.keyboard.press("Tab");
  }
  await expect(heatmap).toBeFocused();
  for (const key of ["ArrowDown", "ArrowDown", "ArrowRight", "ArrowRight", "ArrowLeft"]) await page.keyboard.press(key);
  await expect(heatmap.locator('rect[data-cursor="true"]')).toHaveAttribute("data-row", "2");
  await expect(heatmap.locator('rect[data-cursor="true"]')).toHaveAttribute("data-col", "1");
  await expect(heatmap.locator(".status")).toContainText("2");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("tab", { name: "Inside the model" })).toHaveAttribute("aria-selected", "true");
  const experiment = await page.evaluate(() =>
    (window as unknown as { hooklabLab: { lab: { state: { experiment: { layer: number; position: number } } } } }).hooklabLab.lab.state.experiment);
  expect([experiment.layer, experiment.position]).toEqual([2, 1]);
});

test("every chart's Table button shows its data as a table: one row per heatmap row, a column per position, axe-clean", async ({ page }) => {
  await openView(page, "patch", "light");
  const heatmap = page.locator('[data-heatmap="patch-resid_pre"]');
  const block = page.locator(".heatmap-block", { has: heatmap });
  const rows = new Set(await heatmap.locator("rect[data-row]").evaluateAll((rects) => rects.map((r) => r.getAttribute("data-row"))));
  const cols = new Set(await heatmap.locator("rect[data-col]").evaluateAll((rects) => rects.map((r) => r.getAttribute("data-col"))));
  const toggle = block.locator('button[data-export="table"]');
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  const table = block.locator('[data-table-for="patch-resid_pre"] table');
  await expect(table.locator("tbody tr")).toHaveCount(rows.size);
  await expect(table.locator("thead th")).toHaveCount(cols.size + 1);
  const numbers = await table.locator("tbody td:not(:first-child)").allTextContents();  // the first is the row label
  expect(numbers.length).toBe(rows.size * cols.size);
  expect(numbers.every((t) => Number.isFinite(Number(t)))).toBe(true);
  const results = await new AxeBuilder({ page }).include(".heatmap-block").withTags(["wcag2a", "wcag2aa"]).analyze();
  expect(results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  await toggle.click();
  await expect(table).toHaveCount(0);
});
