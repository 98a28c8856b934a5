// The .npy reader on arbitrary bytes, and the writer on what it accepts: an accepted array has
// as many values as its shape says, and encode_npy -> decode_npy gives back the same shape and
// the same bits (f8 input is converted to f32 once, so the round trip starts from the f32 values).
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "hooklab/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hooklab;
  auto array = decode_npy(std::vector<uint8_t>(data, data + size), "input.npy");
  if (!array.ok()) {
    fuzz::require_clear_error(array.error());
    return 0;
  }
  fuzz::require(static_cast<size_t>(shape_numel(array->shape)) == array->values.size(), "numel == value count");
  auto again = decode_npy(encode_npy(array->values.data(), array->shape), "round-trip.npy");
  fuzz::require(again.ok(), "what encode_npy writes decodes", again.ok() ? "" : again.error().message);
  fuzz::require(again->shape == array->shape, "the shape survives a round trip");
  fuzz::require(again->values.size() == array->values.size() &&
                    (array->values.empty() ||
                     std::memcmp(again->values.data(), array->values.data(), array->values.size() * 4) == 0),
                "the values survive a round trip bit for bit");
  return 0;
}
