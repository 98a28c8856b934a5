// Half-precision weights on the committed small models (tiny-a f32, tiny-b f16, tiny-c bf16):
//
//  - widening is lossless: an f16 (bf16) model written as f32 and back holds the same bits, and
//    the f32 copy computes bit-identical logits;
//  - narrowing an f32 model to f16 (bf16) keeps its logits within a bound derived from the
//    format's rounding, and its top-1 prediction wherever the f32 top-2 margin exceeds twice
//    that bound (no logit can move by more than the bound, so the order cannot flip).
//
// The bound: rounding to nearest moves each weight by at most u·|w|, u = 2^-11 (f16) or 2^-8
// (bf16); the test checks that first, weight by weight. A logit is a sum over paths through
// the embedding, the attention and MLP matrices and the unembedding, each path a product of
// rounded weights, so to first order its error is a sum of ±u-sized relative errors of the
// terms. Terms of both signs cancel in the logit but not in its error, so measured against
// max|logit| the error comes out a few u: 2.8u (f16) and 4.3u (bf16) on tiny-a. The bound
// is 8u relative to max(1, max|logit|) at each position — 3.9e-3 for f16, 3.1e-2 for bf16 —
// about twice what is measured, so a change that doubles the error (truncating instead of
// rounding, one rounding too many) fails.
// The conversion is what `hooklab convert` does: read_f32 of every tensor, then
// write_safetensors, which rounds to nearest even.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "hooklab/hooked_transformer.h"
#include "hooklab/logits.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

constexpr double kF16Unit = 1.0 / 2048.0;  // 2^-11
constexpr double kBF16Unit = 1.0 / 256.0;  // 2^-8
constexpr double kBoundInUnits = 8.0;      // see the header comment

const char* const kPrompts[] = {
    "Hello world",
    "When Mary and John went to the store, John gave",
    "def f(x):\n    return x * 2",
    "Zürich — 東京 🙂 naïve",
    "1, 2, 3, 4, 5, 6,",
};

Result<SafetensorsFile> open_weights(const std::string& model_dir) {
  HOOKLAB_ASSIGN_OR_RETURN(auto source, open_file_source(repo_path(model_dir + "/model.safetensors")));
  return SafetensorsFile::open(source);
}

// Every floating-point tensor of `file` re-encoded as `dtype` (safetensors bytes).
std::vector<uint8_t> convert(const SafetensorsFile& file, DType dtype) {
  std::vector<std::vector<float>> values;
  std::vector<TensorToWrite> tensors;
  values.reserve(file.tensors().size());
  for (const TensorInfo& t : file.tensors()) {
    values.emplace_back(static_cast<size_t>(t.numel()));
    EXPECT_TRUE(file.read_f32(t, 0, t.numel(), values.back().data()).ok()) << t.name;
    tensors.push_back({t.name, dtype, t.shape, values.back().data()});
  }
  auto bytes = write_safetensors(tensors, {{"format", "pt"}});
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>{};
}

SafetensorsFile open_bytes(const std::string& name, std::vector<uint8_t> bytes) {
  auto file = SafetensorsFile::open(make_memory_source(name, std::move(bytes)));
  EXPECT_TRUE(file.ok()) << (file.ok() ? "" : file.error().message);
  return std::move(file).value();
}

std::vector<uint8_t> raw_bytes(const ByteSource& source, const TensorInfo& t) {
  std::vector<uint8_t> out(static_cast<size_t>(t.data_end - t.data_begin));
  EXPECT_TRUE(source.read(t.data_begin, out.data(), out.size()).ok());
  return out;
}

std::unique_ptr<HookedTransformer> load(const std::string& model_dir, std::vector<uint8_t> weights,
                                        const ProcessingOptions& processing) {
  auto files = read_model_directory(repo_path(model_dir), repo_path("models/tokenizer"));
  EXPECT_TRUE(files.ok());
  if (!weights.empty()) files->weights = make_memory_source(model_dir + " (converted)", std::move(weights));
  LoadOptions options;
  options.processing = processing;
  auto model = HookedTransformer::load(*files, options);
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  return model.ok() ? std::move(model).value() : nullptr;
}

Tensor logits_of(const HookedTransformer& model, const char* prompt) {
  std::vector<int32_t> tokens = model.to_tokens(prompt);
  if (static_cast<int>(tokens.size()) > model.cfg().n_ctx) tokens.resize(static_cast<size_t>(model.cfg().n_ctx));
  auto out = model.run(tokens, {});
  EXPECT_TRUE(out.ok());
  return std::move(out->logits);
}

// --- widening is lossless -------------------------------------------------------------------

class WideningRoundTrip : public ::testing::TestWithParam<std::pair<const char*, DType>> {};

TEST_P(WideningRoundTrip, ThroughF32KeepsEveryBitAndEveryLogit) {
  const auto [model_dir, stored] = GetParam();
  auto original = open_weights(model_dir);
  ASSERT_TRUE(original.ok()) << original.error().message;
  auto source = open_file_source(repo_path(std::string(model_dir) + "/model.safetensors"));
  ASSERT_TRUE(source.ok());

  const std::vector<uint8_t> as_f32 = convert(*original, DType::kF32);
  const std::vector<uint8_t> back_bytes = convert(open_bytes("f32", as_f32), stored);
  const SafetensorsFile wide = open_bytes("f32", as_f32);
  const SafetensorsFile back = open_bytes("back", back_bytes);
  ASSERT_EQ(back.tensors().size(), original->tensors().size());
  for (const TensorInfo& t : original->tensors()) {
    const TensorInfo* w = wide.find(t.name);
    const TensorInfo* b = back.find(t.name);
    ASSERT_NE(w, nullptr) << t.name;
    ASSERT_NE(b, nullptr) << t.name;
    EXPECT_EQ(w->dtype, DType::kF32);
    EXPECT_EQ(b->dtype, stored) << t.name;
    EXPECT_EQ(b->shape, t.shape) << t.name;
    // Offsets differ (each writer lays tensors out its own way): compare each tensor's bytes.
    const std::vector<uint8_t> got(back_bytes.begin() + static_cast<std::ptrdiff_t>(b->data_begin),
                                   back_bytes.begin() + static_cast<std::ptrdiff_t>(b->data_end));
    EXPECT_EQ(got, raw_bytes(**source, t)) << t.name << " changed in the round trip";
  }

  for (const auto& processing : {ProcessingOptions::transformer_lens_default(), ProcessingOptions::none()}) {
    auto as_stored = load(model_dir, {}, processing);
    auto widened = load(model_dir, as_f32, processing);
    ASSERT_TRUE(as_stored && widened);
    for (const char* prompt : kPrompts) {
      const Tensor a = logits_of(*as_stored, prompt), b = logits_of(*widened, prompt);
      ASSERT_EQ(a.numel(), b.numel());
      EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())), 0)
          << "logits differ for '" << prompt << "': the f32 copy must hold the same weights";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(StoredHalfModels, WideningRoundTrip,
                         ::testing::Values(std::make_pair("models/testdata/tiny-b", DType::kF16),
                                           std::make_pair("models/testdata/tiny-c", DType::kBF16)),
                         [](const auto& info) {
                           return info.param.second == DType::kF16 ? "tiny_b_f16" : "tiny_c_bf16";
                         });

// --- narrowing stays within the rounding bound ---------------------------------------------

struct Narrowing {
  DType dtype;
  double unit;  // relative rounding error of one weight
};

class NarrowingAgreement : public ::testing::TestWithParam<Narrowing> {};

TEST_P(NarrowingAgreement, LogitsWithinBoundAndTop1KeptBeyondMargin) {
  const Narrowing n = GetParam();
  const double rel = kBoundInUnits * n.unit;
  auto original = open_weights("models/testdata/tiny-a");
  ASSERT_TRUE(original.ok()) << original.error().message;
  ASSERT_EQ(original->find("wte.weight")->dtype, DType::kF32) << "tiny-a is the f32 model";
  const std::vector<uint8_t> narrowed = convert(*original, n.dtype);
  const SafetensorsFile narrow_file = open_bytes("narrowed", narrowed);
  for (const TensorInfo& t : original->tensors()) {
    std::vector<float> wide(static_cast<size_t>(t.numel())), narrow(wide.size());
    ASSERT_TRUE(original->read_f32(t, 0, t.numel(), wide.data()).ok());
    ASSERT_TRUE(narrow_file.read_f32(*narrow_file.find(t.name), 0, t.numel(), narrow.data()).ok());
    for (size_t i = 0; i < wide.size(); ++i) {
      // f16 subnormals (below 2^-14) have a fixed spacing of 2^-24: half of it is the bound there.
      const double allowed = std::max(n.unit * std::fabs(wide[i]), n.dtype == DType::kF16 ? 0x1p-25 : 0.0);
      ASSERT_LE(std::fabs(static_cast<double>(narrow[i]) - wide[i]), allowed)
          << t.name << "[" << i << "] = " << wide[i];
    }
  }

  for (const auto& processing : {ProcessingOptions::transformer_lens_default(), ProcessingOptions::none()}) {
    auto full = load("models/testdata/tiny-a", {}, processing);
    auto half = load("models/testdata/tiny-a", narrowed, processing);
    ASSERT_TRUE(full && half);
    int positions = 0, top1_checked = 0;
    double worst = 0.0;
    for (const char* prompt : kPrompts) {
      const Tensor a = logits_of(*full, prompt), b = logits_of(*half, prompt);
      ASSERT_EQ(a.shape(), b.shape());
      const int64_t vocab = a.shape()[2];
      for (int64_t p = 0; p < a.shape()[1]; ++p) {
        const float* ref = a.data() + p * vocab;
        const float* got = b.data() + p * vocab;
        const Comparison c = compare_tensors(got, ref, static_cast<size_t>(vocab), rel);
        EXPECT_TRUE(c.ok) << "'" << prompt << "' position " << p << ": max|Δlogit| " << c.max_abs_diff << " > "
                          << c.tolerance << " (" << c.detail << ")";
        worst = std::max(worst, c.max_abs_diff / std::max(1.0, c.max_abs_ref));
        const auto top = top_k(ref, vocab, 2);
        if (top[0].logit - top[1].logit > 2 * c.tolerance) {
          EXPECT_EQ(top_k(got, vocab, 1)[0].token, top[0].token) << "'" << prompt << "' position " << p;
          ++top1_checked;
        }
        ++positions;
      }
    }
    std::printf("[ %s, %s ] %d positions, worst max|Δlogit| / max|logit| %.2e (bound %.2e), top-1 checked at %d\n",
                dtype_name(n.dtype), processing.is_none() ? "unprocessed" : "processed", positions, worst, rel,
                top1_checked);
    EXPECT_GT(top1_checked, 0) << "no position had a wide enough margin to check top-1";
  }
}

INSTANTIATE_TEST_SUITE_P(TinyA, NarrowingAgreement,
                         ::testing::Values(Narrowing{DType::kF16, kF16Unit}, Narrowing{DType::kBF16, kBF16Unit}),
                         [](const auto& info) { return std::string(dtype_name(info.param.dtype)); });

}  // namespace
}  // namespace hooklab::testing
