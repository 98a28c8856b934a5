// The core's one random number generator: splitmix64 (Steele, Lea & Flood 2014, the seeding
// generator of xoshiro). Its stream depends only on the seed — the same on every platform,
// compiler, backend and thread count — so a seeded bootstrap or sample can be reproduced
// anywhere, including by the Python reference (tests/reference/generation.py).
#pragma once

#include <cstdint>

namespace hooklab {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1): the top 53 bits of next() times 2^-53 (exact in a double).
  double next_unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

}  // namespace hooklab
