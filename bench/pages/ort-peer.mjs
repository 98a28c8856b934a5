// window.ortPeer: onnxruntime-web's wasm execution provider on the same ONNX export of the
// benchmark model (bench/onnx/export_gpt2_onnx.py), timed inside the page so Playwright's
// round trips are not counted. ORT's runtime files are copied to build/bench/ort/ by
// bench/forward.mjs from node_modules/onnxruntime-web/dist.
import * as ort from "/repo/build/bench/ort/ort.wasm.min.mjs";

let session;

function inputFor(tokens) {
  return { input_ids: new ort.Tensor("int64", BigInt64Array.from(tokens, (t) => BigInt(t)), [1, tokens.length]) };
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

  async release() {
    await session?.release();
    session = undefined;
  },
};
document.documentElement.dataset.ready = "true";
