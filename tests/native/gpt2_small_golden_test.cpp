// Golden numbers of real GPT-2 small (TransformerLens's tests and demos), when its files are
// present: $HOOKLAB_GPT2_DIR or models/gpt2/ (config.json + model.safetensors from
// https://huggingface.co/openai-community/gpt2). Without them the test exits 77, which CTest
// reports as "Skipped" by name — never as passed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "hooklab/logits.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

std::string gpt2_dir() {
  if (const char* env = std::getenv("HOOKLAB_GPT2_DIR"); env != nullptr && *env != '\0') return env;
  return repo_path("models/gpt2");
}

const HookedTransformer& gpt2(bool processed) {
  static std::unique_ptr<HookedTransformer> models[2];
  auto& m = models[processed ? 1 : 0];
  if (!m) {
    auto files = read_model_directory(gpt2_dir(), repo_path("models/tokenizer"));
    if (!files.ok()) {
      ADD_FAILURE() << files.error().message;
      std::abort();
    }
    LoadOptions options;
    options.threads = 2;
    options.processing = processed ? ProcessingOptions::transformer_lens_default() : ProcessingOptions::none();
    auto loaded = HookedTransformer::load(*files, options);
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      std::abort();
    }
    m = std::move(loaded).value();
  }
  return *m;
}

double logit_diff(const HookedTransformer& model, const std::string& prompt, const std::string& a,
                  const std::string& b) {
  const std::vector<int32_t> tokens = model.to_tokens(prompt);
  auto out = model.run(tokens, {});
  EXPECT_TRUE(out.ok());
  const float* last = out->logits.data() + static_cast<int64_t>(tokens.size() - 1) * model.cfg().d_vocab;
  return static_cast<double>(last[*model.to_single_token(a)]) - last[*model.to_single_token(b)];
}

TEST(Gpt2SmallGolden, HelloWorldLoss) {
  for (bool processed : {true, false}) {
    const std::vector<int32_t> tokens = gpt2(processed).to_tokens("Hello world!");
    auto out = gpt2(processed).run(tokens, {});
    ASSERT_TRUE(out.ok());
    EXPECT_NEAR(mean_loss(out->logits, tokens), 5.331855773925781, 4e-5) << (processed ? "processed" : "unprocessed");
  }
}

TEST(Gpt2SmallGolden, MainDemoIoiLogitDifferences) {
  const HookedTransformer& m = gpt2(true);
  EXPECT_NEAR(logit_diff(m, "After John and Mary went to the store, Mary gave a bottle of milk to", " John", " Mary"),
              4.276, 5e-4);
  EXPECT_NEAR(logit_diff(m, "After John and Mary went to the store, John gave a bottle of milk to", " John", " Mary"),
              -2.738, 5e-4);
}

TEST(Gpt2SmallGolden, ProbabilityOfTheAfterTheCatSat) {
  const HookedTransformer& m = gpt2(true);
  const std::vector<int32_t> tokens = m.to_tokens("The cat sat on the mat.");
  ASSERT_EQ(tokens.size(), 8u);
  auto out = m.run(tokens, {});
  ASSERT_TRUE(out.ok());
  const int64_t V = m.cfg().d_vocab;
  const std::vector<double> lp = log_softmax(out->logits.data() + 7 * V, V);
  EXPECT_NEAR(std::exp(lp[static_cast<size_t>(*m.to_single_token(" The"))]), 0.1198, 5e-5);
}

TEST(Gpt2SmallGolden, CacheHas208Activations) {
  auto out = gpt2(true).run_with_cache(gpt2(true).to_tokens("The quick brown fox jumped over the lazy dog"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->cache.size(), 208u);
  EXPECT_EQ(gpt2(true).cfg().n_params(), 84934656);
}

}  // namespace
}  // namespace hooklab::testing

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const std::string dir = hooklab::testing::gpt2_dir();
  if (!fs::exists(fs::path(dir) / "model.safetensors")) {
    std::printf("SKIPPED gpt2_small_golden_test: no GPT-2 small at %s (set HOOKLAB_GPT2_DIR; see README)\n",
                dir.c_str());
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
