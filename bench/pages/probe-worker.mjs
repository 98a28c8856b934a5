// The worker of bench/pages/probes.mjs: loads build/bench/probes/probes-{st,mt}.mjs (the peak
// and GEMM probes, bench/kernels/probe_bindings.cpp) and answers one request at a time.
let probes;

onmessage = async ({ data }) => {
  try {
    if (data.op === "init") {
      const glue = new URL(`probes-${data.variant}.mjs`, data.base).href;
      const { default: create } = await import(glue);
      probes = await create({ locateFile: (path) => new URL(path, data.base).href, mainScriptUrlOrBlob: glue });
      postMessage({ value: true });
    } else if (data.op === "peak") {
      postMessage({ value: probes.measureSimdPeak(data.milliseconds, data.threads) });
    } else {
      const { m, k, n, threads, milliseconds, kernel } = data;
      postMessage({ value: probes.measureGemm(m, k, n, threads, milliseconds, kernel) });
    }
  } catch (e) {
    postMessage({ error: String(e?.message ?? e) });
  }
};
