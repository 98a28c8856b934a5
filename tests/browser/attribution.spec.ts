// Gradients and attribution patching through the engine in real Chromium, both wasm builds:
// runWithCache(inclBwd) against the autograd fixtures and the native CLI, attribute() against
// the CLI's `attribute`, dataset sweeps, and the errors of bad names.
import { test, expect, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(new URL("../..", import.meta.url).pathname);
const cli = join(root, "build/native/hooklab");
const CLEAN = "When Mary and John went to the store, John gave a drink to";
const CORRUPTED = "When Mary and John went to the store, Mary gave a drink to";

async function open(page: Page, isolated: boolean) {
  await page.goto(isolated ? "/harness.html" : "/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
}

/** float32/float64 .npy (C order) as a plain array. */
function readNpy(path: string): { shape: number[]; values: number[] } {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString("latin1", 10, 10 + headerLen);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = new Uint8Array(buf.subarray(10 + headerLen)).buffer;
  const values = /'descr':\s*'<f8'/.test(header) ? new Float64Array(bytes) : new Float32Array(bytes);
  return { shape, values: Array.from(values) };
}

function runCli(args: string[]): string {
  return execFileSync(cli, [...args, "--model", join(root, "models/testdata/tiny-a")], { encoding: "utf8", maxBuffer: 1 << 26 });
}

for (const isolated of [false, true]) {
  const label = isolated ? "pthreads build (isolated page)" : "single-threaded build";

  test(`${label}: runWithCache(inclBwd) gradients equal the autograd fixtures, hooks included`, async ({ page }) => {
    await open(page, isolated);
    const report = await page.evaluate(async (threads) => {
      const { HookedTransformer } = window.hooklab;
      const manifest = await (await fetch("/repo/tests/fixtures/gradients/manifest.json")).json();
      const npy = async (path: string) => {
        const buf = await (await fetch(path)).arrayBuffer();
        const headerLen = new DataView(buf).getUint16(8, true);
        return new Float32Array(buf.slice(10 + headerLen));
      };
      // Fixture hooks ({name, action: zero|scale, heads?, positions?, factor?}): zero is a built-in
      // action; scale is a hook function, sent as source text with the fixture's numbers inlined.
      const scaleSource = (h: unknown) => `(t) => { const h = ${JSON.stringify(h)};
        const s = t.shape, attention = /hook_(pattern|attn_scores)$/.test(h.name), inner = s.slice(2).reduce((a, b) => a * b, 1);
        const pick = (list, i, n) => !list || list.some((x) => (x < 0 ? x + n : x) === i);
        for (let a = 0; a < s[1]; a++) for (let b = 0; b < (s.length > 2 ? s[2] : 1); b++) {
          const pos = attention ? b : a, head = attention ? a : b;
          if (s.length === 4 && !pick(h.heads, head, attention ? s[1] : s[2])) continue;
          if (!pick(h.positions, pos, attention ? s[2] : s[1])) continue;
          const rest = s.length > 2 ? inner / s[2] : inner, at = (a * (s.length > 2 ? s[2] : 1) + b) * rest;
          for (let i = 0; i < rest; i++) t.data[at + i] *= h.factor;
        } }`;
      type FixtureHook = { name: string; action: string; heads?: number[]; positions?: number[] };
      const hook = (h: FixtureHook) => [h.name, h.action === "zero" ? { kind: "zero", heads: h.heads, positions: h.positions }
        : new Function(`return ${scaleSource(h)}`)()] as [string, never];
      const models = new Map<string, Awaited<ReturnType<typeof HookedTransformer.load>>>();
      const problems: string[] = [];
      let checked = 0, worst = 0;
      for (const c of manifest.cases) {
        const key = `${c.model}|${c.processing}`;
        if (!models.has(key)) models.set(key, await HookedTransformer.load({ url: `/repo/${c.model}/` }, { processing: c.processing, threads }));
        const model = models.get(key)!;
        const m = c.metric;
        const { grads, metricValue } = await model.runWithCache(c.tokens, {
          useAttnResult: c.use_attn_result, inclBwd: true, namesFilter: [],
          gradNamesFilter: () => true,
          metric: { kind: m.kind, answers: m.pairs, position: m.position ?? undefined,
            linearWeights: m.weights_file ? await npy(`/repo/${m.weights_file}`) : undefined },
          fwdHooks: c.fwd_hooks.map(hook), bwdHooks: c.bwd_hooks.map(hook),
        });
        if (Math.abs(metricValue! - c.metric_value) > 1e-5 * Math.max(1, Math.abs(c.metric_value))) problems.push(`${c.id}: metric ${metricValue} vs ${c.metric_value}`);
        const names = Object.keys(c.grad_max_abs);
        if (grads!.keys().join() !== names.map((n) => `${n}_grad`).join()) problems.push(`${c.id}: gradient names`);
        for (const name of names) {
          const ref = await npy(`/repo/${c.dir}/${name}_grad.npy`);
          const got = grads!.get(`${name}_grad`).data;
          let maxRef = 0, maxDiff = 0;
          for (let i = 0; i < ref.length; i++) maxRef = Math.max(maxRef, Math.abs(ref[i]));
          for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
          // The project's rule (1e-5 x max(1, max|ref|)) against the float64 autograd reference.
          const tol = 1e-5 * Math.max(1, maxRef);
          if (!(maxDiff <= tol) || got.length !== ref.length) problems.push(`${c.id} ${name}: max|diff| ${maxDiff} > ${tol}`);
          worst = Math.max(worst, maxDiff / tol);
          checked++;
        }
      }
      for (const m of models.values()) m.dispose();
      return { problems: problems.slice(0, 20), checked, worst, cases: manifest.cases.length };
    }, isolated ? 2 : 1);
    console.log(`${label}: ${report.cases} gradient cases, ${report.checked} gradients, worst max|diff|/tol ${report.worst.toFixed(3)}`);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBeGreaterThan(300);
  });

  test(`${label}: gradients and attribute() equal the native CLI`, async ({ page }) => {
    test.skip(!existsSync(cli), "build/native/hooklab is not built (npm run build:native)");
    const dir = mkdtempSync(join(tmpdir(), "hooklab-grad-"));
    const hooks = ["hook_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_z", "blocks.1.mlp.hook_post", "blocks.1.hook_resid_post"];
    let expected: Record<string, { shape: number[]; values: number[] }>;
    const sweeps: Array<[string, string]> = [["resid_pre", "atp"], ["head_out", "atp"], ["head_q", "atp-star"], ["head_k_by_pos", "atp-star"], ["mlp_out", "atp-star"]];
    const attributions: Record<string, number[]> = {};
    try {
      runCli(["cache", "--grad", "--prompt", CLEAN, "--answer", " Mary", "--wrong", " John", "--out", dir]);
      expected = Object.fromEntries(hooks.map((h) => [h, readNpy(join(dir, `${h}_grad.npy`))]));
      for (const [act, method] of sweeps) {
        const out = JSON.parse(runCli(["attribute", "--clean", CLEAN, "--corrupted", CORRUPTED, "--answer", " Mary", "--wrong", " John", "--act", act, "--method", method]));
        attributions[`${act} ${method}`] = out.values;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await open(page, isolated);
    const r = await page.evaluate(async ({ threads, hooks, sweeps, CLEAN, CORRUPTED }) => {
      const { HookedTransformer } = window.hooklab;
      const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" }, { threads });
      const { grads, metricValue } = await model.runWithCache(CLEAN, { inclBwd: true, metric: { kind: "logit_diff", answers: [[" Mary", " John"]] } });
      const got: Record<string, { shape: number[]; values: number[] }> = {};
      for (const h of hooks) got[h] = { shape: grads!.get(h).shape, values: Array.from(grads!.get(`${h}_grad`).data) };
      const shortForm = grads!.get("z", 1) === grads!.get("blocks.1.attn.hook_z_grad");
      const request = { clean: CLEAN, corrupted: CORRUPTED, answers: [[" Mary", " John"]] as Array<[string, string]> };
      const attributions: Record<string, number[]> = {};
      // One session answers several sweeps (both methods), as the lab asks for them.
      for (const method of ["atp", "atp-star"] as const) {
        const names = sweeps.filter(([, m]) => m === method).map(([s]) => s) as Array<"resid_pre">;
        const results = await model.attribute({ ...request, method, sweeps: names });
        results.forEach((res, i) => (attributions[`${names[i]} ${method}`] = Array.from(res.values)));
      }
      const single = await model.attribute({ ...request, method: "atp", sweep: "resid_pre" });
      model.dispose();
      return { got, metricValue, shortForm, attributions, single: { method: single.method, shape: single.shape } };
    }, { threads: isolated ? 2 : 1, hooks, sweeps, CLEAN, CORRUPTED });
    const close = (what: string, a: number[], e: number[]) => {
      const tol = 1e-5 * Math.max(1, ...e.map(Math.abs));
      const maxDiff = Math.max(...e.map((v, i) => Math.abs(v - a[i])));
      expect(a.length, what).toBe(e.length);
      expect(maxDiff, `${what}: max|diff| vs tolerance ${tol}`).toBeLessThanOrEqual(tol);
    };
    for (const h of hooks) {
      expect(r.got[h].shape, h).toEqual(expected[h].shape);
      close(`${h}_grad`, r.got[h].values, expected[h].values);
    }
    for (const key of Object.keys(attributions)) close(`attribute ${key}`, r.attributions[key], attributions[key]);
    expect(r.shortForm).toBe(true);
    expect(r.single).toEqual({ method: "atp", shape: [2, 15] });
    expect(Number.isFinite(r.metricValue)).toBe(true);
  });
}

test("attribution: bad names and datasets give clear errors; compareSweeps; the worker stays usable", async ({ page }) => {
  await open(page, false);
  const r = await page.evaluate(async ({ CLEAN, CORRUPTED }) => {
    const { HookedTransformer } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const base = { clean: CLEAN, corrupted: CORRUPTED, answers: [[" Mary", " John"]] as Array<[string, string]> };
    const message = (p: Promise<unknown>) => p.then(() => "no error", (e: Error) => e.message);
    const out: Record<string, unknown> = {};
    out.badSweep = await message(model.attribute({ ...base, method: "atp", sweep: "resid" as never }));
    out.badMethod = await message(model.attribute({ ...base, method: "atp-fast" as never, sweep: "resid_pre" }));
    out.exactMethod = await message(model.attribute({ ...base, method: "exact" as never, sweep: "resid_pre" }));
    out.rank = await message(model.attribute({ ...base, method: "atp", sweep: "resid_pre", metric: "rank" }));
    out.badMetric = await message(model.runWithCache(CLEAN, { inclBwd: true, metric: { kind: "logit_dif" as never } }));
    out.badPatchMetric = await message(model.patch({ ...base, sweep: "resid_pre", metric: "probability" as never }));
    out.badDirection = await message(model.patch({ ...base, sweep: "resid_pre", direction: "sideways" as never }));
    out.noBwd = await message(model.runWithCache(CLEAN, { metric: { kind: "loss" } }));
    const line = JSON.stringify({ clean: CLEAN, corrupted: CORRUPTED, answer: " Mary", wrong: " John" });
    out.badLine = await message(model.patchDataset({ sweep: "resid_pre", method: "atp" }, `${line}\n{"clean": "<img src=x onerror=alert(1)>", "corrupted": "x"}`));
    out.notJson = await message(model.patchDataset({ sweep: "resid_pre" }, `${line}\n${line}\nnot json`));
    const dataset = await model.patchDataset({ sweep: "resid_pre", method: "atp" }, `${line}\n${line.replace("drink", "book")}`, { bootstrap: 200, seed: 3 });
    out.dataset = { pairs: dataset.pairs, shape: dataset.shape, ordered: dataset.mean.every((m, i) => dataset.ciLow[i] <= m + 1e-9 && m <= dataset.ciHigh[i] + 1e-9) };
    out.agreement = await model.compareSweeps([1, 2, 3, 4], [2, 4, 6, 8]);
    out.after = (await model.attribute({ ...base, method: "atp", sweep: "resid_pre" })).shape;
    model.dispose();
    return out;
  }, { CLEAN, CORRUPTED });
  expect(r.badSweep).toContain("unknown patching activation 'resid'");
  expect(r.badMethod).toContain("unknown patching method 'atp-fast'");
  expect(r.exactMethod).toContain("patch()");
  expect(r.rank).toContain("'rank' has no gradient");
  expect(r.badMetric).toContain("unknown metric 'logit_dif'");
  expect(r.badPatchMetric).toContain("unknown metric 'probability'");
  expect(r.badDirection).toContain("unknown patching direction 'sideways'");
  expect(r.noBwd).toContain("inclBwd");
  expect(r.badLine).toMatch(/line 2/);
  expect(r.notJson).toMatch(/line 3/);
  expect(r.dataset).toEqual({ pairs: 2, shape: [2, 15], ordered: true });
  expect((r.agreement as { pearson: number }).pearson).toBeCloseTo(1, 10);
  expect(r.after).toEqual([2, 15]);
});

test("a dataset sweep runs as a job: progress over the pairs, the mean of each pair's own sweep, cancellable", async ({ page }) => {
  await open(page, false);
  const r = await page.evaluate(async ({ CLEAN, CORRUPTED }) => {
    const { HookedTransformer } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const objects = ["drink", "book", "ball", "gift", "card", "note"].map((thing) => ({
      clean: CLEAN.replace("drink", thing), corrupted: CORRUPTED.replace("drink", thing), answer: " Mary", wrong: " John" }));
    const jsonl = objects.map((o) => JSON.stringify(o)).join("\n");
    const fractions: number[] = [];
    const dataset = await model.patchDataset({ sweep: "head_out_by_pos" }, jsonl, { bootstrap: 100, onProgress: (f) => fractions.push(f) });
    // The mean of each cell is the mean of the pairs' own exact sweeps.
    const each = await Promise.all(objects.map((o) => model.patch({ sweep: "head_out_by_pos", clean: o.clean, corrupted: o.corrupted, answers: [[" Mary", " John"]] })));
    let worst = 0;
    dataset.mean.forEach((m, i) => (worst = Math.max(worst, Math.abs(m - each.reduce((s, x) => s + x.values[i], 0) / each.length))));
    const controller = new AbortController();
    const cancelled = await model.patchDataset({ sweep: "head_out_by_pos" }, jsonl, { signal: controller.signal, onProgress: () => controller.abort() })
      .then(() => "finished", (e: Error) => e.name);
    const after = (await model.patch({ sweep: "resid_pre", clean: CLEAN, corrupted: CORRUPTED, answers: [[" Mary", " John"]] })).shape;
    model.dispose();
    return { pairs: dataset.pairs, steps: fractions.length, increasing: fractions.every((f, i) => i === 0 || f >= fractions[i - 1]),
      last: fractions.at(-1), worst, cancelled, after };
  }, { CLEAN, CORRUPTED });
  expect(r.pairs).toBe(6);
  expect(r.steps).toBeGreaterThanOrEqual(6);
  expect(r.increasing).toBe(true);
  expect(r.last).toBe(1);
  expect(r.worst).toBeLessThan(1e-9);
  expect(r.cancelled).toBe("AbortError");
  expect(r.after).toEqual([2, 15]);
});

// ---- The lab: estimates that follow the prompts, estimate vs exact, datasets, shared state.

async function openLab(page: Page, fragment: string, path = "/index.html") {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`${path}#${fragment}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  return dialogs;
}

async function heatmapValues(page: Page, id: string): Promise<number[]> {
  return page.locator(`[data-heatmap="${id}"] rect[data-row]`).evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("data-value"))));
}

test("lab: the AtP estimate follows prompt edits without Run; Run adds estimate vs exact", async ({ page }) => {
  // Not view=patch in the link: a shared patching view runs the exact sweep as it opens.
  const dialogs = await openLab(page, "v=1&method=atp&sweeps=resid_pre,head_out");
  await page.getByRole("tab", { name: "Activation patching" }).click();
  const estimate = page.locator('[data-heatmap="estimate-resid_pre"]');
  await expect(estimate).toHaveAttribute("data-stale", "false", { timeout: 60_000 });
  await expect(page.locator('[data-heatmap="estimate-head_out"]')).toBeVisible();
  await expect(page.locator('[data-heatmap^="patch-"]')).toHaveCount(0);
  const before = await heatmapValues(page, "estimate-resid_pre");

  // Edit the corrupted prompt (same token count): the estimate is recomputed for the new tokens.
  const edited = "When Mary and John went to the store, Mary gave a book to";
  const t0 = Date.now();
  await page.getByTestId("corrupted-prompt").fill(edited);
  await expect(estimate).toHaveAttribute("data-corrupted", edited, { timeout: 10_000 });
  await expect(estimate).toHaveAttribute("data-stale", "false");
  console.log(`estimate after an edit: ${Date.now() - t0} ms (300 ms of it is the debounce)`);
  await expect(estimate.locator("text").filter({ hasText: /^13 ␣book$/ })).toHaveCount(1);
  expect(await heatmapValues(page, "estimate-resid_pre")).not.toEqual(before);
  await expect(page.locator('[data-heatmap^="patch-"]')).toHaveCount(0);

  // Prompts of different lengths: the estimate says why, and shows no numbers of other prompts.
  await page.getByTestId("corrupted-prompt").fill("When Mary and John went to the store, Mary gave a bottle of milk to");
  await expect(page.getByTestId("estimate-status")).toContainText("different lengths");
  await expect(page.locator('[data-heatmap^="estimate-"]')).toHaveCount(0);
  await page.getByTestId("corrupted-prompt").fill(edited);
  await expect(estimate).toHaveAttribute("data-stale", "false", { timeout: 10_000 });

  // Run: the exact sweep, then the comparison per sweep with the disagreeing cells outlined.
  await page.getByTestId("run-patch").click();
  await expect(page.locator('[data-chart="compare-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("agreement-resid_pre")).toContainText(/Pearson -?\d\.\d+ · Spearman -?\d\.\d+ · top-10 overlap \d+ %/);
  await expect(page.locator('[data-chart="compare-head_out"]')).toBeVisible();
  expect(await estimate.locator('rect[data-flagged="true"]').count()).toBeGreaterThan(0);
  await expect(page.getByTestId("disagreements-resid_pre").locator("li").first()).toContainText("exact");

  // Method AtP*: recomputed from the same inputs; the exact sweep is still comparable.
  await page.getByTestId("method").selectOption("atp-star");
  await expect(estimate).toHaveAttribute("data-method", "atp-star", { timeout: 10_000 });
  await expect(page.locator('[data-chart="compare-head_out"]')).toBeVisible();
  // Exact: the estimates go away, the exact heatmaps stay.
  await page.getByTestId("method").selectOption("exact");
  await expect(page.locator('[data-heatmap^="estimate-"]')).toHaveCount(0);
  await expect(page.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible();
  expect(dialogs).toEqual([]);
});

test("lab: dataset panel means with intervals; a hostile line is an error naming it, as text", async ({ page }) => {
  const dialogs = await openLab(page, "v=1&view=patch&sweeps=resid_pre");
  await page.getByTestId("dataset-toggle").click();
  const good = JSON.stringify({ clean: CLEAN, corrupted: CORRUPTED, answer: " Mary", wrong: " John" });
  const hostile = JSON.stringify({ clean: `<img src=x onerror=alert(1)>`, corrupted: `<script>alert("x")</script>`, answer: `"><svg onload=alert(2)>` });
  await page.getByTestId("dataset-input").fill(`${good}\n${hostile}`);
  await page.getByTestId("run-dataset").click();
  await expect(page.getByTestId("dataset-error")).toContainText("line 2");
  expect(await page.locator("img, svg[onload], script:not([type=module])").evaluateAll((els) => els.map((e) => e.outerHTML))
    .then((list) => list.filter((h) => h.includes("onerror") || h.includes("onload") || h.includes("alert")))).toEqual([]);

  await page.getByTestId("dataset-input").fill(`${good}\n${good.replace("drink", "book")}\n${good.replace("store", "park")}`);
  await page.getByTestId("run-dataset").click();
  const mean = page.locator('[data-heatmap="dataset-resid_pre"]');
  await expect(mean).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-heatmap="dataset-ci-resid_pre"]')).toBeVisible();
  await expect(mean).toContainText("mean over 3 pairs");
  await expect(mean.locator("rect[data-row] title").first()).toContainText("95 % CI");
  expect(dialogs).toEqual([]);
});

test("lab: method and dataset survive a shared link and work in the embed; big datasets stay out of links", async ({ page, context }) => {
  await openLab(page, "v=1&view=patch&sweeps=resid_pre");
  await page.getByTestId("method").selectOption("atp");
  await page.getByTestId("dataset-toggle").click();
  const line = JSON.stringify({ clean: CLEAN, corrupted: CORRUPTED, answer: " Mary", wrong: " John" });
  await page.getByTestId("dataset-input").fill(`${line}\n${line.replace("drink", "book")}`);
  await expect(page.locator('[data-heatmap="estimate-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await page.getByTestId("share").click();
  const fragment = page.url().split("#")[1];
  expect(fragment).toContain("method=atp");

  const other = await context.newPage();
  await openLab(other, fragment);
  await expect(other.getByTestId("method")).toHaveValue("atp");
  await expect(other.getByTestId("dataset-input")).toHaveValue(`${line}\n${line.replace("drink", "book")}`);
  await expect(other.locator('[data-heatmap="estimate-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  await expect(other.locator('[data-heatmap="dataset-resid_pre"]')).toBeVisible({ timeout: 60_000 });
  expect(await heatmapValues(other, "estimate-resid_pre")).toEqual(await heatmapValues(page, "estimate-resid_pre"));

  // The same state in an embed (single-threaded, not isolated).
  const embed = await context.newPage();
  await embed.goto(`/plain/index.html?embed=1#${fragment}`);
  await expect(embed.locator('[data-heatmap="estimate-resid_pre"]')).toBeVisible({ timeout: 90_000 });
  await expect(embed.locator('[data-heatmap="dataset-resid_pre"]')).toBeVisible({ timeout: 60_000 });

  // A dataset too large for a link: a note, and the link leaves it out.
  await page.getByTestId("dataset-input").fill(Array.from({ length: 40 }, () => line).join("\n"));
  await expect(page.getByTestId("dataset-share-note")).toContainText("too large to share");
  await page.getByTestId("share").click();
  const big = page.url().split("#")[1];
  const restored = await context.newPage();
  await openLab(restored, big);
  await expect(restored.getByTestId("method")).toHaveValue("atp");
  await expect(restored.getByTestId("dataset-input")).toHaveValue("");
});

test("lab: every layer-by-position and layer-by-head sweep gets an estimate, and Run the exact map beside it", async ({ page }) => {
  await openLab(page, "v=1&method=atp-star&sweeps=resid_mid,head_q,head_k,head_v,head_pattern");
  await page.getByRole("tab", { name: "Activation patching" }).click();
  for (const sweep of ["resid_mid", "head_q", "head_k", "head_v", "head_pattern"]) {
    await expect(page.locator(`[data-heatmap="estimate-${sweep}"]`)).toHaveAttribute("data-stale", "false", { timeout: 60_000 });
  }
  // The demo model has 4 layers and 4 heads: a head sweep is a 4 x 4 map.
  expect(await heatmapValues(page, "estimate-head_q")).toHaveLength(16);
  await page.getByTestId("run-patch").click();
  await expect(page.locator('[data-heatmap="patch-head_pattern"]')).toBeVisible({ timeout: 60_000 });
  expect(await heatmapValues(page, "patch-head_k")).toHaveLength(16);
});

test("lab: a dataset generated from a template and a list of names runs with intervals", async ({ page }) => {
  await openLab(page, "v=1&view=patch&method=atp&sweeps=head_out");
  await page.getByTestId("dataset-toggle").click();
  await page.getByTestId("template-form").locator("summary").click();
  await page.getByTestId("template-names").fill("Mary, John, Tom");
  await page.getByTestId("template-generate").click();
  await expect(page.getByTestId("template-status")).toHaveText("6 pairs");
  const lines = (await page.getByTestId("dataset-input").inputValue()).split("\n").map((l) => JSON.parse(l));
  expect(lines).toHaveLength(6);
  expect(lines[0]).toEqual({ clean: "When Mary and John went to the store, John gave a drink to",
    corrupted: "When Mary and John went to the store, Mary gave a drink to", answer: " Mary", wrong: " John" });
  await page.getByTestId("run-dataset").click();
  const mean = page.locator('[data-heatmap="dataset-head_out"]');
  await expect(mean).toBeVisible({ timeout: 60_000 });
  await expect(mean).toContainText("mean over 6 pairs");
  await page.getByTestId("template-names").fill("Mary");
  await page.getByTestId("template-generate").click();
  await expect(page.getByTestId("template-status")).toHaveText("give at least two names, separated by commas");
});
