// Kernel-consistency test in the style of ggml's test-backend-ops: every op of the Backend
// interface, over a table of shapes (odd sizes, tails, K sub-ranges, split key/value rows,
// masked rows), run on every optimised backend of this build and compared with the scalar
// reference backend. One line per case:  op shape backend maxdiff tol OK/FAIL.
// Exit status 1 if any case fails.
//
// Backends: natively XNNPACK with 1 and 2 threads; under Emscripten the wasm SIMD backend with
// 1 thread (single-threaded build) or 2 and 3 threads (pthreads build).
//
// Error metric: max |got - ref| / max(1, max |ref|) (see backend_ops_harness.h). Tolerances:
//  * Reductions (matmul over K, scores over d_head, mix over keys): with inputs uniform in
//    [-1, 1] the partial sums of n terms grow like sqrt(n), each addition rounds by at most
//    u = 2^-24 of them, so two summation orders (or FMA vs mul+add) differ by about
//    u * n / sqrt(2) in absolute terms while max |ref| grows like sqrt(n): the normalised
//    difference is about u * sqrt(n) ~ 6e-8 * sqrt(n). The bound 1e-6 * sqrt(n) leaves 16x
//    headroom and still catches any indexing error (those are O(1)).
//  * Elementwise ops (LayerNorm, GELU, softmax): a few ulp of values of order 1, plus the
//    reference's own rounding (tanhf near -1, summation order of mean/variance): 2e-6.
//
// Backward kernels, same metric and bounds:
//  * matmul_transposed reduces over N = w.cols: 1e-6 * sqrt(N) (the same argument as matmul;
//    the wasm kernel sums 4-lane partial dot products per block of panels, XNNPACK uses FMA).
//    a's padding and the floats after its last row are NaN, so reading a past `cols` fails.
//  * attention_mix_backward: d_pattern reduces over d_head, d_v over the queries;
//    attention_scores_backward: dq reduces over the keys, dk over the queries. Each uses
//    1e-6 * sqrt(length of its reduction). Masked d_scores are NaN and must not leak.
//  * gelu_new_backward: the wasm kernel computes gelu' from one exp (tanh via the logistic
//    function) where the reference calls tanhf and forms 1 - t^2, which cancels; both are
//    within a few ulp of max(1, |dx|) with dy in [-1, 1]: 2e-6. Saturated and infinite
//    inputs must give the reference's exact values (0, dy, NaN).
//  * softmax_rows_backward: y * (dy - dot(y, dy)) with y a softmax (sum 1), |dy| <= 1: the dot
//    product's summation order changes it by a few ulp of 1: 2e-6.
#include <cstring>
#include <limits>

#include "backend_ops_harness.h"
#include "hooklab/gemm_tuning.h"
#include "hooklab/packed_matrix.h"

namespace hooklab::backend_ops {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kElementwiseTolerance = 2e-6;

double reduction_tolerance(int64_t n) { return 1e-6 * std::sqrt(static_cast<double>(std::max<int64_t>(n, 1))); }

std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}
std::string kv(const char* key, int64_t value) { return std::string(key) + "=" + std::to_string(value); }

BackendKind kind_under_test() {
#if defined(__EMSCRIPTEN__)
  return BackendKind::kWasmSimd;
#else
  return BackendKind::kXnnpack;
#endif
}

void options_rows_refused(Reporter& report) {
  GemmTuningOptions options;
  options.rows = 0;
  if (tune_gemm_kernel(options).ok()) report.fail("tune_gemm_kernel: accepted rows = 0");
}

std::vector<NamedBackend> backends_under_test(bool verbose) {
  const BackendKind kind = kind_under_test();
#if defined(__EMSCRIPTEN__)
#if defined(__EMSCRIPTEN_PTHREADS__)
  const int thread_counts[] = {2, 3};
#else
  const int thread_counts[] = {1};
#endif
#else
  const int thread_counts[] = {1, 2};
#endif
  std::vector<NamedBackend> out;
  for (int threads : thread_counts) {
    Result<std::unique_ptr<Backend>> made = make_backend(kind, threads);
    if (!made.ok()) {
      if (verbose) std::printf("skip: backend for %d threads unavailable: %s\n", threads, made.error().message.c_str());
      continue;
    }
    std::unique_ptr<Backend> backend = std::move(made.value());
    std::string label = backend->name() + "@" + std::to_string(backend->threads()) + "t";
    out.push_back(NamedBackend{std::move(label), std::move(backend)});
  }
  return out;
}

// ---- matmul -------------------------------------------------------------------------------

struct MatmulCase {
  int64_t m, rows, cols;   // A is [m, k_end - k_begin], W is [rows, cols]
  int64_t k_begin, k_end;  // k_end < 0: rows
  bool bias;
  int64_t lda_pad, ldc_pad;  // extra floats per row of A / C
  WeightPrecision precision = WeightPrecision::kF32;
  float a_scale = 1.0f;  // A's values are in [-a_scale, a_scale)
};

// A random [rows, cols] PackedMatrix in `precision` (values in [-1, 1), rounded to f16 for f16
// storage), its storage appended to keep_alive (prepared matrices must outlive the backends).
PackedMatrix random_weights(int64_t rows, int64_t cols, WeightPrecision precision, Rng& rng,
                            std::vector<std::vector<float>>& keep_alive) {
  PackedMatrix w{nullptr, rows, cols};
  const bool f16 = precision == WeightPrecision::kF16;
  // Padding stays zero (also as f16: all bits zero); f16 storage is two values per float.
  std::vector<float> storage(static_cast<size_t>(f16 ? (w.storage_elements() + 1) / 2 : w.storage_elements()), 0.0f);
  if (f16) {
    w.halves = reinterpret_cast<uint16_t*>(storage.data());
  } else {
    w.data = storage.data();
  }
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t n = 0; n < cols; ++n) {
      const float v = rng.uniform(-1.0f, 1.0f);
      if (f16) {
        w.halves[w.index(k, n)] = f32_to_f16(v);
      } else {
        w.data[w.index(k, n)] = v;
      }
    }
  }
  keep_alive.push_back(std::move(storage));
  return w;
}

// The same matrix with its f16 values widened into f32 storage.
PackedMatrix widened_copy(const PackedMatrix& w, std::vector<std::vector<float>>& keep_alive) {
  std::vector<float> storage(static_cast<size_t>(w.storage_elements()));
  read_storage(storage.data(), w, 0, w.storage_elements());
  PackedMatrix out{storage.data(), w.rows, w.cols};
  keep_alive.push_back(std::move(storage));
  return out;
}

// Each row of `whole` (args' product) recomputed as a one-row product must match it bit for bit.
void check_rows_alone(MatmulArgs args, const std::vector<float>& whole, const Backend& backend, const std::string& what,
                      Reporter& report) {
  const int64_t cols = args.w->cols, m = args.m;
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t i = 0; i < m; i += std::max<int64_t>(1, m / 3)) {
    MatmulArgs one = args;
    one.a = args.a + i * args.lda;
    one.m = 1;
    one.c = row.data();
    one.ldc = cols;
    backend.matmul(one);
    if (std::memcmp(row.data(), whole.data() + i * args.ldc, static_cast<size_t>(cols) * sizeof(float)) != 0) {
      report.fail("matmul " + what + ": row " + std::to_string(i) +
                  " computed alone differs from the same row in the whole product");
      return;
    }
  }
}

// The product over f16 weights against the same backend's product over their widened f32 copy.
void check_same_as_widened(MatmulArgs args, const PackedMatrix& widened, const std::vector<float>& got,
                           Backend& backend, const std::string& what, Reporter& report) {
  if (!backend.prepare_matmul(widened, args.bias).ok()) {
    report.fail("matmul " + what + ": prepare_matmul of the widened copy failed");
    return;
  }
  std::vector<float> expected(got.size(), kNan);
  args.w = &widened;
  args.c = expected.data();
  backend.matmul(args);
  if (std::memcmp(expected.data(), got.data(), got.size() * sizeof(float)) != 0) {
    report.fail("matmul " + what + ": differs from the same product over the f16 values widened to f32");
  }
}

// prepare_matmul() may cache per weight pointer (XNNPACK does) and requires the weights to
// outlive the backend, so every case's weights and bias move into `keep_alive`, which main()
// holds until the backends are gone. (Fresh backends per case would be the other way, but under
// Emscripten a finished pthread returns to the worker pool only through the event loop, which a
// synchronous main() never reaches: the pool would run dry and deadlock.)
void run_matmul(const MatmulCase& tc, std::vector<NamedBackend>& backends, std::vector<std::vector<float>>& keep_alive,
                Reporter& report) {
  const int64_t k_end = tc.k_end < 0 ? tc.rows : tc.k_end;
  const int64_t kc = k_end - tc.k_begin;
  const int64_t lda = kc + tc.lda_pad;
  const int64_t ldc = tc.cols + tc.ldc_pad;
  Rng rng(static_cast<uint64_t>(tc.m * 1000003 + tc.rows * 1009 + tc.cols + tc.k_begin));
  const PackedMatrix w = random_weights(tc.rows, tc.cols, tc.precision, rng, keep_alive);
  std::vector<float> bias(static_cast<size_t>(tc.cols));
  rng.fill(bias, -1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(std::max<int64_t>(tc.m * lda, 1)));
  rng.fill(a, -tc.a_scale, tc.a_scale);

  MatmulArgs args;
  args.a = a.data();
  args.lda = lda;
  args.m = tc.m;
  args.w = &w;
  args.k_begin = tc.k_begin;
  args.k_end = k_end;
  args.bias = tc.bias ? bias.data() : nullptr;
  args.ldc = ldc;
  // NaN sentinels in the row padding must survive.
  std::vector<float> ref(static_cast<size_t>(tc.m * ldc), kNan);
  args.c = ref.data();
  make_reference_backend()->matmul(args);

  const std::string shape =
      join({kv("m", tc.m), kv("K", tc.rows), "k=[" + std::to_string(tc.k_begin) + ":" + std::to_string(k_end) + ")",
            kv("N", tc.cols), tc.bias ? "bias" : "nobias", kv("lda", lda), kv("ldc", ldc),
            std::string(weight_precision_name(tc.precision)) +
                (tc.a_scale != 1.0f ? ",a_scale=" + std::to_string(static_cast<int64_t>(tc.a_scale)) : "")});
  // f16 weights are widened exactly, then multiplied as f32: the product must equal, bit for bit,
  // the same backend's product with the widened values in f32 storage.
  const PackedMatrix widened = w.is_f16() ? widened_copy(w, keep_alive) : w;
  for (NamedBackend& nb : backends) {
    const Status prepared = nb.backend->prepare_matmul(w, args.bias);
    if (!prepared.ok()) {
      report.fail("matmul " + shape + " " + nb.label + ": prepare_matmul: " + prepared.message());
      continue;
    }
    // Every GEMM kernel the backend offers (all of them, whichever the user's machine picks),
    // then back to the one selected before.
    std::vector<std::string> kernels = nb.backend->gemm_kernels();
    if (kernels.empty()) kernels.push_back("");
    std::vector<float> first;
    for (const std::string& kernel : kernels) {
      if (!kernel.empty() && !nb.backend->select_gemm_kernel(kernel).ok()) {
        report.fail("matmul " + shape + " " + nb.label + ": select_gemm_kernel(" + kernel + ") failed");
        continue;
      }
      std::vector<float> got(ref.size(), kNan);
      args.c = got.data();
      nb.backend->matmul(args);
      const std::string label = kernel.empty() ? nb.label : nb.label + ":" + kernel;
      report.record("matmul", shape, label, normalized_error(ref, got), reduction_tolerance(kc));
      if (kernel.empty()) continue;
      // A backend's kernel variants sum each output in the same order: bit-identical results,
      // whichever the user's machine picks. And a row computed alone (M = 1, as in a KV-cached
      // generation step) equals the same row inside a larger product (a full forward).
      if (first.empty()) first = got;
      if (std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) != 0) {
        report.fail("matmul " + shape + " " + label + ": not bit-identical to " + kernels.front());
      }
      check_rows_alone(args, got, *nb.backend, shape + " " + label, report);
      if (w.is_f16()) check_same_as_widened(args, widened, got, *nb.backend, shape + " " + label, report);
    }
    if (!kernels.front().empty()) (void)nb.backend->select_gemm_kernel(kernels.front());
  }
  keep_alive.push_back(std::move(bias));
}

// select_gemm_kernel accepts exactly the names gemm_kernels() lists, and name() follows it.
void check_gemm_kernel_selection(std::vector<NamedBackend>& backends, Reporter& report) {
  for (NamedBackend& nb : backends) {
    if (nb.backend->select_gemm_kernel("no_such_kernel").ok()) {
      report.fail("select_gemm_kernel " + nb.label + ": accepted an unknown kernel name");
    }
    const std::vector<std::string> kernels = nb.backend->gemm_kernels();
    for (const std::string& kernel : kernels) {
      const bool selected = nb.backend->select_gemm_kernel(kernel).ok();
      const std::string name = nb.backend->name();
      if (!selected || name.size() < kernel.size() ||
          name.compare(name.size() - kernel.size(), kernel.size(), kernel) != 0) {
        report.fail("select_gemm_kernel " + nb.label + ": " + kernel + " not selected (name " + name + ")");
      }
    }
    if (!kernels.empty()) (void)nb.backend->select_gemm_kernel(kernels.front());
    std::printf("gemm kernels of %s: %zu\n", nb.label.c_str(), kernels.size());
  }
}

// tune_gemm_kernel: every kernel of the backend timed, the pick the lowest time, the budget
// ending the rounds (a clock that advances 1 ms per reading makes the rounds countable), and
// no pick where the backend has a single kernel. It times on one thread whatever thread count
// the model runs with, so one backend of the build is checked.
void check_gemm_tuning(const NamedBackend& nb, Reporter& report) {
  options_rows_refused(report);
  const std::vector<std::string> kernels = nb.backend->gemm_kernels();
  GemmTuningOptions options;
  options.backend = kind_under_test();
  Result<GemmTuning> real = tune_gemm_kernel(options);
  if (!real.ok()) {
    report.fail("tune_gemm_kernel " + nb.label + ": " + real.error().message);
    return;
  }
  const GemmTuning& t = real.value();
  bool sound = t.timings.size() == kernels.size() && (kernels.empty() ? t.kernel.empty() : t.rounds >= 1);
  for (const GemmKernelTiming& timing : t.timings) {
    sound = sound && std::isfinite(timing.best_seconds) && timing.best_seconds > 0 &&
            timing.best_seconds >= std::find_if(t.timings.begin(), t.timings.end(), [&](const GemmKernelTiming& x) {
                                     return x.kernel == t.kernel;
                                   })->best_seconds;
  }
  if (!sound)
    report.fail("tune_gemm_kernel " + nb.label + ": timings or pick inconsistent (picked '" + t.kernel + "')");
  std::printf("gemm tuning of %s: %s after %d rounds, %.1f ms\n", nb.label.c_str(), t.kernel.c_str(), t.rounds,
              t.elapsed_seconds * 1e3);
  if (kernels.empty()) return;
  double now = 0.0;
  options.clock = [&now] { return now += 0.001; };
  options.budget_seconds = 0.05;
  Result<GemmTuning> budgeted = tune_gemm_kernel(options);
  const double round_seconds = 0.001 * static_cast<double>(1 + 2 * kernels.size());
  if (!budgeted.ok() || budgeted.value().elapsed_seconds < 0.05 ||
      budgeted.value().elapsed_seconds > 0.05 + 2 * round_seconds + 0.002) {
    report.fail("tune_gemm_kernel " + nb.label + ": the budget did not end the rounds");
  }
  options.budget_seconds = 0.0;
  Result<GemmTuning> spent = tune_gemm_kernel(options);
  if (!spent.ok() || spent.value().rounds != 1 || !std::isfinite(spent.value().timings.back().best_seconds)) {
    report.fail("tune_gemm_kernel " + nb.label + ": a spent budget must still time every kernel once");
  }
}

std::vector<MatmulCase> matmul_cases() {
  std::vector<MatmulCase> cases;
  const int64_t ms[] = {1, 2, 3, 5, 11, 17, 64, 130};  // every M tail of the 4-, 5- and 6-row tiles
  const int64_t kns[][2] = {{1, 1}, {7, 9}, {8, 8}, {9, 7}, {1, 64}, {64, 64}, {768, 768}, {768, 3072}, {3072, 768}};
  int variant = 0;
  for (int64_t m : ms) {
    for (const auto& kn : kns) {
      ++variant;
      cases.push_back({m, kn[0], kn[1], 0, -1, variant % 2 == 0, variant % 3 == 0 ? 3 : 0, variant % 5 == 0 ? 5 : 0});
    }
  }
  // The unembedding width (odd, 6283 panels) and its tail panel.
  cases.push_back({1, 768, 50257, 0, -1, false, 0, 0});
  cases.push_back({5, 768, 50257, 0, -1, true, 0, 0});
  cases.push_back({17, 64, 50257, 0, -1, true, 1, 3});
  cases.push_back({3, 7, 50257, 0, -1, false, 0, 0});
  // K sub-ranges (per-head hook_result products) and an empty range (output = bias).
  cases.push_back({17, 768, 768, 64, 128, true, 0, 0});
  cases.push_back({5, 768, 9, 704, 768, false, 2, 1});
  cases.push_back({130, 3072, 768, 3000, 3072, true, 0, 0});
  cases.push_back({3, 768, 64, 5, 6, true, 0, 0});
  cases.push_back({4, 8, 17, 3, 3, true, 0, 0});
  // Batched runs: thousands of rows, few panels (row split across threads).
  cases.push_back({1030, 64, 130, 0, -1, true, 0, 0});
  cases.push_back({3001, 768, 72, 0, -1, false, 0, 0});
  cases.push_back({258, 9, 8, 0, -1, true, 0, 0});
  // f16 weights: every M tail with GPT-2 widths, the unembedding, a K sub-range, a narrow matrix.
  for (int64_t m : {1, 2, 5, 7, 17, 64})
    cases.push_back({m, 768, 3072, 0, -1, m % 2 == 0, 0, 0, WeightPrecision::kF16});
  cases.push_back({1, 768, 50257, 0, -1, true, 0, 0, WeightPrecision::kF16});
  cases.push_back({5, 3072, 768, 0, -1, true, 1, 2, WeightPrecision::kF16});
  cases.push_back({17, 768, 768, 64, 128, true, 0, 0, WeightPrecision::kF16});
  cases.push_back({3, 7, 9, 0, -1, true, 0, 0, WeightPrecision::kF16});
  // A single row with values past 2^15: the fused f16 kernel's rescaled row would overflow, so
  // the product widens its panels instead; one past 2^15 among small ones does the same.
  cases.push_back({1, 768, 1000, 0, -1, true, 0, 0, WeightPrecision::kF16, 1e5f});
  cases.push_back({1, 64, 4000, 0, -1, false, 0, 0, WeightPrecision::kF16, 40000.0f});
  return cases;
}

// ---- layer_norm ---------------------------------------------------------------------------

struct LayerNormCase {
  int64_t rows, dim;
  bool affine, scale_out, in_place;
  float offset;  // added to every input (a residual stream is rarely centred)
};

void run_layer_norm(const LayerNormCase& tc, std::vector<NamedBackend>& backends, Reporter& report) {
  const int64_t ld = tc.dim + 3;
  Rng rng(static_cast<uint64_t>(tc.rows * 7919 + tc.dim));
  std::vector<float> x(static_cast<size_t>(tc.rows * ld));
  rng.fill(x, -1.0f + tc.offset, 1.0f + tc.offset);
  std::vector<float> w(static_cast<size_t>(tc.dim)), b(static_cast<size_t>(tc.dim));
  rng.fill(w, 0.5f, 1.5f);
  rng.fill(b, -0.5f, 0.5f);
  LayerNormArgs args;
  args.x = x.data();
  args.ldx = ld;
  args.ldy = ld;
  args.w = tc.affine ? w.data() : nullptr;
  args.b = tc.affine ? b.data() : nullptr;
  args.rows = tc.rows;
  args.dim = tc.dim;
  std::vector<float> ref(x.size(), kNan), ref_scale(static_cast<size_t>(tc.rows), kNan);
  args.y = ref.data();
  args.scale_out = tc.scale_out ? ref_scale.data() : nullptr;
  make_reference_backend()->layer_norm(args);

  const std::string shape = join({kv("rows", tc.rows), kv("dim", tc.dim), tc.affine ? "w,b" : "no_w_b",
                                  tc.scale_out ? "scale_out" : "no_scale", tc.in_place ? "in_place" : "out_of_place",
                                  "offset=" + std::to_string(static_cast<int>(tc.offset))});
  for (NamedBackend& nb : backends) {
    std::vector<float> got(x.size(), kNan), got_scale(ref_scale.size(), kNan);
    LayerNormArgs run = args;
    if (tc.in_place) {
      got = x;
      run.x = got.data();
    }
    run.y = got.data();
    run.scale_out = tc.scale_out ? got_scale.data() : nullptr;
    nb.backend->layer_norm(run);
    if (tc.in_place) {  // the padding then holds inputs in both
      for (int64_t r = 0; r < tc.rows; ++r) {
        for (int64_t d = tc.dim; d < ld; ++d) got[static_cast<size_t>(r * ld + d)] = kNan;
      }
    }
    const double error = std::max(normalized_error(ref, got), normalized_error(ref_scale, got_scale));
    report.record("layer_norm", shape, nb.label, error, kElementwiseTolerance);
  }
}

// ---- gelu_new -----------------------------------------------------------------------------

void run_gelu(int64_t n, bool special_values, bool in_place, std::vector<NamedBackend>& backends, Reporter& report) {
  Rng rng(static_cast<uint64_t>(n * 31 + special_values));
  std::vector<float> x(static_cast<size_t>(n));
  rng.fill(x, -8.0f, 8.0f);
  if (special_values) {
    const float specials[] = {0.0f,   -0.0f, 1e-3f, -1e-3f, 1e-30f, -3.0f, -5.0f, 10.0f, -10.0f, 20.0f,
                              -20.0f, 1e4f,  -1e4f, 1e20f,  -1e20f, kInf,  -kInf, 88.0f, -88.0f, 0.5f};
    for (size_t i = 0; i < x.size(); ++i) x[i] = specials[i % (sizeof(specials) / sizeof(specials[0]))];
  }
  std::vector<float> ref(x.size());
  make_reference_backend()->gelu_new(ref.data(), x.data(), n);
  const std::string shape =
      join({kv("n", n), special_values ? "special_values" : "uniform[-8,8]", in_place ? "in_place" : "out_of_place"});
  for (NamedBackend& nb : backends) {
    std::vector<float> got = in_place ? x : std::vector<float>(x.size(), kNan);
    nb.backend->gelu_new(got.data(), in_place ? got.data() : x.data(), n);
    report.record("gelu_new", shape, nb.label, normalized_error(ref, got), kElementwiseTolerance);
  }
}

// ---- zero_fill ----------------------------------------------------------------------------

// Zeroes [offset, offset + n) of a buffer full of NaN: the error is the count of elements that are
// wrong, inside the range (not +0.0f) or beside it (no longer NaN), so the tolerance is 0.
void run_zero_fill(int64_t offset, int64_t n, std::vector<NamedBackend>& backends, Reporter& report) {
  constexpr int64_t kGuard = 19;
  for (NamedBackend& nb : backends) {
    std::vector<float> buffer(static_cast<size_t>(offset + n + kGuard), kNan);
    nb.backend->zero_fill(buffer.data() + offset, static_cast<size_t>(n));
    int64_t wrong = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(buffer.size()); ++i) {
      const float v = buffer[static_cast<size_t>(i)];
      const bool inside = i >= offset && i < offset + n;
      if (inside ? (v != 0.0f || std::signbit(v)) : !std::isnan(v)) ++wrong;
    }
    report.record("zero_fill", join({kv("offset", offset), kv("n", n)}), nb.label, static_cast<double>(wrong), 0.0);
  }
}

// ---- softmax_rows -------------------------------------------------------------------------

enum class SoftmaxData { kUniform, kCausal, kSpecialRows };

void run_softmax(int64_t rows, int64_t n, SoftmaxData data, bool in_place, std::vector<NamedBackend>& backends,
                 Reporter& report) {
  Rng rng(static_cast<uint64_t>(rows * 131 + n));
  std::vector<float> x(static_cast<size_t>(rows * n));
  rng.fill(x, -10.0f, 10.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * n;
    if (data == SoftmaxData::kCausal) {
      for (int64_t j = r % n + 1; j < n; ++j) row[j] = -kInf;
    } else if (data == SoftmaxData::kSpecialRows) {
      switch (r % 5) {
        case 0: std::fill(row, row + n, -kInf); break;  // fully masked -> zeros
        case 1: row[n / 2] = kInf; break;               // +inf -> zeros
        case 2:
          std::fill(row, row + n, -kInf);
          row[n - 1] = 3.0f;
          break;  // one survivor -> 1
        case 3:
          row[0] = 1e30f;
          row[n - 1] = -1e30f;
          break;  // huge range, exact zeros
        default: break;
      }
    }
  }
  std::vector<float> ref(x.size());
  make_reference_backend()->softmax_rows(ref.data(), x.data(), rows, n);
  const char* kind = data == SoftmaxData::kUniform  ? "uniform[-10,10]"
                     : data == SoftmaxData::kCausal ? "causal"
                                                    : "special_rows";
  const std::string shape = join({kv("rows", rows), kv("n", n), kind, in_place ? "in_place" : "out_of_place"});
  for (NamedBackend& nb : backends) {
    std::vector<float> got = in_place ? x : std::vector<float>(x.size(), kNan);
    nb.backend->softmax_rows(got.data(), in_place ? got.data() : x.data(), rows, n);
    report.record("softmax_rows", shape, nb.label, normalized_error(ref, got), kElementwiseTolerance);
  }
}

// ---- attention_scores / attention_mix -----------------------------------------------------

struct AttentionCase {
  int64_t n_heads, d_head, nq, nk, q_begin, split;  // rows [0, split) of K/V from the prefix buffer
};

// Rows [0, split) in one buffer and [split, nk) in another, with different padded strides.
struct SplitRows {
  std::vector<float> prefix, suffix;
  SequenceRows rows;
  SplitRows(Rng& rng, int64_t nk, int64_t split, int64_t width) {
    const int64_t prefix_ld = width + 5, suffix_ld = width + 2;
    prefix.resize(static_cast<size_t>(std::max<int64_t>(split * prefix_ld, 1)));
    suffix.resize(static_cast<size_t>(std::max<int64_t>((nk - split) * suffix_ld, 1)));
    rng.fill(prefix, -1.0f, 1.0f);
    rng.fill(suffix, -1.0f, 1.0f);
    rows = SequenceRows{prefix.data(), prefix_ld, suffix.data(), suffix_ld, split};
  }
};

void run_attention(const AttentionCase& tc, std::vector<NamedBackend>& backends, Reporter& report) {
  const int64_t width = tc.n_heads * tc.d_head;
  Rng rng(static_cast<uint64_t>(tc.n_heads * 100003 + tc.d_head * 1009 + tc.nq * 31 + tc.nk));
  const int64_t ldq = width + 3;
  std::vector<float> q(static_cast<size_t>(tc.nq * ldq));
  rng.fill(q, -1.0f, 1.0f);
  SplitRows k(rng, tc.nk, tc.split, width);
  SplitRows v(rng, tc.nk, tc.split, width);

  AttentionScoresArgs sargs;
  sargs.q = q.data();
  sargs.ldq = ldq;
  sargs.k = k.rows;
  sargs.n_heads = tc.n_heads;
  sargs.d_head = tc.d_head;
  sargs.nq = tc.nq;
  sargs.nk = tc.nk;
  sargs.q_begin = tc.q_begin;
  sargs.attn_scale = std::sqrt(static_cast<float>(tc.d_head));
  std::vector<float> ref_scores(static_cast<size_t>(tc.n_heads * tc.nq * tc.nk));
  sargs.scores = ref_scores.data();
  std::unique_ptr<Backend> reference = make_reference_backend();
  reference->attention_scores(sargs);

  // A realistic pattern: the reference softmax of the masked scores (exact zeros where masked),
  // with one row of all zeros as a fully-masked row would give.
  std::vector<float> pattern(ref_scores.size());
  reference->softmax_rows(pattern.data(), ref_scores.data(), tc.n_heads * tc.nq, tc.nk);
  std::fill(pattern.begin(), pattern.begin() + tc.nk, 0.0f);
  AttentionMixArgs margs;
  margs.pattern = pattern.data();
  margs.v = v.rows;
  margs.n_heads = tc.n_heads;
  margs.d_head = tc.d_head;
  margs.nq = tc.nq;
  margs.nk = tc.nk;
  margs.ldz = width + 7;
  std::vector<float> ref_z(static_cast<size_t>(tc.nq * margs.ldz), kNan);
  margs.z = ref_z.data();
  reference->attention_mix(margs);

  const std::string shape = join({kv("heads", tc.n_heads), kv("d_head", tc.d_head), kv("nq", tc.nq), kv("nk", tc.nk),
                                  kv("q_begin", tc.q_begin), kv("split", tc.split)});
  for (NamedBackend& nb : backends) {
    std::vector<float> scores(ref_scores.size(), kNan);
    AttentionScoresArgs s = sargs;
    s.scores = scores.data();
    nb.backend->attention_scores(s);
    report.record("attention_scores", shape, nb.label, normalized_error(ref_scores, scores),
                  reduction_tolerance(tc.d_head));
    std::vector<float> z(ref_z.size(), kNan);
    AttentionMixArgs mx = margs;
    mx.z = z.data();
    nb.backend->attention_mix(mx);
    report.record("attention_mix", shape, nb.label, normalized_error(ref_z, z), reduction_tolerance(tc.nk));
  }
}

// ---- backward: matmul_transposed ----------------------------------------------------------

struct TransposedCase {
  int64_t m, rows, cols;     // a is [m, cols], W is [rows, cols], c is [m, k_end - k_begin]
  int64_t k_begin, k_end;    // k_end < 0: rows
  int64_t lda_pad, ldc_pad;  // extra floats per row of a / c
  bool prepare = true;       // prepare_matmul(W) first, as a model does at load
  WeightPrecision precision = WeightPrecision::kF32;
};

// a's row padding and the floats past its last row are NaN: a kernel that reads a beyond
// `cols` (the zero columns of W's last panel) turns them into NaN outputs. Weights are kept
// alive like run_matmul's (XNNPACK caches an operator per prepared matrix).
void run_matmul_transposed(const TransposedCase& tc, std::vector<NamedBackend>& backends,
                           std::vector<std::vector<float>>& keep_alive, Reporter& report) {
  const int64_t k_end = tc.k_end < 0 ? tc.rows : tc.k_end;
  const int64_t kc = k_end - tc.k_begin;
  const int64_t lda = tc.cols + tc.lda_pad;
  const int64_t ldc = kc + tc.ldc_pad;
  Rng rng(static_cast<uint64_t>(tc.m * 1000033 + tc.rows * 1013 + tc.cols + tc.k_begin * 7));
  const PackedMatrix w = random_weights(tc.rows, tc.cols, tc.precision, rng, keep_alive);
  std::vector<float> a(static_cast<size_t>(tc.m * lda + kPanelWidth), kNan);
  for (int64_t i = 0; i < tc.m; ++i) {
    for (int64_t n = 0; n < tc.cols; ++n) a[static_cast<size_t>(i * lda + n)] = rng.uniform(-1.0f, 1.0f);
  }
  MatmulTransposedArgs args;
  args.a = a.data();
  args.lda = lda;
  args.m = tc.m;
  args.w = &w;
  args.k_begin = tc.k_begin;
  args.k_end = k_end;
  args.ldc = ldc;
  std::vector<float> ref(static_cast<size_t>(std::max<int64_t>(tc.m * ldc, 1)), kNan);
  args.c = ref.data();
  make_reference_backend()->matmul_transposed(args);

  const std::string shape =
      join({kv("m", tc.m), kv("K", tc.rows), "k=[" + std::to_string(tc.k_begin) + ":" + std::to_string(k_end) + ")",
            kv("N", tc.cols), kv("lda", lda), kv("ldc", ldc), tc.prepare ? "prepared" : "unprepared",
            weight_precision_name(tc.precision)});
  for (NamedBackend& nb : backends) {
    const Status prepared = tc.prepare ? nb.backend->prepare_matmul(w, nullptr) : Status{};
    if (!prepared.ok()) {
      report.fail("matmul_T " + shape + " " + nb.label + ": prepare_matmul: " + prepared.message());
      continue;
    }
    std::vector<float> got(ref.size(), kNan);
    args.c = got.data();
    nb.backend->matmul_transposed(args);
    // Twice: a backend that builds state on first use (XNNPACK's lazy operators) must give
    // the same answer from it.
    std::vector<float> again(ref.size(), kNan);
    args.c = again.data();
    nb.backend->matmul_transposed(args);
    const double error = std::max(normalized_error(ref, got), normalized_error(ref, again));
    report.record("matmul_T", shape, nb.label, error, reduction_tolerance(tc.cols));
  }
}

std::vector<TransposedCase> matmul_transposed_cases() {
  std::vector<TransposedCase> cases;
  const int64_t ms[] = {1, 2, 3, 5, 17, 64, 130};
  const int64_t kns[][2] = {{1, 1},  {7, 9},   {8, 8},     {9, 7},      {1, 64},
                            {64, 1}, {64, 64}, {768, 768}, {768, 3072}, {3072, 768}};
  int variant = 0;
  for (int64_t m : ms) {
    for (const auto& kn : kns) {
      ++variant;
      cases.push_back({m, kn[0], kn[1], 0, -1, variant % 3 == 0 ? 3 : 0, variant % 5 == 0 ? 5 : 0, variant % 7 != 0});
    }
  }
  // d ln_final from d logits: the 50257-wide reduction (6283 panels, a partial last one), whole
  // and in the backward's 1024-column blocks of W_U (a block of a, row stride 50257).
  cases.push_back({1, 768, 50257, 0, -1, 0, 0});
  cases.push_back({5, 768, 50257, 0, -1, 0, 0});
  cases.push_back({17, 64, 50257, 0, -1, 1, 3});
  cases.push_back({3, 7, 50257, 0, -1, 0, 0});
  cases.push_back({5, 768, 1024, 0, -1, 50257 - 1024, 0});
  cases.push_back({2, 768, 81, 0, -1, 50257 - 81, 0});
  // K sub-ranges: one head's d z from d result (a row stride of H * D), odd ranges, empty.
  cases.push_back({17, 768, 768, 64, 128, 11 * 768, 768 - 64});
  cases.push_back({16, 768, 768, 704, 768, 0, 0});
  cases.push_back({5, 768, 9, 704, 768, 2, 1});
  cases.push_back({130, 3072, 768, 3000, 3072, 0, 0});
  cases.push_back({3, 768, 64, 5, 6, 0, 0});
  cases.push_back({7, 768, 64, 5, 12, 1, 2});
  cases.push_back({4, 8, 17, 3, 3, 0, 0});
  // Batched runs: many rows, few outputs (rows split across threads).
  cases.push_back({1030, 64, 130, 0, -1, 0, 0});
  cases.push_back({3001, 72, 768, 0, -1, 0, 0});
  cases.push_back({258, 9, 8, 0, -1, 0, 0});
  // f16 weights (widened as they are read): one row and many, a W_U block, a head's K range.
  for (int64_t m : {1, 3, 17}) cases.push_back({m, 768, 3072, 0, -1, 0, 0, true, WeightPrecision::kF16});
  cases.push_back({5, 768, 1024, 0, -1, 50257 - 1024, 0, true, WeightPrecision::kF16});
  cases.push_back({17, 768, 768, 64, 128, 11 * 768, 768 - 64, true, WeightPrecision::kF16});
  cases.push_back({2, 9, 7, 0, -1, 0, 0, false, WeightPrecision::kF16});
  return cases;
}

// ---- backward: gelu_new_backward ----------------------------------------------------------

void run_gelu_backward(int64_t n, bool special_values, bool in_place, std::vector<NamedBackend>& backends,
                       Reporter& report) {
  Rng rng(static_cast<uint64_t>(n * 37 + special_values));
  std::vector<float> x(static_cast<size_t>(n)), dy(static_cast<size_t>(n));
  rng.fill(x, -8.0f, 8.0f);
  rng.fill(dy, -1.0f, 1.0f);
  if (special_values) {
    // Around 0, the saturated tails (tanh = +-1 exactly, x^3 or x^2 overflowing), +-inf.
    const float specials[] = {0.0f,  -0.0f,  1e-3f,  -1e-3f, 1e-30f, -3.0f,  -5.0f, 10.0f,  -10.0f,
                              20.0f, -20.0f, 1e4f,   -1e4f,  1e13f,  -1e13f, 1e20f, -1e20f, kInf,
                              -kInf, 88.0f,  -88.0f, 0.5f,   -0.5f,  2.0f,   -2.0f, 3.5f,   -3.5f};
    for (size_t i = 0; i < x.size(); ++i) x[i] = specials[i % (sizeof(specials) / sizeof(specials[0]))];
  }
  std::vector<float> ref(x.size());
  make_reference_backend()->gelu_new_backward(ref.data(), dy.data(), x.data(), n);
  const std::string shape = join(
      {kv("n", n), special_values ? "special_values" : "uniform[-8,8]", in_place ? "in_place(dx=dy)" : "out_of_place"});
  for (NamedBackend& nb : backends) {
    std::vector<float> got = in_place ? dy : std::vector<float>(x.size(), kNan);
    nb.backend->gelu_new_backward(got.data(), in_place ? got.data() : dy.data(), x.data(), n);
    report.record("gelu_new_bwd", shape, nb.label, normalized_error(ref, got), kElementwiseTolerance);
  }
}

// ---- backward: softmax_rows_backward ------------------------------------------------------

// y is a real softmax output (the reference's): causal rows have exact zeros, special rows
// include all-zero (fully masked) rows and one-hot rows.
void run_softmax_backward(int64_t rows, int64_t n, SoftmaxData data, bool in_place, std::vector<NamedBackend>& backends,
                          Reporter& report) {
  Rng rng(static_cast<uint64_t>(rows * 137 + n));
  std::vector<float> x(static_cast<size_t>(rows * n)), dy(x.size());
  rng.fill(x, -10.0f, 10.0f);
  rng.fill(dy, -1.0f, 1.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * n;
    if (data == SoftmaxData::kCausal) {
      for (int64_t j = r % n + 1; j < n; ++j) row[j] = -kInf;
    } else if (data == SoftmaxData::kSpecialRows) {
      if (r % 3 == 0) std::fill(row, row + n, -kInf);
      if (r % 3 == 1) std::fill(row, row + n - 1, -kInf);
    }
  }
  std::unique_ptr<Backend> reference = make_reference_backend();
  std::vector<float> y(x.size()), ref(x.size());
  reference->softmax_rows(y.data(), x.data(), rows, n);
  reference->softmax_rows_backward(ref.data(), dy.data(), y.data(), rows, n);
  const char* kind = data == SoftmaxData::kUniform  ? "uniform[-10,10]"
                     : data == SoftmaxData::kCausal ? "causal"
                                                    : "special_rows";
  const std::string shape = join({kv("rows", rows), kv("n", n), kind, in_place ? "in_place(dx=dy)" : "out_of_place"});
  for (NamedBackend& nb : backends) {
    std::vector<float> got = in_place ? dy : std::vector<float>(x.size(), kNan);
    nb.backend->softmax_rows_backward(got.data(), in_place ? got.data() : dy.data(), y.data(), rows, n);
    report.record("softmax_bwd", shape, nb.label, normalized_error(ref, got), kElementwiseTolerance);
  }
}

// ---- backward: attention_mix_backward / attention_scores_backward -------------------------

// Row-major [rows, width] with `pad` extra floats per row; the padding is NaN when `sentinel`.
std::vector<float> padded_rows(Rng& rng, int64_t rows, int64_t width, int64_t pad, bool sentinel) {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(rows * (width + pad), 1)), sentinel ? kNan : 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < width; ++c) out[static_cast<size_t>(r * (width + pad) + c)] = rng.uniform(-1.0f, 1.0f);
  }
  return out;
}

void run_attention_mix_backward(const AttentionCase& tc, std::vector<NamedBackend>& backends, Reporter& report) {
  const int64_t width = tc.n_heads * tc.d_head;
  Rng rng(static_cast<uint64_t>(tc.n_heads * 100019 + tc.d_head * 1021 + tc.nq * 37 + tc.nk));
  // The forward's pattern over causal scores (exact zeros where masked, one all-zero row).
  std::vector<float> scores(static_cast<size_t>(tc.n_heads * tc.nq * tc.nk));
  rng.fill(scores, -4.0f, 4.0f);
  for (int64_t h = 0; h < tc.n_heads; ++h) {
    for (int64_t i = 0; i < tc.nq; ++i) {
      for (int64_t j = tc.q_begin + i + 1; j < tc.nk; ++j)
        scores[static_cast<size_t>((h * tc.nq + i) * tc.nk + j)] = -kInf;
    }
  }
  std::unique_ptr<Backend> reference = make_reference_backend();
  std::vector<float> pattern(scores.size());
  reference->softmax_rows(pattern.data(), scores.data(), tc.n_heads * tc.nq, tc.nk);
  std::fill(pattern.begin(), pattern.begin() + tc.nk, 0.0f);
  const std::vector<float> dz = padded_rows(rng, tc.nq, width, 3, true);
  const std::vector<float> v = padded_rows(rng, tc.nk, width, 5, true);

  AttentionMixBackwardArgs args;
  args.ld_dv = width + 2;
  args.dz = dz.data();
  args.ld_dz = width + 3;
  args.pattern = pattern.data();
  args.v = v.data();
  args.ldv = width + 5;
  args.n_heads = tc.n_heads;
  args.d_head = tc.d_head;
  args.nq = tc.nq;
  args.nk = tc.nk;
  std::vector<float> ref_dp(scores.size(), kNan), ref_dv(static_cast<size_t>(tc.nk * args.ld_dv), kNan);
  args.d_pattern = ref_dp.data();
  args.d_v = ref_dv.data();
  reference->attention_mix_backward(args);

  const std::string shape = join(
      {kv("heads", tc.n_heads), kv("d_head", tc.d_head), kv("nq", tc.nq), kv("nk", tc.nk), kv("q_begin", tc.q_begin)});
  for (NamedBackend& nb : backends) {
    std::vector<float> dp(ref_dp.size(), kNan), dv(ref_dv.size(), kNan);
    AttentionMixBackwardArgs run = args;
    run.d_pattern = dp.data();
    run.d_v = dv.data();
    nb.backend->attention_mix_backward(run);
    report.record("mix_bwd.d_pattern", shape, nb.label, normalized_error(ref_dp, dp), reduction_tolerance(tc.d_head));
    report.record("mix_bwd.d_v", shape, nb.label, normalized_error(ref_dv, dv), reduction_tolerance(tc.nq));
  }
}

void run_attention_scores_backward(const AttentionCase& tc, std::vector<NamedBackend>& backends, Reporter& report) {
  const int64_t width = tc.n_heads * tc.d_head;
  Rng rng(static_cast<uint64_t>(tc.n_heads * 100043 + tc.d_head * 1031 + tc.nq * 41 + tc.nk));
  // d_scores above the diagonal are NaN: the mask cuts their gradient, so they must not leak.
  std::vector<float> d_scores(static_cast<size_t>(tc.n_heads * tc.nq * tc.nk));
  rng.fill(d_scores, -1.0f, 1.0f);
  for (int64_t h = 0; h < tc.n_heads; ++h) {
    for (int64_t i = 0; i < tc.nq; ++i) {
      for (int64_t j = tc.q_begin + i + 1; j < tc.nk; ++j)
        d_scores[static_cast<size_t>((h * tc.nq + i) * tc.nk + j)] = kNan;
      if (i % 3 == 1) d_scores[static_cast<size_t>((h * tc.nq + i) * tc.nk)] = 0.0f;  // skipped zeros
    }
  }
  const std::vector<float> q = padded_rows(rng, tc.nq, width, 3, true);
  const std::vector<float> k = padded_rows(rng, tc.nk, width, 6, true);
  AttentionScoresBackwardArgs args;
  args.ld_dq = width + 1;
  args.ld_dk = width + 4;
  args.d_scores = d_scores.data();
  args.q = q.data();
  args.ldq = width + 3;
  args.k = k.data();
  args.ldk = width + 6;
  args.n_heads = tc.n_heads;
  args.d_head = tc.d_head;
  args.nq = tc.nq;
  args.nk = tc.nk;
  args.q_begin = tc.q_begin;
  args.attn_scale = std::sqrt(static_cast<float>(tc.d_head));
  std::vector<float> ref_dq(static_cast<size_t>(tc.nq * args.ld_dq), kNan),
      ref_dk(static_cast<size_t>(tc.nk * args.ld_dk), kNan);
  args.dq = ref_dq.data();
  args.dk = ref_dk.data();
  make_reference_backend()->attention_scores_backward(args);

  const std::string shape = join(
      {kv("heads", tc.n_heads), kv("d_head", tc.d_head), kv("nq", tc.nq), kv("nk", tc.nk), kv("q_begin", tc.q_begin)});
  for (NamedBackend& nb : backends) {
    std::vector<float> dq(ref_dq.size(), kNan), dk(ref_dk.size(), kNan);
    AttentionScoresBackwardArgs run = args;
    run.dq = dq.data();
    run.dk = dk.data();
    nb.backend->attention_scores_backward(run);
    report.record("scores_bwd.dq", shape, nb.label, normalized_error(ref_dq, dq), reduction_tolerance(tc.nk));
    report.record("scores_bwd.dk", shape, nb.label, normalized_error(ref_dk, dk), reduction_tolerance(tc.nq));
  }
}

}  // namespace
}  // namespace hooklab::backend_ops

int main() {
  using namespace hooklab::backend_ops;
  std::vector<std::vector<float>> matmul_weights;  // declared before `backends`, so it outlives them
  std::vector<NamedBackend> backends = backends_under_test(/*verbose=*/true);
  if (backends.empty()) {
    std::printf("no optimised backend in this build\n");
    return 1;
  }
  Reporter report;
  std::printf("%-16s %-60s %-16s %-9s %-9s %s\n", "op", "shape", "backend", "maxdiff", "tol", "result");
  check_gemm_kernel_selection(backends, report);
  if (!backends.empty()) check_gemm_tuning(backends.front(), report);
  for (const MatmulCase& tc : matmul_cases()) run_matmul(tc, backends, matmul_weights, report);

  const LayerNormCase ln_cases[] = {
      {1, 1, true, true, false, 0.0f},   {3, 7, false, true, false, 0.0f},    {2, 8, true, false, false, 0.0f},
      {5, 9, false, false, true, 0.0f},  {17, 64, true, true, false, 0.0f},   {4, 768, true, true, false, 0.0f},
      {4, 768, false, true, true, 0.0f}, {2, 3072, true, false, false, 0.0f}, {130, 768, false, true, false, 0.0f},
      {3, 768, true, true, false, 1.0f},
  };
  for (const LayerNormCase& tc : ln_cases) run_layer_norm(tc, backends, report);

  const int64_t gelu_sizes[] = {1, 3, 4, 7, 8, 9, 17, 64, 2307, 3072 * 5 + 3, 3072 * 64};
  for (int64_t n : gelu_sizes) run_gelu(n, false, n == 17, backends, report);
  run_gelu(41, true, false, backends, report);

  // Sizes below one chunk, at one, and several chunks with a ragged end (kZeroFillGrainFloats = 262144).
  const int64_t zero_fill_sizes[][2] = {{0, 0},         {3, 1}, {1, 262143}, {0, 262144}, {5, 262144 * 3 + 77},
                                        {2, 262144 * 9}};
  for (const auto& [offset, n] : zero_fill_sizes) run_zero_fill(offset, n, backends, report);

  run_softmax(1, 1, SoftmaxData::kUniform, false, backends, report);
  run_softmax(3, 7, SoftmaxData::kUniform, false, backends, report);
  run_softmax(4, 8, SoftmaxData::kUniform, true, backends, report);
  run_softmax(17, 64, SoftmaxData::kUniform, false, backends, report);
  run_softmax(5, 130, SoftmaxData::kCausal, false, backends, report);
  run_softmax(12 * 17, 17, SoftmaxData::kCausal, true, backends, report);
  run_softmax(2, 1025, SoftmaxData::kUniform, false, backends, report);
  run_softmax(10, 9, SoftmaxData::kSpecialRows, false, backends, report);
  run_softmax(10, 64, SoftmaxData::kSpecialRows, false, backends, report);

  const AttentionCase attention_cases[] = {
      {1, 8, 1, 1, 0, 0},     {3, 10, 5, 5, 0, 2}, {12, 64, 17, 17, 0, 17},   {2, 64, 3, 9, 6, 4},
      {4, 10, 7, 20, 13, 11}, {2, 8, 5, 12, 0, 0}, {12, 64, 130, 130, 0, 60}, {3, 64, 4, 70, 66, 69},
  };
  for (const AttentionCase& tc : attention_cases) run_attention(tc, backends, report);

  // Backward kernels.
  for (const TransposedCase& tc : matmul_transposed_cases())
    run_matmul_transposed(tc, backends, matmul_weights, report);
  const int64_t gelu_backward_sizes[] = {1, 3, 4, 5, 8, 9, 17, 64, 2307, 3072 * 5 + 3, 3072 * 64};
  for (int64_t n : gelu_backward_sizes) run_gelu_backward(n, false, n == 9, backends, report);
  run_gelu_backward(54, true, false, backends, report);
  run_softmax_backward(1, 1, SoftmaxData::kUniform, false, backends, report);
  run_softmax_backward(3, 7, SoftmaxData::kUniform, false, backends, report);
  run_softmax_backward(4, 8, SoftmaxData::kUniform, true, backends, report);
  run_softmax_backward(17, 64, SoftmaxData::kUniform, false, backends, report);
  run_softmax_backward(5, 130, SoftmaxData::kCausal, false, backends, report);
  run_softmax_backward(12 * 17, 17, SoftmaxData::kCausal, true, backends, report);
  run_softmax_backward(12 * 128, 128, SoftmaxData::kCausal, false, backends, report);
  run_softmax_backward(2, 1025, SoftmaxData::kUniform, false, backends, report);
  run_softmax_backward(9, 13, SoftmaxData::kSpecialRows, false, backends, report);
  const AttentionCase backward_cases[] = {
      {1, 8, 1, 1, 0, 0},    {3, 10, 5, 5, 0, 0}, {12, 64, 17, 17, 0, 0},   {2, 64, 3, 9, 6, 0},
      {4, 10, 7, 20, 13, 0}, {2, 8, 5, 12, 0, 0}, {12, 64, 130, 130, 0, 0}, {3, 64, 4, 70, 66, 0},
      {2, 36, 9, 9, 0, 0},   {1, 3, 6, 6, 0, 0},  {5, 100, 11, 11, 0, 0},   {2, 64, 6, 16, 3, 0},
  };
  for (const AttentionCase& tc : backward_cases) {
    run_attention_mix_backward(tc, backends, report);
    run_attention_scores_backward(tc, backends, report);
  }
  return report.finish();
}
