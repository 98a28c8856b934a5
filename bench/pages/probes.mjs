// The wasm SIMD ceiling and single-GEMM throughput of the page that imports it, measured by a
// module of their own (build/bench/probes/, bench/kernels/probe_bindings.cpp) in a worker beside
// the lab's engine, so the lab's wasm module carries no benchmark code. The pthreads build is
// used for threads > 1 when the page is cross-origin isolated, as the engine does.

/** A probe worker; every method resolves to the probe's result object. */
export async function openProbes({ base, threads }) {
  const variant = threads > 1 && globalThis.crossOriginIsolated ? "mt" : "st";
  const worker = new Worker(new URL("./probe-worker.mjs", import.meta.url), { type: "module" });
  let queue = Promise.resolve();
  const ask = (message) => {
    const answer = queue.then(() => new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => (data.error ? reject(new Error(data.error)) : resolve(data.value));
      worker.onerror = (e) => reject(new Error(e.message || "probe worker failed"));
      worker.postMessage(message);
    }));
    queue = answer.catch(() => {});
    return answer;
  };
  await ask({ op: "init", variant, base: new URL(base, location.href).href });
  return {
    variant,
    /** {gflops, oneThreadGflops, threads, isa}: all `threads` mul + add chains at once. */
    simdPeak: (milliseconds, threads) => ask({ op: "peak", milliseconds, threads }),
    /** {bestGflops, medianGflops, calls, threads, backend} of [m, k] x [k, n] + bias with GEMM kernel
     *  `kernel` (e.g. "5x8_loadsplat"; "" for the backend's default), or {error}. */
    gemm: (m, k, n, threads, milliseconds, kernel = "") => ask({ op: "gemm", m, k, n, threads, milliseconds, kernel }),
    close: () => worker.terminate(),
  };
}
