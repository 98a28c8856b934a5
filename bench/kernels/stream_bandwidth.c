// Streaming read bandwidth for bench/generate.mjs's memory floor: one KV-cached generation step
// reads every weight once, so its time cannot go below weight bytes / the rate at which the page
// can stream memory. Compiled on its own (no runtime, no imports) to a small wasm module that the
// bench instantiates in the same Chromium page as hooklab, once per thread in Web Workers.
//
//   emcc -O3 -msimd128 --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sMAXIMUM_MEMORY=1gb \
//        -sEXPORTED_FUNCTIONS=_stream_sum bench/kernels/stream_bandwidth.c -o build/bench/stream_bandwidth.wasm
#include <stddef.h>
#include <wasm_simd128.h>

// Sums n floats (n a multiple of 16, p 16-byte aligned) with SIMD128 loads into four independent
// accumulators, so the loop is bound by loads, not by the add latency. The sum is returned so
// the loads cannot be dropped.
float stream_sum(const float* p, size_t n) {
  v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i < n; i += 16) {
    a0 = wasm_f32x4_add(a0, wasm_v128_load(p + i));
    a1 = wasm_f32x4_add(a1, wasm_v128_load(p + i + 4));
    a2 = wasm_f32x4_add(a2, wasm_v128_load(p + i + 8));
    a3 = wasm_f32x4_add(a3, wasm_v128_load(p + i + 12));
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) +
         wasm_f32x4_extract_lane(s, 3);
}
