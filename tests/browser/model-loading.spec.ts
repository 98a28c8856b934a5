// Loading models in Chromium through the public API: from the hub stand-in of the test server
// (tests/browser/server.mjs) into the browser's store (OPFS) and back offline, through a
// dropped connection (resumed with a range request), wrong sizes and hashes, a 404, and from
// local files. The store is listed and cleared from the page with listStoredModels /
// removeStoredModel, as a "manage storage" view would.
import { test, expect, type Page } from "@playwright/test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tinyA = readFileSync(join(root, "models/testdata/tiny-a/model.safetensors"));
const tinyASha = createHash("sha256").update(tinyA).digest("hex");
// tiny-a's mean loss on "Hello world!" (engine.spec.ts, from the PyTorch reference).
const TINY_A_LOSS = 18.4741233;

interface HubRequest {
  path: string;
  range: string | null;
  refused: boolean;
}

/** Opens the harness with an empty store and a reset hub stand-in. */
async function open(page: Page, isolated = false) {
  await page.goto(isolated ? "/harness.html" : "/plain/harness.html");
  await expect(page.locator("html")).toHaveAttribute("data-ready", "true");
  await page.request.get("/__reset");
  await page.evaluate(async () => {
    for (const f of await window.hooklab.listStoredModels()) await window.hooklab.removeStoredModel(f.key);
  });
}

async function hubLog(page: Page): Promise<HubRequest[]> {
  return (await page.request.get("/__hub-log")).json();
}

/** Loads a hub id from the stand-in; returns the progress events, the loss or the error. */
async function loadFromHub(page: Page, id: string) {
  return page.evaluate(async (id) => {
    const { HookedTransformer, listStoredModels } = window.hooklab;
    const events: Array<{ stage: string; fraction: number; loadedBytes?: number; file?: string; notStored?: string }> = [];
    let loss: number | undefined, error: string | undefined;
    try {
      const model = await HookedTransformer.load({ hub: id }, {
        hubEndpoint: `${location.origin}/hub`,
        onProgress: (p) => events.push({ stage: p.stage, fraction: p.fraction, loadedBytes: p.loadedBytes, file: p.file, notStored: p.notStored }),
      });
      loss = (await model.loss("Hello world!")).mean;
      model.dispose();
    } catch (e) {
      error = (e as Error).message;
    }
    return { events, loss, error, stored: await listStoredModels() };
  }, id);
}

type Loaded = Awaited<ReturnType<typeof loadFromHub>>;

/** Download fractions never go back and reach 1, then the core's load runs to 1. */
function expectOrderedProgress(r: Loaded) {
  const download = r.events.filter((e) => e.stage === "download");
  const load = r.events.filter((e) => e.stage === "load");
  expect(download.length).toBeGreaterThan(0);
  expect(load.length).toBeGreaterThan(0);
  for (let i = 1; i < download.length; i++) expect(download[i].fraction).toBeGreaterThanOrEqual(download[i - 1].fraction);
  expect(download.at(-1)!.fraction).toBe(1);
  const lastDownload = r.events.map((e) => e.stage).lastIndexOf("download");
  expect(r.events.findIndex((e) => e.stage === "load")).toBeGreaterThan(lastDownload);
  expect(load.at(-1)!.fraction).toBe(1);
}

for (const isolated of [false, true]) {
  test(`hub load is stored, listed, loads again offline, and can be removed (${isolated ? "pthreads" : "single-threaded"} build)`, async ({ page }) => {
    await open(page, isolated);
    const first = await loadFromHub(page, "test/tiny-a");
    expect(first.error).toBeUndefined();
    expectOrderedProgress(first);
    expect(Math.abs(first.loss! - TINY_A_LOSS)).toBeLessThan(1e-4);
    const weights = first.stored.find((f) => f.url.endsWith("/hub/test/tiny-a/resolve/main/model.safetensors"));
    expect(weights).toMatchObject({ size: tinyA.length, sha256: tinyASha });
    expect(first.stored.some((f) => f.url.endsWith("/hub/test/tiny-a/resolve/main/config.json"))).toBe(true);

    // The hub is unreachable now (the page's own files are not): the store serves the model.
    // The server drops the hub's connections itself; Playwright's request interception is not
    // used here, because it waits on every worker target and the engine worker of the first
    // load, just terminated with its pthreads, sometimes never answers.
    const before = (await hubLog(page)).length;
    await page.request.get("/__hub-offline");
    const second = await loadFromHub(page, "test/tiny-a");
    expect(second.error).toBeUndefined();
    expect(second.loss).toBe(first.loss);
    expect(second.events.find((e) => e.stage === "download")).toMatchObject({ fraction: 1, loadedBytes: tinyA.length });
    const offlineRequests = (await hubLog(page)).slice(before);
    expect(offlineRequests.length).toBeGreaterThan(0);  // it did try the hub (for metadata) and fell back
    expect(offlineRequests.filter((q) => !q.refused)).toEqual([]);
    await page.request.get("/__reset");

    const removed = await page.evaluate(async (key) => {
      const { listStoredModels, removeStoredModel } = window.hooklab;
      const results = [await removeStoredModel(key), await removeStoredModel(key)];
      return { results, left: (await listStoredModels()).map((f) => f.key) };
    }, weights!.key);
    expect(removed.results).toEqual([true, false]);
    expect(removed.left).not.toContain(weights!.key);
  });
}

test("a connection dropped mid-file resumes with a range request and the hash still verifies", async ({ page }) => {
  await open(page);
  const r = await loadFromHub(page, "test/drop-tiny-a");
  expect(r.error).toBeUndefined();
  expect(Math.abs(r.loss! - TINY_A_LOSS)).toBeLessThan(1e-4);
  const weightRequests = (await hubLog(page)).filter((q) => q.path.endsWith("/model.safetensors"));
  expect(weightRequests.length).toBe(2);
  expect(weightRequests[0].range).toBeNull();
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(weightRequests[1].range ?? "")?.[1]);
  expect(resumedAt).toBeGreaterThan(0);
  expect(resumedAt).toBeLessThan(tinyA.length);
  // Bytes already received are never fetched again: progress only moves forward.
  const loaded = r.events.filter((e) => e.stage === "download").map((e) => e.loadedBytes!);
  for (let i = 1; i < loaded.length; i++) expect(loaded[i]).toBeGreaterThanOrEqual(loaded[i - 1]);
  expectOrderedProgress(r);
  expect(r.stored.find((f) => f.url.endsWith("/test/drop-tiny-a/resolve/main/model.safetensors"))).toMatchObject({
    size: tinyA.length, sha256: tinyASha,
  });
});

test("a download interrupted in an earlier session resumes from the stored prefix, even a complete one", async ({ page }) => {
  await open(page);
  // What a closed tab leaves behind: data (a prefix) + download.json, no meta.json yet.
  const leaveInterrupted = (prefixBytes: number) => page.evaluate(async ({ prefixBytes, size, sha256 }) => {
    const url = `${location.origin}/hub/test/tiny-a/resolve/main/model.safetensors`;
    const key = url.replace(/^https?:\/\//, "").replace(/[^\w.@-]+/g, "_").slice(-200);  // model-store.ts's storeKey
    const bytes = await (await fetch("/repo/models/testdata/tiny-a/model.safetensors")).arrayBuffer();
    const store = await (await navigator.storage.getDirectory()).getDirectoryHandle("hooklab-models", { create: true });
    const dir = await store.getDirectoryHandle(key, { create: true });
    const write = async (name: string, data: BufferSource | string) => {
      const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
      await w.write(data);
      await w.close();
    };
    await write("data", bytes.slice(0, prefixBytes));
    await write("download.json", JSON.stringify({ url, size, sha256 }));
  }, { prefixBytes, size: tinyA.length, sha256: tinyASha });

  for (const prefix of [Math.floor(tinyA.length / 3), tinyA.length]) {
    await page.request.get("/__reset");
    await leaveInterrupted(prefix);
    const r = await loadFromHub(page, "test/tiny-a");
    expect(r.error).toBeUndefined();
    expect(Math.abs(r.loss! - TINY_A_LOSS)).toBeLessThan(1e-4);
    const weightRequests = (await hubLog(page)).filter((q) => q.path.endsWith("/model.safetensors"));
    expect(weightRequests.map((q) => q.range)).toEqual([`bytes=${prefix}-`]);
    expect(r.stored.find((f) => f.url.endsWith("/test/tiny-a/resolve/main/model.safetensors"))).toMatchObject({
      size: tinyA.length, sha256: tinyASha,
    });
    await page.evaluate(async () => {
      for (const f of await window.hooklab.listStoredModels()) await window.hooklab.removeStoredModel(f.key);
    });
  }
});

for (const [fault, fragments] of [
  ["badsize", ["test/badsize-tiny-a/model.safetensors", `downloaded ${tinyA.length} bytes`, `announced ${tinyA.length + 1000}`]],
  ["corrupt", ["test/corrupt-tiny-a/model.safetensors", "SHA-256", tinyASha, "does not match", "0".repeat(64)]],
] as const) {
  test(`a download with the wrong ${fault === "badsize" ? "size" : "SHA-256"} is rejected and not stored`, async ({ page }) => {
    await open(page);
    const r = await loadFromHub(page, `test/${fault}-tiny-a`);
    expect(r.loss).toBeUndefined();
    for (const fragment of fragments) expect(r.error).toContain(fragment);
    expect(r.stored.filter((f) => f.url.endsWith(`/test/${fault}-tiny-a/resolve/main/model.safetensors`))).toEqual([]);
    // Nothing half-written either: the directory of that file is gone, not just its meta.json.
    const keys = await page.evaluate(async () => {
      const store = await (await navigator.storage.getDirectory()).getDirectoryHandle("hooklab-models");
      const names: string[] = [];
      for await (const name of (store as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      return names;
    });
    expect(keys.filter((k) => k.includes(`${fault}-tiny-a`) && k.endsWith("model.safetensors"))).toEqual([]);
  });
}

test("a model the hub does not have gives a clear 404 error", async ({ page }) => {
  await open(page);
  const r = await loadFromHub(page, "test/missing");
  expect(r.error).toContain("test/missing");
  expect(r.error).toContain("404");
  expect(r.error).toContain("not found");
  expect(r.stored).toEqual([]);
});

/**
 * Fills the page's file store (outside the model store) until a write comes back short: the
 * limit Chromium puts on a store kept in memory, as in this context and in private windows
 * (1.3-1.7 GB here; navigator.storage.estimate() does not show it). Returns the bytes written.
 */
function fillStore(page: Page): Promise<number> {
  return page.evaluate(() => {
    const source = `onmessage = async () => {
      const root = await navigator.storage.getDirectory();
      const access = await (await root.getFileHandle("filler", { create: true })).createSyncAccessHandle();
      const chunk = new Uint8Array(64 << 20);
      let at = 0;
      while (at < 16 * 2 ** 30 && access.write(chunk, { at }) === chunk.length) at += chunk.length;
      access.close();
      postMessage(at < 16 * 2 ** 30 ? at : -1);
    };`;
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    return new Promise<number>((resolve) => {
      worker.onmessage = ({ data }) => {
        worker.terminate();
        resolve(data as number);
      };
      worker.postMessage(0);
    });
  });
}

test("a store with no room left: the model loads from memory with the same checks, is not kept, and the progress says so", async ({ page }) => {
  test.setTimeout(600_000);
  await open(page);
  const filled = await fillStore(page);
  expect(filled, "the store never wrote short (no limit within 16 GiB)").toBeGreaterThan(0);

  const full = await loadFromHub(page, "test/tiny-a");
  expect(full.error).toBeUndefined();
  expect(Math.abs(full.loss! - TINY_A_LOSS)).toBeLessThan(1e-4);
  const told = full.events.filter((e) => e.notStored);
  expect(told).toHaveLength(1);
  expect(told[0].file).toBe("test/tiny-a/model.safetensors");
  expect(told[0].notStored).toContain("storage for the site is full or limited");
  expect(told[0].notStored).toContain("not kept");
  expect(full.stored.filter((f) => f.url.includes("/test/tiny-a/"))).toEqual([]);
  // A corrupt download is still refused from memory.
  const corrupt = await loadFromHub(page, "test/corrupt-tiny-a");
  expect(corrupt.error).toContain("does not match");

  // With room again, the same model is stored, and nothing says otherwise.
  await page.evaluate(async () => (await navigator.storage.getDirectory()).removeEntry("filler"));
  const roomy = await loadFromHub(page, "test/tiny-a");
  expect(roomy.error).toBeUndefined();
  expect(roomy.events.filter((e) => e.notStored)).toEqual([]);
  expect(roomy.stored.some((f) => f.url.endsWith("/hub/test/tiny-a/resolve/main/model.safetensors"))).toBe(true);
});

/** A GPT-2 config.json of the given size, alone in a directory the test server serves under /repo/build/bench/. */
function configOnlyModel(name: string, nEmbd: number, nLayer: number, nHead: number): string {
  const config = JSON.stringify({ model_type: "gpt2", vocab_size: 50257, n_positions: 1024, n_ctx: 1024, n_embd: nEmbd,
    n_layer: nLayer, n_head: nHead, layer_norm_epsilon: 1e-5, activation_function: "gelu_new" });
  mkdirSync(join(root, "build/bench", name), { recursive: true });
  writeFileSync(join(root, "build/bench", name, "config.json"), config);
  return config;
}

test("a model too large for wasm memory is refused from its config.json, before any weights are read or downloaded", async ({ page }) => {
  const xl = configOnlyModel("gpt2-xl-config-only", 1600, 48, 25);
  configOnlyModel("gpt2-large-config-only", 1280, 36, 20);
  await open(page);
  const r = await page.evaluate(async (xl) => {
    const { HookedTransformer } = window.hooklab;
    const attempt = (source: Parameters<typeof HookedTransformer.load>[0]) =>
      HookedTransformer.load(source).then((m) => (m.dispose(), "loaded"), (e: Error) => e.message);
    // Local files whose weights are not a safetensors file at all: refused before they are read.
    const files = await attempt({ files: { config: xl, weights: new Blob([new Uint8Array(16)]) } });
    // Directories with a config.json and no model.safetensors: GPT-2 XL is refused before its
    // download is tried; GPT-2 large fits (3.1 GiB) and gets as far as the missing file.
    const url = await attempt({ url: "/repo/build/bench/gpt2-xl-config-only/" });
    const large = await attempt({ url: "/repo/build/bench/gpt2-large-config-only/" });
    // With f16 weights (3.1 GiB) GPT-2 XL passes the check too.
    const xlHalf = await HookedTransformer.load({ url: "/repo/build/bench/gpt2-xl-config-only/" }, { weights: "f16" })
      .then((m) => (m.dispose(), "loaded"), (e: Error) => e.message);
    const config = await (await fetch("/repo/models/testdata/tiny-a/config.json")).text();
    const weights = await (await fetch("/repo/models/testdata/tiny-a/model.safetensors")).arrayBuffer();
    const model = await HookedTransformer.load({ files: { config, weights } });
    const after = (await model.loss("Hello world!")).mean;
    model.dispose();
    return { files, url, large, xlHalf, after };
  }, xl);
  for (const message of [r.files, r.url]) {
    expect(message).toMatch(/needs 6\.\d GiB of memory for its weights/);
    expect(message).toContain("at most 4.0 GiB");
    expect(message).toContain("with f16 weights it would need 3.1 GiB and fit");
  }
  expect(r.xlHalf).toContain("model.safetensors");
  expect(r.xlHalf).not.toContain("memory");
  expect(r.large).toContain("model.safetensors");
  expect(r.large).not.toContain("memory");
  expect(Math.abs(r.after - TINY_A_LOSS)).toBeLessThan(1e-4);
});

test("local files load (ArrayBuffer and Blob); a truncated file fails with the core's message and the next load works", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const config = await (await fetch("/repo/models/testdata/tiny-a/config.json")).text();
    const weights = await (await fetch("/repo/models/testdata/tiny-a/model.safetensors")).arrayBuffer();
    const lossOf = async (files: { config: string | Blob; weights: ArrayBuffer | Blob }) => {
      const model = await HookedTransformer.load({ files });
      try {
        return (await model.loss("Hello world!")).mean;
      } finally {
        model.dispose();
      }
    };
    const fromBuffer = await lossOf({ config, weights: weights.slice(0) });
    const fromBlob = await lossOf({ config: new Blob([config]), weights: new Blob([weights]) });
    const truncated = await lossOf({ config, weights: weights.slice(0, weights.byteLength - 4096) })
      .then(() => "loaded", (e: Error) => e.message);
    const after = await lossOf({ config, weights });
    return { fromBuffer, fromBlob, truncated, after };
  });
  expect(Math.abs(r.fromBuffer - 18.4741233)).toBeLessThan(1e-4);
  expect(r.fromBlob).toBe(r.fromBuffer);
  expect(r.truncated).toContain("model.safetensors");
  expect(r.truncated).toContain("truncated file?");
  expect(r.after).toBe(r.fromBuffer);
});

test("half-precision models (tiny-b f16, tiny-c bf16) from the hub compute what their local files do", async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { HookedTransformer } = window.hooklab;
    const out: Record<string, { hub: number[]; local: number[] }> = {};
    for (const name of ["tiny-b", "tiny-c"]) {
      const hub = await HookedTransformer.load({ hub: `test/${name}` }, { hubEndpoint: `${location.origin}/hub` });
      const base = `/repo/models/testdata/${name}`;
      const local = await HookedTransformer.load({ files: {
        config: await (await fetch(`${base}/config.json`)).text(),
        weights: await (await fetch(`${base}/model.safetensors`)).arrayBuffer(),
      } });
      const logits = async (m: typeof hub) => Array.from((await m.runWithHooks("The cat sat", { fwdHooks: [] })).logits.data.slice(0, 2000));
      out[name] = { hub: await logits(hub), local: await logits(local) };
      hub.dispose();
      local.dispose();
    }
    return out;
  });
  for (const name of ["tiny-b", "tiny-c"]) {
    expect(r[name].hub.length).toBe(2000);
    expect(r[name].hub).toEqual(r[name].local);
  }
});
