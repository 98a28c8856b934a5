// Generation in Chromium: model.generate() streams a step per token through the worker and
// equals the float64 PyTorch reference (tests/fixtures/generation) on both wasm builds; Stop
// (an AbortSignal) ends it between tokens and the model stays usable; bad options are clear
// errors. Then the lab's Generate panel as a user meets it: steering by two prompts or by an
// unembedding / DLA direction, head ablation, and a generated token opened in the other views.
import { test, expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";

const fixtures = JSON.parse(readFileSync(new URL("../fixtures/generation/manifest.json", import.meta.url), "utf8")) as {
  cases: Array<{ id: string; tokens: number[] }>;
};

async function openHarness(page: Page, isolated: boolean) {
  await page.goto(isolated ? "/harness.html" : "/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
}

for (const isolated of [false, true]) {
  const label = isolated ? "pthreads build (isolated page)" : "single-threaded build";

  test(`${label}: generate() streams every step and equals the generation fixtures`, async ({ page }) => {
    await openHarness(page, isolated);
    const report = await page.evaluate(async (isolated) => {
      const { HookedTransformer } = window.hooklab;
      const manifest = await (await fetch("/repo/tests/fixtures/generation/manifest.json")).json();
      const models = new Map<string, Awaited<ReturnType<typeof HookedTransformer.load>>>();
      const problems: string[] = [];
      let worst = 0, variant = "";
      for (const c of manifest.cases) {
        const key = `${c.model}|${c.processing}`;
        if (!models.has(key)) models.set(key, await HookedTransformer.load({ url: `/repo/${c.model}/` }, { processing: c.processing, threads: isolated ? 2 : 1 }));
        const model = models.get(key)!;
        variant = model.variant;
        const s = c.sampling, st = c.steering;
        const streamed: number[] = [];
        const out = await model.generate(c.prompt, {
          maxNewTokens: c.max_new_tokens, temperature: s.temperature, topK: s.top_k, topP: s.top_p, freqPenalty: s.freq_penalty, seed: s.seed,
          steering: st ? [{ hook: st.hook, layer: st.layer, coefficient: st.coefficient, from: st.from, to: st.to, positions: st.positions, by: st.by }] : [],
          onToken: (step, index) => streamed[index] = step.token,
        });
        const tokens = out.steps.map((x) => x.token);
        if (tokens.join() !== c.tokens.join()) problems.push(`${c.id}: tokens ${tokens} vs ${c.tokens}`);
        if (streamed.join() !== c.tokens.join()) problems.push(`${c.id}: streamed ${streamed}`);
        if (Array.from(out.tokens).join() !== [...c.prompt_tokens, ...c.tokens].join()) problems.push(`${c.id}: all tokens`);
        if (out.generatedText !== await model.toString(c.tokens)) problems.push(`${c.id}: text`);
        c.steps.forEach((ref: { prob: number; sample_prob: number; top: number[][] }, k: number) => {
          const mine = out.steps[k];
          const diffs = [mine.prob - ref.prob, mine.sampleProb - ref.sample_prob, ...mine.top.map((t, j) => t.prob - ref.top[j][1])];
          if (mine.top.map((t) => t.token).join() !== ref.top.map((t) => t[0]).join()) problems.push(`${c.id} step ${k}: top-5`);
          for (const d of diffs) worst = Math.max(worst, Math.abs(d));
        });
      }
      for (const m of models.values()) m.dispose();
      return { problems, worst, variant };
    }, isolated);
    expect(report.problems).toEqual([]);
    expect(report.worst).toBeLessThanOrEqual(1e-5);
    expect(report.variant).toBe(isolated ? "mt" : "st");
    console.log(`  ${label}: worst |prob - reference| ${report.worst.toExponential(2)}`);
  });
}

test("Stop (AbortSignal) ends a generation between tokens; the model stays usable; bad options are clear errors", async ({ page }) => {
  await openHarness(page, false);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const controller = new AbortController();
    const seen: number[] = [];
    const outcome = await model.generate("The cat sat", {
      maxNewTokens: 50, temperature: 0.8, seed: 7, signal: controller.signal,
      onToken: (step, index) => {
        seen.push(step.token);
        if (index === 2) controller.abort();
      },
    }).then(() => "finished", (e: Error) => e.name);
    const again = await model.generate("The cat sat", { maxNewTokens: 12, temperature: 0.8, topK: 40, seed: 7 });
    const errors: string[] = [];
    for (const options of [{ temperature: -1 }, { topP: 0 }, { maxNewTokens: 1000 }, { topK: 1.5 },
      { steering: [{ hook: "resid_pre", layer: 7, coefficient: 1, from: "a", to: "b" }] }]) {
      errors.push(await model.generate("The cat sat", options).then(() => "no error", (e: Error) => e.message));
    }
    const logits = (await model.runWithHooks("The cat sat", { fwdHooks: [] })).logits.shape;
    model.dispose();
    return { outcome, seen: seen.length, again: again.steps.map((s) => s.token), errors, logits };
  });
  expect(r.outcome).toBe("AbortError");
  expect(r.seen).toBeGreaterThanOrEqual(3);
  expect(r.seen).toBeLessThan(50);
  // The fixture's a-sample-top-k case: the same prompt, settings and seed after the stop.
  expect(r.again).toEqual(fixtures.cases.find((c) => c.id === "a-sample-top-k")!.tokens);
  expect(r.errors[0]).toMatch(/temperature must be a number in \[0, 1e\+06\], got -1/);
  expect(r.errors[1]).toMatch(/topP must be in \(0, 1\]/);
  expect(r.errors[2]).toMatch(/maxNewTokens \(n_ctx 64 - the prompt's 4 tokens\) must be an integer in \[0, 60\]/);
  expect(r.errors[3]).toMatch(/topK must be an integer/);
  expect(r.errors[4]).toMatch(/steering layer must be an integer in \[0, 1\]/);
  expect(r.logits).toEqual([1, 4, 50257]);
});

type LabWindow = { hooklabLab: { lab: { shareUrl(): string }; HookedTransformer: typeof import("../../web/src/engine").HookedTransformer } };

async function openGeneratePanel(page: Page, fragment: string) {
  await page.goto(`/index.html#${fragment}`);
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("gen-run")).toBeEnabled({ timeout: 60_000 });
}

async function generateInLab(page: Page) {
  await page.getByTestId("gen-run").click();
  for (const column of ["unsteered", "steered"]) {
    await expect(page.locator(`[data-column="${column}"]`)).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  }
  const read = (column: string) => page.getByTestId(`gen-tokens-${column}`).locator("[data-id]").evaluateAll((chips) => chips.map((c) => Number(c.getAttribute("data-id"))));
  return { unsteered: await read("unsteered"), steered: await read("steered"),
    unsteeredText: await page.getByTestId("gen-text-unsteered").textContent(), steeredText: await page.getByTestId("gen-text-steered").textContent() };
}

test("lab Generate panel: tokens stream in, steered vs unsteered columns, a share URL reproduces the text, a token's top-5", async ({ page, context }) => {
  const fragment = "v=1&view=generate&genPrompt=The%20cat%20sat%20on&maxNewTokens=24&temperature=0.9&seed=3&steerLayer=2&steerCoef=12";
  await openGeneratePanel(page, fragment);
  await expect(page.getByTestId("gen-maxNewTokens")).toHaveValue("24");
  // Every change of the unsteered column's chips, to see them arrive one step at a time.
  await page.evaluate(() => {
    const counts: number[] = [];
    (window as unknown as { chipCounts: number[] }).chipCounts = counts;
    const columns = document.querySelector('[data-testid="gen-columns"]')!;
    new MutationObserver(() => counts.push(columns.querySelectorAll('[data-column="unsteered"] [data-id]').length))
      .observe(columns, { childList: true, subtree: true });
  });
  const shown = await generateInLab(page);
  expect(shown.unsteered).toHaveLength(24);
  expect(shown.steered).toHaveLength(24);
  expect(shown.steered).not.toEqual(shown.unsteered);  // coefficient 12 at resid_pre of layer 2 changes the continuation
  const counts = await page.evaluate(() => (window as unknown as { chipCounts: number[] }).chipCounts);
  expect(new Set(counts.filter((n) => n > 0 && n < 24)).size).toBeGreaterThan(5);  // streamed, not all at the end

  // The engine, called directly with the same settings, gives the same two continuations.
  const engine = await page.evaluate(async () => {
    const { HookedTransformer } = (window as unknown as LabWindow).hooklabLab;
    const model = await HookedTransformer.load("hooklab-demo");
    const base = { maxNewTokens: 24, temperature: 0.9, topK: 0, topP: 1, seed: 3 };
    const plain = await model.generate("The cat sat on", base);
    const steered = await model.generate("The cat sat on", { ...base,
      steering: [{ hook: "resid_pre", layer: 2, coefficient: 12, from: " Hate", to: " Love", positions: "prompt" as const }] });
    model.dispose();
    return { unsteered: plain.steps.map((s) => s.token), steered: steered.steps.map((s) => s.token), top: plain.steps[5].top };
  });
  expect(shown.unsteered).toEqual(engine.unsteered);
  expect(shown.steered).toEqual(engine.steered);

  // Clicking a generated token shows that step's top-5.
  await page.getByTestId("gen-tokens-unsteered").locator('[data-index="5"]').click();
  const rows = page.getByTestId("gen-top5").locator("tbody tr");
  await expect(rows).toHaveCount(5);
  expect(await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-token"))))).toEqual(engine.top.map((t) => t.token));

  // The share URL restores every setting, and the same seed gives the same text.
  const url = await page.evaluate(() => (window as unknown as LabWindow).hooklabLab.lab.shareUrl());
  const other = await context.newPage();
  await openGeneratePanel(other, new URL(url).hash.slice(1));
  const again = await generateInLab(other);
  expect(again).toEqual(shown);
  await other.close();

  // A new seed leaves the shown text out of date, and says why.
  await expect(page.getByTestId("gen-stale")).toHaveText("");
  await page.getByTestId("gen-seed").fill("4");
  await page.getByTestId("gen-seed").press("Enter");
  await expect(page.getByTestId("gen-stale")).toContainText("seed changed");
});

test("lab Generate panel: Stop keeps what was generated and the model usable; out-of-range link fields are named", async ({ page }) => {
  await openGeneratePanel(page, "v=1&view=generate&maxNewTokens=200&temperature=1&seed=9&steerCoef=1001&topP=0");
  await expect(page.locator(".notices")).toContainText("steerCoef 1001 is out of range (-1000–1000)");
  await expect(page.locator(".notices")).toContainText("topP 0 is out of range (0.01–1)");
  // n_ctx is 128 here: 200 new tokens do not fit after the prompt, and the core says so.
  await page.getByTestId("gen-run").click();
  await expect(page.getByTestId("gen-error-unsteered")).toContainText("maxNewTokens (n_ctx 128");
  await page.getByTestId("gen-maxNewTokens").fill("120");
  await page.getByTestId("gen-maxNewTokens").press("Enter");
  // Stop from inside the page as soon as the third token shows: a step of this small model takes a
  // few milliseconds, less than a round trip from the test, which could arrive after the last token.
  await page.evaluate(() => {
    const observer = new MutationObserver(() => {
      if (document.querySelectorAll('[data-testid="gen-tokens-unsteered"] [data-id]').length < 3) return;
      observer.disconnect();
      (document.querySelector('[data-testid="gen-stop"]') as HTMLElement).click();
    });
    observer.observe(document.body, { childList: true, subtree: true });
  });
  await page.getByTestId("gen-run").click();
  await expect(page.locator('[data-column="unsteered"]')).toHaveAttribute("data-status", "cancelled");
  const kept = await page.getByTestId("gen-tokens-unsteered").locator("[data-id]").count();
  expect(kept).toBeGreaterThanOrEqual(3);
  expect(kept).toBeLessThan(120);
  await expect(page.locator('[data-column="steered"]')).toHaveAttribute("data-status", "idle");
  // The model is still there: a short generation completes.
  await page.getByTestId("gen-maxNewTokens").fill("5");
  await page.getByTestId("gen-maxNewTokens").press("Enter");
  const after = await generateInLab(page);
  expect(after.unsteered).toHaveLength(5);
});

test("lab Generate panel: steering by an unembedding direction with ablated heads, from the link, equals the engine's", async ({ page }) => {
  const fragment = "v=1&view=generate&genPrompt=The%20cat%20sat%20on&maxNewTokens=12&temperature=0&steerBy=unembed&steerHook=resid_post" +
    "&steerLayer=0&steerCoef=12&steerTo=%20park&steerFrom=&ablateHeads=1.3,0.2&ablation=mean";
  await openGeneratePanel(page, fragment);
  await expect(page.getByTestId("gen-steerBy")).toHaveValue("unembed");
  await expect(page.getByTestId("gen-ablateHeads")).toHaveValue("1.3, 0.2");
  await expect(page.getByTestId("gen-ablation")).toHaveValue("mean");
  await expect(page.getByTestId("gen-explained")).toContainText("W_U[:, to]");
  const shown = await generateInLab(page);
  const engine = await page.evaluate(async () => {
    const { HookedTransformer } = (window as unknown as LabWindow).hooklabLab;
    const model = await HookedTransformer.load("hooklab-demo");
    const base = { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 1 };
    const steering = [{ hook: "resid_post", layer: 0, coefficient: 12, to: " park", by: "unembed" as const, positions: "all" as const }];
    const ablateHeads = [{ layer: 1, head: 3, kind: "mean" as const }, { layer: 0, head: 2, kind: "mean" as const }];
    const run = async (options: object) => (await model.generate("The cat sat on", { ...base, ...options })).steps.map((s) => s.token);
    const out = { unsteered: await run({}), steered: await run({ steering, ablateHeads }), steeredOnly: await run({ steering }),
      ablatedOnly: await run({ ablateHeads }), target: await model.toSingleToken(" park") };
    model.dispose();
    return out;
  });
  expect(shown.unsteered).toEqual(engine.unsteered);
  expect(shown.steered).toEqual(engine.steered);
  // Each intervention does something here, so the column shows both, not one of them.
  expect(engine.steered).not.toEqual(engine.unsteered);
  expect(engine.steered).not.toEqual(engine.steeredOnly);
  expect(engine.steered).not.toEqual(engine.ablatedOnly);
  // Pushing every position along W_U[:, " park"] puts " park" into the continuation more often.
  expect(engine.steeredOnly.filter((t) => t === engine.target).length).toBeGreaterThan(engine.unsteered.filter((t) => t === engine.target).length);

  // The controls write the link: one head typed in the box; zero (the default) leaves the link.
  const linkFields = async () => {
    const params = new URLSearchParams(new URL(await page.evaluate(() => (window as unknown as LabWindow).hooklabLab.lab.shareUrl())).hash.slice(1));
    return [params.get("ablateHeads"), params.get("ablation"), params.get("steerBy")];
  };
  await page.getByTestId("gen-ablateHeads").fill(" 2.1 ");
  await page.getByTestId("gen-ablateHeads").press("Enter");
  expect(await linkFields()).toEqual(["2.1", "mean", "unembed"]);
  await page.getByTestId("gen-ablation").selectOption("zero");
  expect(await linkFields()).toEqual(["2.1", null, "unembed"]);
  await expect(page.getByTestId("gen-stale")).toContainText("ablated heads, ablation changed");
  // A box that is not a list of heads is reported on the box and changes nothing.
  await page.getByTestId("gen-ablateHeads").fill("2.1, two");
  await page.getByTestId("gen-ablateHeads").press("Enter");
  expect(await page.getByTestId("gen-ablateHeads").evaluate((i: HTMLInputElement) => i.validationMessage)).toContain("not a head");
  expect(await linkFields()).toEqual(["2.1", null, "unembed"]);
});

test("lab Generate panel: link fields for ablation and steering are bounded and named", async ({ page }) => {
  await openGeneratePanel(page, "v=1&view=generate&ablateHeads=9.0,1.1&steerBy=logits&ablation=half");
  const notices = page.locator(".notices");
  await expect(notices).toContainText("ablated head 9.0 out of range for this model (layers 0–3, heads 0–3)");
  await expect(notices).toContainText("steerBy \"logits\" is not one of activations, unembed");
  await expect(notices).toContainText("ablation \"half\" is not one of zero, mean");
  await expect(page.getByTestId("gen-ablateHeads")).toHaveValue("1.1");
  await openGeneratePanel(page, `v=1&view=generate&ablateHeads=${Array.from({ length: 145 }, (_, i) => `${i >> 2}.${i & 3}`).join(",")}`);
  await expect(notices).toContainText("ablateHeads lists more than 144 heads");
  await openGeneratePanel(page, "v=1&view=generate&ablateHeads=1.1,01.1");
  await expect(notices).toContainText("ablateHeads lists 1.1 twice");
});

test("lab Generate panel: a generated token opens its step's predictions and inside views on the text before it", async ({ page }) => {
  await openGeneratePanel(page, "v=1&view=generate&genPrompt=The%20cat%20sat%20on&maxNewTokens=8&temperature=0");
  const shown = await generateInLab(page);
  await page.getByTestId("gen-tokens-unsteered").locator('[data-index="4"]').click();
  const stepTop = await page.getByTestId("gen-top5").locator("tbody tr").evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-token"))));
  expect(stepTop[0]).toBe(shown.unsteered[4]);  // greedy: the chosen token is the step's most likely
  const prefix = await page.evaluate(async (ids) => (window as unknown as LabWindow).hooklabLab.HookedTransformer.load("hooklab-demo")
    .then(async (m) => { const text = await m.toString(ids); m.dispose(); return text; }), shown.unsteered.slice(0, 4));

  await page.getByTestId("gen-open-predict").click();
  await expect(page.getByTestId("prompt")).toHaveValue(`The cat sat on${prefix}`);
  // The full forward of the prefix predicts what the cached step did: the same top-5, in order
  // (polled: the table shows the previous prompt's predictions until the new ones arrive).
  const rows = page.getByTestId("topk-table").locator("tbody tr");
  await expect.poll(async () => (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-token"))))).slice(0, 5),
    { timeout: 60_000 }).toEqual(stepTop);

  await page.locator('[data-tab="generate"]').click();
  await expect(page.getByTestId("gen-run")).toBeVisible();
  await page.getByTestId("gen-tokens-unsteered").locator('[data-index="4"]').click();
  await page.getByTestId("gen-open-inside").click();
  await expect(page.getByTestId("dla")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("prompt")).toHaveValue(`The cat sat on${prefix}`);
  const url = await page.evaluate(() => (window as unknown as LabWindow).hooklabLab.lab.shareUrl());
  expect(new URLSearchParams(new URL(url).hash.slice(1)).get("view")).toBe("inside");
});
