// Native forward-pass latency: plain forward and run_with_cache (all hooks) at several
// sequence lengths. One JSON object per (T) on stdout; bench/native-forward.mjs drives it and
// prints the table beside PyTorch on the same machine.
//
//   forward_bench --model DIR --threads N --T 8,32,128 [--reps 15]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hooklab/hooked_transformer.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Multiply-adds x 2 of one forward over T tokens, attention over full rows as computed.
double forward_flops(const hooklab::ModelConfig& c, int64_t t) {
  const double per_token = 2.0 * (c.n_layers * (4.0 * c.d_model * c.d_model + 2.0 * c.d_model * c.d_mlp) +
                                  static_cast<double>(c.d_model) * c.d_vocab);
  const double attention = 4.0 * c.n_layers * static_cast<double>(t) * t * c.d_model;
  return per_token * static_cast<double>(t) + attention;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir, t_list = "8,32,128", tokenizer = "models/tokenizer";
  int threads = 1, reps = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") model_dir = v;
    else if (k == "--threads") threads = std::atoi(v.c_str());
    else if (k == "--T") t_list = v;
    else if (k == "--reps") reps = std::atoi(v.c_str());
    else if (k == "--tokenizer") tokenizer = v;
  }
  if (model_dir.empty()) {
    std::fprintf(stderr, "usage: forward_bench --model DIR [--threads N] [--T 8,32,128] [--reps 15]\n");
    return 2;
  }
  auto files = hooklab::read_model_directory(model_dir, tokenizer);
  if (!files.ok()) {
    std::fprintf(stderr, "error: %s\n", files.error().message.c_str());
    return 1;
  }
  hooklab::LoadOptions options;
  options.threads = threads;
  auto model = hooklab::HookedTransformer::load(*files, options);
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.error().message.c_str());
    return 1;
  }
  const auto& m = **model;
  std::mt19937 rng(1234);
  size_t start = 0;
  while (start < t_list.size()) {
    const size_t comma = t_list.find(',', start);
    const int64_t t = std::atoll(t_list.substr(start, comma - start).c_str());
    start = comma == std::string::npos ? t_list.size() : comma + 1;
    std::vector<int32_t> tokens(static_cast<size_t>(t));
    for (auto& tok : tokens) tok = static_cast<int32_t>(rng() % 50000);

    auto time_runs = [&](bool cache) {
      std::vector<double> ms;
      for (int r = 0; r < reps + 2; ++r) {
        const auto t0 = Clock::now();
        auto out = cache ? m.run_with_cache(tokens) : m.run(tokens, {});
        const auto t1 = Clock::now();
        if (!out.ok()) {
          std::fprintf(stderr, "error: %s\n", out.error().message.c_str());
          std::exit(1);
        }
        if (r >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      return median(ms);
    };
    const double plain = time_runs(false);
    const double cached = time_runs(true);
    nlohmann::ordered_json row = {{"system", "hooklab-native"},  {"backend", m.backend().name()},
                                  {"threads", threads},          {"T", t},
                                  {"median_ms", plain},          {"gflops", forward_flops(m.cfg(), t) / plain / 1e6},
                                  {"run_with_cache_ms", cached}, {"cache_overhead", cached / plain}};
    std::printf("%s\n", row.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}
