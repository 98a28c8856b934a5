// The engine in real Chromium: the TypeScript API in a Web Worker, both wasm builds (the
// pthreads build on the cross-origin-isolated page, the single-threaded one without
// isolation), every hook point against the PyTorch fixtures, and error handling.
import { test, expect, type Page } from "@playwright/test";

async function open(page: Page, isolated: boolean) {
  await page.goto(isolated ? "/harness.html" : "/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
}

for (const isolated of [false, true]) {
  const label = isolated ? "pthreads build (isolated page)" : "single-threaded build";

  test(`${label}: every hook and the logits match the PyTorch fixtures`, async ({ page }) => {
    await open(page, isolated);
    const report = await page.evaluate(async (isolated) => {
      const { HookedTransformer } = window.hooklab;
      const manifest = await (await fetch("/repo/tests/fixtures/manifest.json")).json();
      // f16 weights in memory (tests/fixtures/f16-weights): 1e-4 after processing, as
      // tests/native/reference_parity_test.cpp explains.
      const f16 = await (await fetch("/repo/tests/fixtures/f16-weights/manifest.json")).json();
      const cases = [...manifest.cases, ...f16.cases];
      const npy = async (path: string) => {
        const buf = await (await fetch(path)).arrayBuffer();
        const bytes = new Uint8Array(buf);
        const headerLen = bytes[8] | (bytes[9] << 8);
        const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
        const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
        return { shape, data: new Float32Array(buf.slice(10 + headerLen)) };
      };
      // The fixture keeps only some vocabulary columns (hooked_gpt2.py logit_columns); without the list, all.
      const keptLogitColumns = (logits: { shape: number[]; data: Float32Array }, m: { logit_columns?: number[] }) => {
        const columns = m.logit_columns;
        if (!columns) return logits;
        const vocab = logits.shape[logits.shape.length - 1], rows = logits.data.length / vocab;
        const data = new Float32Array(rows * columns.length);
        for (let r = 0; r < rows; r++) columns.forEach((col, j) => (data[r * columns.length + j] = logits.data[r * vocab + col]));
        return { shape: logits.shape, data };
      };
      const models = new Map<string, Awaited<ReturnType<typeof HookedTransformer.load>>>();
      const problems: string[] = [];
      let worst = 0, checked = 0, variant = "";
      for (const c of cases) {
        const weights = c.weight_precision ?? "f32";
        const rel = weights === "f16" && c.processing !== "none" ? 1e-4 : 1e-5;
        const key = `${c.model}|${c.processing}|${weights}`;
        if (!models.has(key)) {
          models.set(key, await HookedTransformer.load({ url: `/repo/${c.model}/` }, { processing: c.processing, weights, threads: isolated ? 2 : 1 }));
        }
        const model = models.get(key)!;
        if (model.cfg.weights !== weights) problems.push(`${c.id}: loaded with ${model.cfg.weights} weights`);
        variant = model.variant;
        const tokens = await model.toTokens(c.prompt, { prependBos: c.prepend_bos });
        if (Array.from(tokens).join() !== c.tokens.join()) problems.push(`${c.id}: tokens`);
        const caseManifest = await (await fetch(`/repo/${c.dir}/manifest.json`)).json();
        const { logits, cache } = await model.runWithCache(tokens, { useAttnResult: c.attn_result });
        if (cache.keys().join() !== caseManifest.hooks.map((h: { name: string }) => h.name).join()) problems.push(`${c.id}: hook names/order`);
        for (const name of [...cache.keys(), "logits"]) {
          const ref = await npy(`/repo/${c.dir}/${name}.npy`);
          const got = name === "logits" ? keptLogitColumns(logits, caseManifest) : cache.get(name);
          if (got.shape.join() !== (name === "logits" ? caseManifest.logits_shape : ref.shape).join()) problems.push(`${c.id} ${name}: shape`);
          let maxRef = 0, maxDiff = 0;
          for (let i = 0; i < ref.data.length; i++) if (Number.isFinite(ref.data[i])) maxRef = Math.max(maxRef, Math.abs(ref.data[i]));
          const tol = rel * Math.max(1, maxRef);
          for (let i = 0; i < ref.data.length; i++) {
            const a = got.data[i], e = ref.data[i];
            if (!Number.isFinite(e) || !Number.isFinite(a)) {
              if (a !== e) problems.push(`${c.id} ${name}[${i}]: ${a} vs ${e}`);
              continue;
            }
            maxDiff = Math.max(maxDiff, Math.abs(a - e));
          }
          if (maxDiff > tol) problems.push(`${c.id} ${name}: max|diff| ${maxDiff} > ${tol}`);
          worst = Math.max(worst, maxDiff / tol);
          checked++;
        }
      }
      for (const m of models.values()) m.dispose();
      return { problems: problems.slice(0, 20), worst, checked, variant, isolated: crossOriginIsolated };
    }, isolated);
    console.log(`${label}: ${report.checked} tensors, worst max|diff|/tol ${report.worst.toFixed(3)}, build ${report.variant}`);
    expect(report.problems).toEqual([]);
    expect(report.isolated).toBe(isolated);
    expect(report.variant).toBe(isolated ? "mt" : "st");
    expect(report.checked).toBeGreaterThan(400);
  });
}

test("TransformerLens API: names, hooks, errors, and the worker survives bad input", async ({ page }) => {
  await open(page, false);
  const r = await page.evaluate(async () => {
    const { HookedTransformer, resolveHookName } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const out: Record<string, unknown> = {};
    out.cfg = model.cfg;
    out.strTokens = await model.toStrTokens("Hello world");
    out.single = await model.toSingleToken(" Paris");
    out.notSingle = await model.toSingleToken(" Parisian").catch((e: Error) => e.message);
    const { logits, cache } = await model.runWithCache("When Mary and John went", { namesFilter: /hook_pattern$/ });
    out.cacheKeys = cache.keys();
    out.patternShape = cache.get("pattern", -1).shape;
    out.attnAlias = cache.get("attn", 1) === cache.get("blocks.1.attn.hook_pattern");
    out.top = (await model.topK(logits, { k: 3 })).map((t) => t.token);
    // A hook function runs in the worker; zeroing every z of layer 1 changes the logits.
    const zeroed = await model.runWithHooks("When Mary and John went", {
      fwdHooks: [["blocks.1.attn.hook_z", (z) => { z.data.fill(0); }]],
    });
    const ablated = await model.runWithHooks("When Mary and John went", { fwdHooks: [["z", { kind: "zero" }]] }).catch((e: Error) => e.message);
    out.ablationError = ablated;
    let changed = 0;
    for (let i = 0; i < logits.data.length; i++) if (logits.data[i] !== zeroed.logits.data[i]) changed++;
    out.changed = changed;
    out.tooLong = await model.runWithCache("word ".repeat(80)).catch((e: Error) => e.message);
    out.badHook = await model.runWithHooks("hi", { fwdHooks: [["blocks.9.hook_resid_pre", { kind: "zero" }]] }).catch((e: Error) => e.message);
    out.resolved = resolveHookName("scale4ln1", 12);
    out.loss = (await model.loss("Hello world!")).mean;
    const bad = await HookedTransformer.load({ files: { config: await (await fetch("/repo/models/testdata/tiny-c/config.json")).text(), weights: new ArrayBuffer(12) } }).catch((e: Error) => e.message);
    out.badLoad = bad;
    out.afterBad = (await model.toTokens("still alive")).length;
    model.dispose();
    return out;
  });
  expect(r.strTokens).toEqual(["<|endoftext|>", "Hello", " world"]);
  expect(r.single).toBe(6342);
  expect(r.notSingle).toContain("not a single token");
  expect(r.cacheKeys).toEqual(["blocks.0.attn.hook_pattern", "blocks.1.attn.hook_pattern"]);
  expect(r.patternShape).toEqual([1, 4, 6, 6]);
  expect(r.attnAlias).toBe(true);
  expect((r.top as number[]).length).toBe(3);
  expect(r.changed as number).toBeGreaterThan(1000);
  expect(r.ablationError).toContain("needs a layer");
  expect(r.tooLong).toContain("n_ctx");
  expect(r.badHook).toContain("blocks.9");
  expect(r.resolved).toBe("blocks.4.ln1.hook_scale");
  expect(r.badLoad).toContain("model.safetensors");
  expect(r.afterBad).toBe(3);
  expect(Math.abs((r.loss as number) - 18.4741233)).toBeLessThan(1e-4);
});

for (const isolated of [false, true]) {
  test(`spare buffers (${isolated ? "pthreads" : "single-threaded"} build): later results go into memory the idle engine wrote, with the same values`, async ({ page }) => {
    await open(page, isolated);
    const r = await page.evaluate(async (isolated) => {
      const { HookedTransformer } = window.hooklab;
      const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" }, { threads: isolated ? 2 : 1 });
      const prompt = "When Mary and John went to the store";
      const cached1 = await model.runWithCache(prompt);
      const plain1 = await model.runWithHooks(prompt, { fwdHooks: [] });
      await model.whenIdle();
      const prepared = (await model.memoryStats()).spareBuffers;
      // Back to back, as a benchmark round runs them: a forward, then run_with_cache.
      const plain2 = await model.runWithHooks(prompt, { fwdHooks: [] });
      const cached2 = await model.runWithCache(prompt);
      const used = (await model.memoryStats()).spareBuffers;
      // Another length: new memory, the same values as a fresh engine would give.
      const longer = await model.runWithCache(`${prompt} and then`);
      const afterLonger = (await model.memoryStats()).spareBuffers;
      // The loss's logits never leave the worker: the second loss (another prompt of the same
      // length) writes into the first one's, and equals a fresh engine's loss of that prompt.
      const other = "When John and Mary went to the park";
      const otherLength = (await model.toTokens(other)).length;
      await model.loss(prompt);
      const afterLoss1 = (await model.memoryStats()).spareBuffers;
      const loss2 = (await model.loss(other)).mean;
      const afterLoss2 = (await model.memoryStats()).spareBuffers;
      const fresh = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" }, { threads: isolated ? 2 : 1 });
      const freshLoss = (await fresh.loss(other)).mean;
      fresh.dispose();
      const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
      const keys = cached1.cache.keys();
      model.dispose();
      return {
        prepared, used, afterLonger, afterLoss1, afterLoss2, loss2, freshLoss, sameLength: otherLength === plain1.logits.shape[1],
        logitsLength: plain1.logits.data.length, arenaLength: cached1.cache.arena.length,
        plainSame: same(plain1.logits.data, plain2.logits.data), cachedLogitsSame: same(cached1.logits.data, cached2.logits.data),
        cacheSame: keys.every((k) => same(cached1.cache.get(k).data, cached2.cache.get(k).data)),
        longerRows: longer.logits.shape[1], longerFinite: longer.logits.data.every(Number.isFinite),
      };
    }, isolated);
    // The recent results were logits, arena, logits: two spares of the logits' length, one of the arena's, all written.
    expect(r.prepared.bytes).toBe(4 * (2 * r.logitsLength + r.arenaLength));
    expect(r.prepared.warmBytes).toBe(r.prepared.bytes);
    expect(r.used.taken - r.prepared.taken).toBe(3);
    expect(r.used.missed - r.prepared.missed).toBe(0);
    expect(r.plainSame && r.cachedLogitsSame && r.cacheSame).toBe(true);
    expect(r.longerRows).toBe(11);
    expect(r.longerFinite).toBe(true);
    expect(r.afterLonger.missed - r.used.missed).toBe(2);
    expect(r.afterLoss2.taken - r.afterLoss1.taken).toBe(1);
    expect(r.afterLoss2.missed).toBe(r.afterLoss1.missed);
    expect(r.sameLength).toBe(true);
    expect(r.loss2).toBe(r.freshLoss);
  });
}

test("a patching sweep reports progress and can be cancelled; the model stays usable", async ({ page }) => {
  await open(page, false);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const request = {
      sweep: "head_pattern_dest_src" as const,
      clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to",
      answers: [[" Mary", " John"]] as Array<[string, string]>,
    };
    const fractions: number[] = [];
    const full = await model.patch(request, { onProgress: (f) => fractions.push(f) });
    // A sweep of several thousand cells (the prompts differ at their first word), stopped at
    // its first progress report.
    const long = { ...request, clean: "Mary " + "and John went to the store. ".repeat(4), corrupted: "John " + "and John went to the store. ".repeat(4) };
    const controller = new AbortController();
    const cancelled = model.patch(long, { signal: controller.signal, onProgress: () => controller.abort() })
      .then(() => "finished", (e: Error) => e.name);
    const outcome = await cancelled;
    const again = await model.patch({ ...request, sweep: "resid_pre" });
    model.dispose();
    return { steps: fractions.length, last: fractions.at(-1), shape: full.shape, outcome, againShape: again.shape };
  });
  expect(r.steps).toBeGreaterThan(1);
  expect(r.last).toBe(1);
  expect(r.shape).toEqual([2, 4, 15, 15]);
  expect(r.outcome).toBe("AbortError");
  expect(r.againShape).toEqual([2, 15]);
});

test("a custom metric (a function of the logits) gives the built-in logit difference", async ({ page }) => {
  await open(page, false);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const model = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" });
    const mary = await model.toSingleToken(" Mary"), john = await model.toSingleToken(" John");
    const base = {
      sweep: "head_out_by_pos" as const,
      clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to",
      answers: [[mary, john]] as Array<[number, number]>,
    };
    const builtIn = await model.patch(base);
    // The function runs in the worker, so it cannot capture mary/john: the ids are literals.
    const source = `(logits) => logits[${mary}] - logits[${john}]`;
    const custom = await model.patch({ ...base, metric: new Function(`return ${source}`)() as (l: Float32Array) => number });
    model.dispose();
    let maxDiff = 0;
    builtIn.values.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - custom.values[i]))));
    return { maxDiff, n: builtIn.values.length, clean: [builtIn.cleanMetric, custom.cleanMetric] };
  });
  expect(r.n).toBe(2 * 15 * 4);
  expect(r.maxDiff).toBeLessThan(1e-4);
  expect(Math.abs(r.clean[0] - r.clean[1])).toBeLessThan(1e-4);
});
