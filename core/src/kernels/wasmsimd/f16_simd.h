// f16 -> f32 in wasm SIMD (no conversion instruction exists): shared by widen_f16 and the
// micro-kernels that read f16 panels directly.
//
// For an f16 value h, the f32 bits (sign << 31) | ((h & 0x7fff) << 13) hold exactly h * 2^-112,
// for every finite h, subnormals included (they land on f32 subnormals, which are exact). They
// are built from two 16-bit halves per 32-bit lane: the high half is sign | (h & 0x7fff) >> 3
// (an arithmetic shift, then the three copied sign bits cleared), the low half is h << 13.
// Multiplying by 2^112 (kF16Rebias) gives h; a kernel can instead fold 2^112 into its other
// operand.
#pragma once

#include <wasm_simd128.h>

namespace hooklab::wasmsimd {

inline constexpr float kF16Rebias = 0x1p112f;

// Eight f16 values -> eight f32 values times 2^-112: lanes 0-3 in lo, 4-7 in hi.
inline void widen_f16x8_scaled(v128_t h, v128_t& lo, v128_t& hi) {
  const v128_t high = wasm_v128_and(wasm_i16x8_shr(h, 3), wasm_i16x8_const_splat(static_cast<int16_t>(0x8fff)));
  const v128_t low = wasm_i16x8_shl(h, 13);
  lo = wasm_i16x8_shuffle(low, high, 0, 8, 1, 9, 2, 10, 3, 11);
  hi = wasm_i16x8_shuffle(low, high, 4, 12, 5, 13, 6, 14, 7, 15);
}

}  // namespace hooklab::wasmsimd
