// IEEE 754 binary16 (f16) and bfloat16 conversions, shared by the safetensors reader/writer and
// the f16 weight storage of PackedMatrix. Round to nearest, ties to even; f32 values beyond the
// f16 range become +-inf (callers that store weights check for that first).
#pragma once

#include <cstdint>

namespace hooklab {

// The largest finite f16 value; anything of larger magnitude (after rounding) is inf in f16.
inline constexpr float kF16Max = 65504.0f;

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);
// out[i] = f32_to_f16(in[i]) for i < n; false when some in[i] is not finite in f16 (|x| > 65504,
// inf or NaN), which weights kept as f16 cannot hold.
bool store_f16(uint16_t* out, const float* in, int64_t n);
// Elements [first, first + count) of weight storage held either as f32 (f32 != null) or as f16,
// into out as f32: a copy, or an exact widening. The one reader of both storages.
void read_f32_or_f16(float* out, const float* f32, const uint16_t* f16, int64_t first, int64_t count);

}  // namespace hooklab
