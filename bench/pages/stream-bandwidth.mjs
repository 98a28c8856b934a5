// Streaming read bandwidth of the page that imports it: `threads` Web Workers, each summing its
// own buffer (bench/kernels/stream_bandwidth.c, SIMD128 loads) at the same time. Used by
// bench/generate.mjs for the memory floor of a KV-cached generation step.

const reply = (worker) => new Promise((resolve) => { worker.onmessage = ({ data }) => resolve(data); });

/** GB/s (1e9 bytes) of each round: all threads' bytes over the slowest thread's time. */
export async function measureStreamBandwidth({ wasmUrl, threads, megabytesPerThread = 256, reps = 4, rounds = 5 }) {
  const module = await WebAssembly.compileStreaming(fetch(wasmUrl));
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./stream-worker.mjs", import.meta.url), { type: "module" }));
  try {
    const bytes = megabytesPerThread * (1 << 20);
    await Promise.all(workers.map((w) => { const r = reply(w); w.postMessage({ op: "init", module, bytes }); return r; }));
    const gbPerS = [];
    for (let round = 0; round < rounds; round++) {
      const results = await Promise.all(workers.map((w) => { const r = reply(w); w.postMessage({ op: "run", reps }); return r; }));
      const total = results.reduce((s, x) => s + x.bytes, 0);
      gbPerS.push(total / Math.max(...results.map((x) => x.ms)) / 1e6);
    }
    return gbPerS;
  } finally {
    workers.forEach((w) => w.terminate());
  }
}
