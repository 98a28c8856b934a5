// window.ortPeer: onnxruntime-web's wasm execution provider on the same ONNX export of the
// benchmark model (bench/onnx/export_gpt2_onnx.py), timed inside the page so Playwright's
// round trips are not counted; generate() drives the export with past key/values
// (bench/onnx/export_gpt2_kv_onnx.py) for bench/generate.mjs. ORT's runtime files are copied to build/bench/ort/ by
// bench/forward.mjs from node_modules/onnxruntime-web/dist.
import * as ort from "/repo/build/bench/ort/ort.wasm.min.mjs";

let session;

function inputFor(tokens) {
  return { input_ids: new ort.Tensor("int64", BigInt64Array.from(tokens, (t) => BigInt(t)), [1, tokens.length]) };
}

function argmaxLastRow(logits) {
  const vocab = logits.dims[2];
  const row = logits.data.subarray(logits.data.length - vocab);
  let best = 0;
  for (let v = 1; v < vocab; v++) if (row[v] > row[best]) best = v;
  return best;
}

window.ortPeer = {
  /** Creates the session; numThreads > 1 needs this page's cross-origin isolation. */
  async load(modelUrl, threads) {
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.simd = true;
    ort.env.wasm.proxy = false;  // run on this page's thread, as a page embedding ORT would by default
    ort.env.wasm.wasmPaths = new URL("/repo/build/bench/ort/", location.href).href;
    const t0 = performance.now();
    session = await ort.InferenceSession.create(modelUrl, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    return { loadMs: performance.now() - t0, isolated: self.crossOriginIsolated, version: ort.env.versions?.web ?? null,
      threads: ort.env.wasm.numThreads };
  },

  /** Milliseconds of each forward, after `warmup` untimed ones (the first run of a new T plans memory). */
  async time(tokens, reps, warmup) {
    const feeds = inputFor(tokens);
    const times = [];
    for (let r = 0; r < warmup + reps; r++) {
      const t0 = performance.now();
      const out = await session.run(feeds);
      const ms = performance.now() - t0;
      out.logits.dispose?.();
      if (r >= warmup) times.push(ms);
    }
    return times;
  },

  /** Logit rows at `positions`, for the cross-check against hooklab. */
  async logitRows(tokens, positions) {
    const out = await session.run(inputFor(tokens));
    const vocab = out.logits.dims[2];
    return positions.map((p) => Array.from(out.logits.data.subarray(p * vocab, (p + 1) * vocab)));
  },

  /** Greedy generation on the KV export: the prompt in one run (empty pasts), then one token per
   *  run fed the previous presents (shape [1, heads, P, headDim]). Returns the new tokens and
   *  each step's ms (argmax included). */
  async generate(tokens, newTokens, { heads, headDim }) {
    const pasts = session.inputNames.filter((n) => n.startsWith("past_"));
    let feeds = inputFor(tokens);
    for (const name of pasts) feeds[name] = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, headDim]);
    const generated = [], stepMs = [];
    for (let step = 0; step < newTokens; step++) {
      const t0 = performance.now();
      const out = await session.run(feeds);
      const next = argmaxLastRow(out.logits);
      stepMs.push(performance.now() - t0);
      generated.push(next);
      feeds = inputFor([next]);
      for (const name of pasts) feeds[name] = out[name.replace("past_", "present_")];
    }
    return { generated, stepMs };
  },

  async release() {
    await session?.release();
    session = undefined;
  },
};
document.documentElement.dataset.ready = "true";
