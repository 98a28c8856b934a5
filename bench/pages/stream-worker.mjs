// One thread of bench/pages/stream-bandwidth.mjs: owns a buffer in its own instance of
// bench/kernels/stream_bandwidth.c and streams it on request.
let instance, base, count;

onmessage = async ({ data }) => {
  if (data.op === "init") {
    instance = await WebAssembly.instantiate(data.module, {});
    const memory = instance.exports.memory;
    base = memory.buffer.byteLength;  // the grown pages start here, 64 KiB aligned
    memory.grow(data.bytes / 65536);
    count = data.bytes / 4;
    new Float32Array(memory.buffer, base, count).fill(1);  // touch every page before timing
    instance.exports.stream_sum(base, count);
    postMessage({ ready: true });
    return;
  }
  let sum = 0;
  const t0 = performance.now();
  for (let r = 0; r < data.reps; r++) sum += instance.exports.stream_sum(base, count);
  postMessage({ ms: performance.now() - t0, bytes: data.reps * count * 4, sum });
};
