// The WebGPU path in Chromium on SwiftShader (playwright.config.ts passes the flags): every
// hook and the logits, and every patching sweep, against the wasm path of the same engine
// within 1e-4 x max(1, max|ref|); the fallbacks (no adapter, software adapter under "auto",
// device lost mid-sweep); the lab's backend selector. SwiftShader runs WGSL on the CPU, so
// these tests prove correctness only, never speed.
import { test, expect, type Page } from "@playwright/test";

async function open(page: Page) {
  page.on("console", (m) => m.type() === "error" && console.log(`[page] ${m.text()}`));
  await page.goto("/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
}

const TOLERANCE = 1e-4;

test("every hook and the logits: WebGPU matches wasm on the committed fixtures (windowed weights too)", async ({ page }) => {
  await open(page);
  const report = await page.evaluate(async (tolerance) => {
    const { HookedTransformer } = window.hooklab;
    const manifest = await (await fetch("/repo/tests/fixtures/manifest.json")).json();
    // The attention-only model (TransformerLens attn_only: no MLP blocks) too, with hook_result.
    const attnOnly = await (await fetch("/repo/tests/fixtures/attn-only/manifest.json")).json();
    // f16 weights in memory: the device gets them widened to f32 (tiny-b's in windows).
    const f16 = await (await fetch("/repo/tests/fixtures/f16-weights/manifest.json")).json();
    const cases = [...manifest.cases, ...attnOnly.cases.flatMap((c: { id: string }) => [c, { ...c, id: `${c.id}-result`, attn_result: true }]),
      ...f16.cases];
    const problems: string[] = [];
    let worst = 0, checked = 0;
    const backends: string[] = [];
    const architectures = new Set<string>();
    const loaded = new Map<string, [Awaited<ReturnType<typeof HookedTransformer.load>>, Awaited<ReturnType<typeof HookedTransformer.load>>]>();
    for (const c of cases) {
      const weights = c.weight_precision ?? "f32";
      const key = `${c.model}|${c.processing}|${weights}`;
      if (!loaded.has(key)) {
        const url = { url: `/repo/${c.model}/` };
        // tiny-b runs with 512 KiB bindings: its unembedding and embedding (4.8 MB each) are
        // split into ten windows and its logits into blocks of two rows, as GPT-2 small's 154 MB
        // unembedding is split under the default 128 MiB limit.
        const webgpu = c.model.endsWith("tiny-b") ? { maxBindingBytes: 512 * 1024 } : {};
        loaded.set(key, [
          await HookedTransformer.load(url, { processing: c.processing, weights, backend: "wasm" }),
          await HookedTransformer.load(url, { processing: c.processing, weights, backend: "webgpu", webgpu }),
        ]);
      }
      const [wasm, gpu] = loaded.get(key)!;
      if (gpu.backend.kind !== "webgpu") problems.push(`${c.id}: not on WebGPU (${gpu.backend.reason})`);
      architectures.add(gpu.backend.adapter?.architecture ?? "");
      const tokens = await wasm.toTokens(c.prompt, { prependBos: c.prepend_bos });
      const ref = await wasm.runWithCache(tokens, { useAttnResult: c.attn_result });
      const got = await gpu.runWithCache(tokens, { useAttnResult: c.attn_result });
      backends.push(got.backend);
      if (got.cache.keys().join() !== ref.cache.keys().join()) problems.push(`${c.id}: hook names/order`);
      for (const name of [...ref.cache.keys(), "logits"]) {
        const r = name === "logits" ? ref.logits : ref.cache.get(name);
        const g = name === "logits" ? got.logits : got.cache.get(name);
        if (g.shape.join() !== r.shape.join()) problems.push(`${c.id} ${name}: shape ${g.shape} vs ${r.shape}`);
        let maxRef = 0, maxDiff = 0;
        for (let i = 0; i < r.data.length; i++) if (Number.isFinite(r.data[i])) maxRef = Math.max(maxRef, Math.abs(r.data[i]));
        for (let i = 0; i < r.data.length; i++) {
          if (!Number.isFinite(r.data[i]) || !Number.isFinite(g.data[i])) {
            if (r.data[i] !== g.data[i]) problems.push(`${c.id} ${name}[${i}]: ${g.data[i]} vs ${r.data[i]}`);
            continue;
          }
          maxDiff = Math.max(maxDiff, Math.abs(g.data[i] - r.data[i]));
        }
        const tol = tolerance * Math.max(1, maxRef);
        if (maxDiff > tol) problems.push(`${c.id} ${name}: max|diff| ${maxDiff} > ${tol}`);
        worst = Math.max(worst, maxDiff / tol);
        checked++;
      }
    }
    for (const [a, b] of loaded.values()) {
      a.dispose();
      b.dispose();
    }
    return { problems: problems.slice(0, 20), worst, checked, backends: [...new Set(backends)], architectures: [...architectures], models: [...loaded.keys()] };
  }, TOLERANCE);
  console.log(`WebGPU vs wasm: ${report.checked} tensors, worst max|diff|/tol ${report.worst.toFixed(4)}, ` +
    `backend ${report.backends.join(", ")}, adapter.info.architecture ${report.architectures.join(", ")}`);
  expect(report.problems).toEqual([]);
  expect(report.checked).toBeGreaterThan(400);
  expect(report.models).toContain("models/testdata/tiny-attn|default|f32");
  expect(report.models).toContain("models/testdata/tiny-b|default|f16");
  expect(report.architectures).toEqual(["swiftshader"]);
  expect(report.backends.every((b) => b.startsWith("webgpu"))).toBe(true);
});

const SWEEPS = [
  "resid_pre", "resid_mid", "attn_out", "mlp_out", "head_out", "head_q", "head_k", "head_v", "head_pattern",
  "head_out_by_pos", "head_q_by_pos", "head_k_by_pos", "head_v_by_pos", "head_pattern_by_pos", "head_pattern_dest_src",
  "block_every", "head_all_pos_every", "head_by_pos_every",
];

test("every patching sweep: WebGPU matches wasm (all fixture cases, several metrics and positions)", async ({ page }) => {
  test.setTimeout(600_000);
  await open(page);
  const report = await page.evaluate(async ({ sweeps, tolerance }) => {
    const { HookedTransformer } = window.hooklab;
    const manifest = await (await fetch("/repo/tests/fixtures/patching/manifest.json")).json();
    // The attention-only model: its sweeps through the MLP (resid_mid, mlp_out, block_every) are
    // refused by both paths alike, every other sweep matches.
    const attnOnly = { id: "tiny-attn", model: "models/testdata/tiny-attn", direction: "denoising",
      clean_tokens: [0, 262, 11, 290, 286, 257, 13, 284, 287, 318], corrupted_tokens: [0, 262, 11, 290, 286, 257, 13, 284, 318, 318],
      metric: { pairs: [[11, 290], [262, 286]] } };
    const problems: string[] = [];
    const worstBySweep: Record<string, number> = {};  // logit difference at the fixture's position
    const worstByVariant: Record<string, number> = {};  // other metrics, normalised, earlier position
    const refused: string[] = [];
    let runs = 0;
    for (const c of [...manifest.cases, attnOnly]) {
      const wasm = await HookedTransformer.load({ url: `/repo/${c.model}/` }, { backend: "wasm" });
      const gpu = await HookedTransformer.load({ url: `/repo/${c.model}/` }, { backend: "webgpu" });
      const base = { clean: c.clean_tokens, corrupted: c.corrupted_tokens, answers: c.metric.pairs, direction: c.direction };
      // Every sweep with the logit difference at the fixture's position; a few with other
      // metrics, and an earlier metric position (the GPU then runs only positions up to it).
      const variants: Array<Record<string, unknown>> = sweeps.map((sweep: string) => ({ ...base, sweep }));
      for (const metric of ["prob", "logprob"]) variants.push({ ...base, sweep: "head_out_by_pos", metric });
      variants.push({ ...base, sweep: "block_every", normalize: true });
      if (c.clean_tokens.length > 4) {
        for (const sweep of ["resid_pre", "head_k_by_pos", "head_pattern_dest_src", "head_all_pos_every"]) variants.push({ ...base, sweep, position: -4 });
      }
      for (const request of variants) {
        const label = `${c.id} ${request.sweep}${request.metric ? ` ${request.metric}` : ""}${request.position ? ` @${request.position}` : ""}`;
        const [ref, got] = await Promise.all([wasm.patch(request as never), gpu.patch(request as never)].map((p) => p.catch((e: Error) => e)));
        if (ref instanceof Error || got instanceof Error) {
          if (!(ref instanceof Error && got instanceof Error) || ref.message !== got.message) problems.push(`${label}: ${ref} vs ${got}`);
          refused.push(`${c.id} ${request.sweep}`);
          continue;
        }
        runs++;
        if (!got.backend?.startsWith("webgpu")) problems.push(`${label}: ran on ${got.backend}`);
        if (got.shape.join() !== ref.shape.join()) problems.push(`${label}: shape ${got.shape} vs ${ref.shape}`);
        if (got.cellsComputed !== ref.cellsComputed) problems.push(`${label}: cells ${got.cellsComputed} vs ${ref.cellsComputed}`);
        const all = [...ref.values, ref.cleanMetric, ref.corruptedMetric];
        const mine = [...got.values, got.cleanMetric, got.corruptedMetric];
        const tol = tolerance * Math.max(1, ...all.map((v) => Math.abs(v)));
        let maxDiff = 0;
        for (let i = 0; i < all.length; i++) maxDiff = Math.max(maxDiff, Math.abs(mine[i] - all[i]));
        if (!(maxDiff <= tol)) problems.push(`${label}: max|diff| ${maxDiff} > ${tol}`);
        const plain = !request.metric && !request.position && !request.normalize;
        const key = plain ? String(request.sweep) : `${request.sweep}${request.metric ? ` ${request.metric}` : ""}${request.normalize ? " normalized" : ""}${request.position ? ` @${request.position}` : ""}`;
        const worst = plain ? worstBySweep : worstByVariant;
        worst[key] = Math.max(worst[key] ?? 0, maxDiff / tol);
      }
      wasm.dispose();
      gpu.dispose();
    }
    return { problems: problems.slice(0, 20), worstBySweep, worstByVariant, runs, refused: [...new Set(refused)] };
  }, { sweeps: SWEEPS, tolerance: TOLERANCE });
  const worst = Math.max(...Object.values(report.worstBySweep), ...Object.values(report.worstByVariant));
  const list = (worst: Record<string, number>) => Object.entries(worst).map(([s, w]) => `${s} ${w.toFixed(3)}`).join(", ");
  console.log(`patching WebGPU vs wasm: ${report.runs} sweeps, worst max|diff|/tol ${worst.toFixed(4)}; ` +
    `by sweep (logit_diff): ${list(report.worstBySweep)}; variants: ${list(report.worstByVariant)}`);
  expect(report.problems).toEqual([]);
  expect(Object.keys(report.worstBySweep).sort()).toEqual([...SWEEPS].sort());
  expect(report.refused.sort()).toEqual(["tiny-attn block_every", "tiny-attn mlp_out", "tiny-attn resid_mid"]);
});

test("one patch session: several sweeps and methods, the prompts run once, each item equal to its own request (wasm and WebGPU)", async ({ page }) => {
  test.setTimeout(300_000);
  await open(page);
  const report = await page.evaluate(async (tolerance) => {
    const { HookedTransformer } = window.hooklab;
    const manifest = await (await fetch("/repo/tests/fixtures/patching/manifest.json")).json();
    const c = manifest.cases[0];
    const base = { clean: c.clean_tokens, corrupted: c.corrupted_tokens, answers: c.metric.pairs, direction: c.direction, normalize: true };
    const exact = ["head_out_by_pos", "resid_pre", "block_every", "head_pattern"] as const;
    const problems: string[] = [];
    const backends: Record<string, string[]> = {};
    for (const backend of ["wasm", "webgpu"] as const) {
      const model = await HookedTransformer.load({ url: `/repo/${c.model}/` }, { backend });
      const wasm = await HookedTransformer.load({ url: `/repo/${c.model}/` }, { backend: "wasm" });
      const sessions = [
        exact.map((sweep) => ({ sweep, method: "exact" as const })),
        [...exact.map((sweep) => ({ sweep, method: "exact" as const })), { sweep: "head_by_pos_every" as const, method: "atp-star" as const }],
      ];
      for (const items of sessions) {
        const fractions: number[] = [];
        const together = await model.patchItems({ ...base, items }, { onProgress: (f: number) => fractions.push(f) });
        backends[backend] = [...(backends[backend] ?? []), together[0].backend ?? "?"];
        if (together.length !== items.length) problems.push(`${backend}: ${together.length} results for ${items.length} items`);
        if (fractions.at(-1) !== 1 || fractions.some((f, i) => i > 0 && f < fractions[i - 1])) problems.push(`${backend}: progress ${fractions}`);
        for (let i = 0; i < items.length; i++) {
          const alone = items[i].method === "exact"
            ? await wasm.patch({ ...base, sweep: items[i].sweep })
            : await wasm.attribute({ ...base, sweep: items[i].sweep, method: items[i].method as "atp-star" });
          const got = together[i];
          const label = `${backend} ${items[i].sweep} ${items[i].method}`;
          if (got.sweep !== items[i].sweep || got.method !== items[i].method) problems.push(`${label}: came back as ${got.sweep} ${got.method}`);
          if (got.shape.join() !== alone.shape.join()) problems.push(`${label}: shape ${got.shape} vs ${alone.shape}`);
          const tol = tolerance * Math.max(1, ...Array.from(alone.values, Math.abs));
          const worst = Math.max(...Array.from(got.values, (v: number, k: number) => Math.abs(v - alone.values[k])));
          if (!(worst <= tol)) problems.push(`${label}: max|diff| ${worst} > ${tol}`);
        }
      }
      const bad = await model.patchItems({ ...base, items: [{ sweep: "resid_pre", method: "guess" as never }] }).then(() => "no error", (e: Error) => e.message);
      if (!/guess/.test(bad)) problems.push(`${backend}: a bad method gave "${bad}"`);
      model.dispose();
      wasm.dispose();
    }
    return { problems, backends };
  }, TOLERANCE);
  expect(report.problems).toEqual([]);
  // Exact sessions run on the device; a session with an estimate runs where the backward pass is.
  expect(report.backends.webgpu[0]).toMatch(/^webgpu/);
  expect(report.backends.webgpu[1]).not.toMatch(/^webgpu/);
  expect(report.backends.wasm.every((b) => !b.startsWith("webgpu"))).toBe(true);
});

test("selection: no adapter -> wasm with the same results; auto skips the software adapter unless allowed", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const url = { url: "/repo/models/testdata/tiny-a/" };
    const prompt = "When Mary and John went to the store";
    const wasm = await HookedTransformer.load(url, { backend: "wasm" });
    const noAdapter = await HookedTransformer.load(url, { backend: "webgpu", webgpu: { ignoreAdapter: true } });
    const auto = await HookedTransformer.load(url);
    const autoAllowed = await HookedTransformer.load(url, { webgpu: { allowSoftwareAdapter: true } });
    const ref = await wasm.runWithCache(prompt);
    const fallback = await noAdapter.runWithCache(prompt);
    let identical = ref.logits.data.length === fallback.logits.data.length;
    for (let i = 0; identical && i < ref.logits.data.length; i++) identical = ref.logits.data[i] === fallback.logits.data[i];
    for (const name of ref.cache.keys()) {
      const a = ref.cache.get(name).data, b = fallback.cache.get(name).data;
      for (let i = 0; identical && i < a.length; i++) identical = a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]));
    }
    const request = { sweep: "head_out_by_pos" as const, clean: prompt + " John", corrupted: prompt + " Mary", answers: [[" Mary", " John"]] as Array<[string, string]> };
    const patchRef = await wasm.patch(request);
    const patchFallback = await noAdapter.patch(request);
    // The GPU path reads its results back itself: its runs leave no spare result buffers behind.
    const onGpu = await autoAllowed.runWithCache(prompt);
    await autoAllowed.whenIdle();
    const gpuSpares = (await autoAllowed.memoryStats()).spareBuffers;
    const out = {
      gpuRunBackend: onGpu.backend, gpuSpares,
      noAdapter: noAdapter.backend, cfgBackend: noAdapter.cfg.backend, identical, fallbackBackend: fallback.backend,
      patchIdentical: patchRef.values.every((v, i) => v === patchFallback.values[i]), patchBackend: patchFallback.backend,
      auto: auto.backend, autoAllowed: autoAllowed.backend, wasmName: wasm.cfg.backend,
    };
    for (const m of [wasm, noAdapter, auto, autoAllowed]) m.dispose();
    return out;
  });
  expect(r.noAdapter.kind).toBe("wasm");
  expect(r.noAdapter.requested).toBe("webgpu");
  expect(r.noAdapter.reason).toContain("no WebGPU adapter");
  expect(r.cfgBackend).toBe(r.wasmName);
  expect(r.fallbackBackend).toBe(r.wasmName);
  expect(r.identical).toBe(true);
  expect(r.patchIdentical).toBe(true);
  expect(r.patchBackend).toBe(r.wasmName);
  expect(r.auto.kind).toBe("wasm");
  expect(r.auto.reason).toContain("software");
  expect(r.auto.adapter?.architecture).toBe("swiftshader");
  expect(r.autoAllowed.kind).toBe("webgpu");
  expect(r.autoAllowed.name).toMatch(/^webgpu \(/);
  expect(r.gpuRunBackend).toMatch(/^webgpu \(/);
  expect(r.gpuSpares).toEqual({ bytes: 0, warmBytes: 0, taken: 0, missed: 0 });
});

test("device lost mid-sweep: a clear notice, the sweep's results from wasm, the model stays usable on wasm", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const url = { url: "/repo/models/testdata/tiny-a/" };
    const wasm = await HookedTransformer.load(url, { backend: "wasm" });
    const gpu = await HookedTransformer.load(url, { backend: "webgpu" });
    const before = gpu.backend.kind;
    const notices: string[] = [];
    gpu.onBackendChange((b) => notices.push(b.notice ?? ""));
    const events: string[] = [];
    addEventListener("hooklab-backend-change", (e) => events.push((e as CustomEvent).detail.kind));
    const request = {
      sweep: "head_pattern_dest_src" as const,
      clean: "When Mary and John went to the store, John gave a drink to",
      corrupted: "When Mary and John went to the store, Mary gave a drink to",
      answers: [[" Mary", " John"]] as Array<[string, string]>,
    };
    const ref = await wasm.patch(request);
    let lost = false;
    const fractions: number[] = [];
    const got = await gpu.patch(request, {
      onProgress: (f) => {
        fractions.push(f);
        if (!lost && f > 0) {
          lost = true;
          window.hooklab.testing.simulateDeviceLoss(gpu);
        }
      },
    });
    const after = await gpu.runWithCache("Hello world");
    const afterRef = await wasm.runWithCache("Hello world");
    const out = {
      before, notices, events, lostAt: fractions.find((f) => f > 0), resultBackend: got.backend, wasmName: wasm.cfg.backend,
      identical: ref.values.every((v, i) => v === got.values[i]), shape: got.shape, backendNow: gpu.backend,
      cfgBackend: gpu.cfg.backend, afterBackend: after.backend,
      afterIdentical: after.logits.data.every((v, i) => v === afterRef.logits.data[i]),
    };
    wasm.dispose();
    gpu.dispose();
    return out;
  });
  console.log(`device lost at ${r.lostAt}; notice: ${r.notices[0]}`);
  expect(r.before).toBe("webgpu");
  expect(r.lostAt).toBeLessThan(1);
  expect(r.notices).toHaveLength(1);
  expect(r.notices[0]).toContain("GPU was lost");
  expect(r.notices[0]).toContain("wasm");
  expect(r.events).toEqual(["wasm"]);
  expect(r.resultBackend).toBe(r.wasmName);
  expect(r.identical).toBe(true);
  expect(r.shape).toEqual([2, 4, 15, 15]);
  expect(r.backendNow.kind).toBe("wasm");
  expect(r.cfgBackend).toBe(r.wasmName);
  expect(r.afterBackend).toBe(r.wasmName);
  expect(r.afterIdentical).toBe(true);
});

test("pthreads build on the cross-origin-isolated page (shared wasm memory) runs WebGPU too", async ({ page }) => {
  await page.goto("/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
  const r = await page.evaluate(async (tolerance) => {
    const { HookedTransformer } = window.hooklab;
    const url = { url: "/repo/models/testdata/tiny-b/" };
    const wasm = await HookedTransformer.load(url, { backend: "wasm", threads: 2 });
    const gpu = await HookedTransformer.load(url, { backend: "webgpu", threads: 2 });
    const prompt = "When Mary and John went to the store, John gave a drink to";
    const ref = await wasm.runWithCache(prompt);
    const got = await gpu.runWithCache(prompt);
    let worst = 0;
    for (const name of [...ref.cache.keys(), "logits"]) {
      const a = name === "logits" ? ref.logits.data : ref.cache.get(name).data;
      const b = name === "logits" ? got.logits.data : got.cache.get(name).data;
      let maxRef = 0, maxDiff = 0;
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i])) continue;
        maxRef = Math.max(maxRef, Math.abs(a[i]));
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      }
      worst = Math.max(worst, maxDiff / (tolerance * Math.max(1, maxRef)));
    }
    const request = { sweep: "head_by_pos_every" as const, clean: prompt, corrupted: prompt.replace("John gave", "Mary gave"), answers: [[" Mary", " John"]] as Array<[string, string]> };
    const patchRef = await wasm.patch(request);
    const patchGot = await gpu.patch(request);
    const tol = tolerance * Math.max(1, ...patchRef.values.map(Math.abs));
    const patchWorst = Math.max(...patchRef.values.map((v, i) => Math.abs(v - patchGot.values[i]))) / tol;
    const out = { variant: gpu.variant, isolated: crossOriginIsolated, backend: got.backend, patchBackend: patchGot.backend, worst, patchWorst };
    wasm.dispose();
    gpu.dispose();
    return out;
  }, TOLERANCE);
  console.log(`pthreads build + WebGPU: worst hook ratio ${r.worst.toFixed(4)}, sweep ratio ${r.patchWorst.toFixed(4)}`);
  expect(r.isolated).toBe(true);
  expect(r.variant).toBe("mt");
  expect(r.backend).toMatch(/^webgpu/);
  expect(r.patchBackend).toMatch(/^webgpu/);
  expect(r.worst).toBeLessThan(1);
  expect(r.patchWorst).toBeLessThan(1);
});

test("the lab shows which backend runs, lets the user force either, and shows a device-loss notice", async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem("hooklab.backend", "webgpu"));
  await page.goto("/index.html");
  const badge = page.getByTestId("backend-badge");
  await expect(badge).toHaveAttribute("data-backend", "webgpu", { timeout: 120_000 });
  await expect(badge).toContainText("webgpu (");
  await expect(page.getByTestId("backend-select")).toHaveValue("webgpu");
  await expect(page.getByTestId("topk-table")).toBeVisible({ timeout: 120_000 });

  await page.getByTestId("backend-select").selectOption("wasm");
  await expect(badge).toHaveAttribute("data-backend", "wasm", { timeout: 120_000 });
  await expect(badge).toContainText("wasmsimd");
  expect(await page.evaluate(() => localStorage.getItem("hooklab.backend"))).toBe("wasm");

  // The engine announces a backend change (as after a lost GPU) with a notice the lab shows.
  await page.evaluate(() => dispatchEvent(new CustomEvent("hooklab-backend-change", {
    detail: { kind: "wasm", name: "wasmsimd_4x8_loadsplat", requested: "webgpu", notice: "The GPU was lost (test). hooklab moved to wasm SIMD." },
  })));
  await expect(page.locator('[data-notice="warning"]').filter({ hasText: "The GPU was lost (test)" })).toBeVisible();
});

test("a WebGPU sweep reports progress per chunk and can be cancelled; the model stays on the GPU", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async (tolerance) => {
    const { HookedTransformer } = window.hooklab;
    const url = { url: "/repo/models/testdata/tiny-a/" };
    const wasm = await HookedTransformer.load(url, { backend: "wasm" });
    const gpu = await HookedTransformer.load(url, { backend: "webgpu" });
    const long = {
      sweep: "head_pattern_dest_src" as const, clean: "Mary " + "and John went to the store. ".repeat(4),
      corrupted: "John " + "and John went to the store. ".repeat(4), answers: [[" Mary", " John"]] as Array<[string, string]>,
    };
    const controller = new AbortController();
    const outcome = await gpu.patch(long, { signal: controller.signal, onProgress: (f) => f > 0 && controller.abort() })
      .then(() => "finished", (e: Error) => e.name);
    const request = { ...long, sweep: "head_v_by_pos" as const };
    const fractions: number[] = [];
    const got = await gpu.patch(request, { onProgress: (f) => fractions.push(f) });
    const ref = await wasm.patch(request);
    const tol = tolerance * Math.max(1, ...ref.values.map(Math.abs));
    const worst = Math.max(...ref.values.map((v, i) => Math.abs(v - got.values[i]))) / tol;
    const out = { outcome, backend: got.backend, kind: gpu.backend.kind, steps: fractions.length, last: fractions.at(-1), worst };
    wasm.dispose();
    gpu.dispose();
    return out;
  }, TOLERANCE);
  expect(r.outcome).toBe("AbortError");
  expect(r.kind).toBe("webgpu");
  expect(r.backend).toMatch(/^webgpu/);
  expect(r.steps).toBeGreaterThan(2);
  expect(r.last).toBe(1);
  expect(r.worst).toBeLessThan(1);
});

test("generation on WebGPU: KV-cached steps equal the float64 reference fixtures and wasm; edits run on wasm", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const manifest = await (await fetch("/repo/tests/fixtures/generation/manifest.json")).json();
    const loaded = new Map<string, Awaited<ReturnType<typeof HookedTransformer.load>>[]>();
    const problems: string[] = [];
    const ran: Record<string, string> = {};
    let worst = 0;
    for (const c of manifest.cases) {
      const key = `${c.model}|${c.processing}`;
      if (!loaded.has(key)) {
        const url = { url: `/repo/${c.model}/` };
        loaded.set(key, [await HookedTransformer.load(url, { processing: c.processing, backend: "webgpu" }),
          await HookedTransformer.load(url, { processing: c.processing, backend: "wasm" })]);
      }
      const [gpu, wasm] = loaded.get(key)!;
      const s = c.sampling, st = c.steering;
      const options = {
        maxNewTokens: c.max_new_tokens, temperature: s.temperature, topK: s.top_k, topP: s.top_p, freqPenalty: s.freq_penalty, seed: s.seed,
        steering: st ? [{ hook: st.hook, layer: st.layer, coefficient: st.coefficient, from: st.from, to: st.to, positions: st.positions, by: st.by }] : [],
      };
      const streamed: number[] = [];
      const out = await gpu.generate(c.prompt, { ...options, onToken: (step, i) => streamed[i] = step.token });
      const onWasm = await wasm.generate(c.prompt, options);
      ran[c.id] = out.backend;
      const tokens = out.steps.map((x) => x.token);
      if (tokens.join() !== c.tokens.join()) problems.push(`${c.id}: tokens ${tokens} vs ${c.tokens}`);
      if (streamed.join() !== c.tokens.join()) problems.push(`${c.id}: streamed ${streamed}`);
      if (onWasm.steps.map((x) => x.token).join() !== tokens.join()) problems.push(`${c.id}: wasm chose other tokens`);
      c.steps.forEach((ref: { prob: number; sample_prob: number; top: number[][] }, k: number) => {
        const mine = out.steps[k];
        if (mine.top.map((t) => t.token).join() !== ref.top.map((t) => t[0]).join()) problems.push(`${c.id} step ${k}: top-5`);
        for (const d of [mine.prob - ref.prob, mine.sampleProb - ref.sample_prob, ...mine.top.map((t, j) => t.prob - ref.top[j][1])]) worst = Math.max(worst, Math.abs(d));
      });
    }
    for (const models of loaded.values()) models.forEach((m) => m.dispose());
    return { problems, worst, ran, steered: manifest.cases.filter((c: { steering?: unknown }) => c.steering).map((c: { id: string }) => c.id) };
  });
  console.log(`  WebGPU generation: worst |prob - reference| ${r.worst.toExponential(2)}; ran on ${[...new Set(Object.values(r.ran))].join(", ")}`);
  expect(r.problems).toEqual([]);
  expect(r.worst).toBeLessThanOrEqual(1e-5);
  for (const [id, backend] of Object.entries(r.ran)) {
    // Plain sampling on the GPU; steering edits activations, which only wasm does.
    if (r.steered.includes(id)) expect(backend, id).not.toMatch(/^webgpu/);
    else expect(backend, id).toMatch(/^webgpu/);
  }
  expect(Object.values(r.ran).filter((b) => b.startsWith("webgpu")).length).toBeGreaterThanOrEqual(5);
});

test("generation on WebGPU fills the context: every step's top-5 equals a full GPU forward of its prefix", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const gpu = await HookedTransformer.load({ url: "/repo/models/testdata/tiny-a/" }, { backend: "webgpu" });
    const prompt = await gpu.toTokens("The cat sat on the mat and");
    const room = gpu.cfg.n_ctx - prompt.length;
    const out = await gpu.generate(prompt, { maxNewTokens: room, temperature: 1.1, seed: 4 });
    let worst = 0;
    const problems: string[] = [];
    for (let k = 0; k < room; k++) {
      // The step's top-5 probabilities from the KV-cached step, against the softmax of a full
      // forward (on the GPU, no cache) over the prompt and the tokens chosen before step k.
      const prefix = out.tokens.subarray(0, prompt.length + k);
      const full = await gpu.runWithCache(prefix, { namesFilter: () => false });
      const V = gpu.cfg.d_vocab, row = full.logits.data.subarray((prefix.length - 1) * V, prefix.length * V);
      const max = Math.max(...row);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      for (const t of out.steps[k].top) worst = Math.max(worst, Math.abs(Math.exp(row[t.token] - max) / sum - t.prob));
      if (full.backend !== out.backend) problems.push(`step ${k}: full forward on ${full.backend}`);
    }
    const tooLong = await gpu.generate(prompt, { maxNewTokens: room + 1 }).then(() => "no error", (e: Error) => e.message);
    const none = await gpu.generate(prompt, { maxNewTokens: 0 });
    if (none.steps.length !== 0 || none.tokens.length !== prompt.length || !none.backend.startsWith("webgpu")) problems.push("maxNewTokens 0");
    const backend = out.backend, steps = out.steps.length, length = out.tokens.length, nCtx = gpu.cfg.n_ctx;
    gpu.dispose();
    return { worst, problems, tooLong, backend, steps, room, length, nCtx };
  });
  expect(r.problems).toEqual([]);
  expect(r.backend).toMatch(/^webgpu/);
  expect(r.steps).toBe(r.room);
  expect(r.length).toBe(r.nCtx);
  expect(r.worst).toBeLessThanOrEqual(1e-5);
  expect(r.tooLong).toMatch(/maxNewTokens/);
});

test("generation on WebGPU: Stop between tokens keeps the GPU model usable; a lost GPU restarts it on wasm", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const url = { url: "/repo/models/testdata/tiny-a/" };
    const gpu = await HookedTransformer.load(url, { backend: "webgpu" });
    const wasm = await HookedTransformer.load(url, { backend: "wasm" });
    // 50 tokens: the loss, asked for at step 4, reaches the worker long before the last step.
    const options = { maxNewTokens: 50, temperature: 0.9, seed: 2 };
    const controller = new AbortController();
    let seen = 0;
    const stopped = await gpu.generate("Hello world", { ...options, signal: controller.signal, onToken: () => ++seen === 3 && controller.abort() })
      .then(() => "finished", (e: Error) => e.name);
    const again = await gpu.generate("Hello world", options);
    const ref = await wasm.generate("Hello world", options);
    const indices: number[] = [];
    let lost = false;
    const afterLoss = await gpu.generate("Hello world", {
      ...options,
      onToken: (_step, i) => {
        indices.push(i);
        if (!lost && i === 4) {
          lost = true;
          window.hooklab.testing.simulateDeviceLoss(gpu);
        }
      },
    });
    const out = {
      stopped, seen, againBackend: again.backend, same: again.steps.map((s) => s.token).join() === ref.steps.map((s) => s.token).join(),
      lossBackend: afterLoss.backend, wasmName: wasm.cfg.backend, lossSame: afterLoss.steps.map((s) => s.token).join() === ref.steps.map((s) => s.token).join(),
      restartedAt: indices.indexOf(0, 1), kind: gpu.backend.kind,
    };
    gpu.dispose();
    wasm.dispose();
    return out;
  });
  expect(r.stopped).toBe("AbortError");
  expect(r.seen).toBeLessThan(50);
  expect(r.againBackend).toMatch(/^webgpu/);
  expect(r.same).toBe(true);
  expect(r.lossBackend).toBe(r.wasmName);
  expect(r.lossSame).toBe(true);
  expect(r.restartedAt).toBeGreaterThan(0);
  expect(r.kind).toBe("wasm");
});
