// Minimal harness for backend_ops_test: deterministic data, the normalised error metric, the
// backends under test, and one report line per (case, backend). No GoogleTest, so the same
// source runs natively and, compiled by em++, in Node.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "hooklab/backend.h"

namespace hooklab::backend_ops {

// xorshift64*: the same stream on every platform, so a failing case reproduces anywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  float uniform(float lo, float hi) {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const uint64_t bits = (state_ * 0x2545F4914F6CDD1Dull) >> 40;  // 24 random bits
    return lo + (hi - lo) * (static_cast<float>(bits) / 16777216.0f);
  }
  void fill(std::vector<float>& v, float lo, float hi) {
    for (float& x : v) x = uniform(lo, hi);
  }

 private:
  uint64_t state_;
};

// max |got - ref| / max(1, max |ref|) over the finite reference values. Identical values (same
// infinity, or NaN in both) count as equal; any other disagreement involving a non-finite value
// is an infinite error. Sentinel NaNs around the outputs thus also catch stray writes.
inline double normalized_error(const std::vector<float>& ref, const std::vector<float>& got) {
  if (ref.size() != got.size()) return INFINITY;
  double max_ref = 0.0;
  double max_diff = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const float r = ref[i];
    const float g = got[i];
    if (std::isfinite(r)) max_ref = std::max(max_ref, static_cast<double>(std::fabs(r)));
    if (r == g || (std::isnan(r) && std::isnan(g))) continue;
    if (!std::isfinite(r) || !std::isfinite(g)) return INFINITY;
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(r) - static_cast<double>(g)));
  }
  return max_diff / std::max(1.0, max_ref);
}

struct NamedBackend {
  std::string label;  // name()@<threads>t
  std::unique_ptr<Backend> backend;
};

class Reporter {
 public:
  void record(const std::string& op, const std::string& shape, const std::string& backend, double error,
              double tolerance) {
    const bool ok = error <= tolerance;
    std::printf("%-16s %-60s %-16s %.3e %.3e %s\n", op.c_str(), shape.c_str(), backend.c_str(), error, tolerance,
                ok ? "OK" : "FAIL");
    ++cases_;
    if (!ok) ++failures_;
    Worst& worst = worst_for(op);
    if (error > worst.error) worst.error = error;
    if (error / tolerance > worst.ratio) {
      worst.ratio = error / tolerance;
      worst.shape = shape + " " + backend;
    }
  }

  // A problem that is not a numeric comparison (e.g. a backend that failed to prepare).
  void fail(const std::string& what) {
    std::printf("FAIL %s\n", what.c_str());
    ++cases_;
    ++failures_;
  }

  int finish() const {
    std::printf("\nsummary: %d cases, %d failures\n", cases_, failures_);
    for (const Worst& w : worst_) {
      if (w.error == 0.0) {
        std::printf("  %-16s all cases bit-identical to the reference\n", w.op.c_str());
      } else {
        std::printf("  %-16s worst error %.3e, worst error/tolerance %.3f (%s)\n", w.op.c_str(), w.error, w.ratio,
                    w.shape.c_str());
      }
    }
    return failures_ == 0 ? 0 : 1;
  }

 private:
  struct Worst {
    std::string op;
    double error = 0.0;
    double ratio = 0.0;
    std::string shape;
  };
  Worst& worst_for(const std::string& op) {
    for (Worst& w : worst_) {
      if (w.op == op) return w;
    }
    worst_.push_back(Worst{op, 0.0, 0.0, "-"});
    return worst_.back();
  }

  int cases_ = 0;
  int failures_ = 0;
  std::vector<Worst> worst_;
};

}  // namespace hooklab::backend_ops
