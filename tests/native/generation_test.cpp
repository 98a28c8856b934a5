// Generation: the KV-cached forward against full forwards (logits and every hook, every
// native backend and thread count), hook shapes during cached steps, greedy = argmax of a
// full forward, seeded samples identical across backends and threads, steering and
// ablation against full forwards with the same hooks, n_ctx limits and the sampling routine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "hooklab/generation.h"
#include "hooklab/logits.h"
#include "hooklab/packed_matrix.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

constexpr double kRelTolerance = 1e-5;

struct BackendChoice {
  BackendKind kind;
  int threads;
  const char* label;
};
constexpr BackendChoice kBackends[] = {
    {BackendKind::kReference, 1, "reference"}, {BackendKind::kAuto, 1, "auto-1"}, {BackendKind::kAuto, 2, "auto-2"}};

const HookedTransformer& model(const std::string& name, const BackendChoice& b) {
  LoadOptions options;
  options.backend = b.kind;
  options.threads = b.threads;
  return shared_repo_model("models/testdata/" + name, options);
}

const HookedTransformer& tiny_a() { return model("tiny-a", kBackends[0]); }

RunOutput full_run(const HookedTransformer& m, std::span<const int32_t> tokens, std::vector<ForwardHook> hooks = {}) {
  RunOptions options;
  options.hooks = std::move(hooks);
  options.cache_filter = [](const std::string&) { return true; };
  auto out = m.run(tokens, options);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return std::move(out).value();
}

// Rows [first, first + n) of a full run's [1, P, ...] activation, or for attn_scores/pattern
// [1, H, P, P] the query rows [first, first + n) over keys [0, first + n).
std::vector<float> step_slice(const TensorView& full, HookPoint point, int64_t first, int64_t n) {
  std::vector<float> out;
  if (point == HookPoint::kAttnScores || point == HookPoint::kPattern) {
    const int64_t H = full.shape[1], P = full.shape[2];
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = first; i < first + n; ++i)
        out.insert(out.end(), full.data + (h * P + i) * P, full.data + (h * P + i) * P + first + n);
    return out;
  }
  const int64_t width = full.numel() / full.shape[1];
  return std::vector<float>(full.data + first * width, full.data + (first + n) * width);
}

// Runs `tokens` in chunks through a KV cache and compares every step's logits and every
// activation with the same rows of one full forward.
void check_chunks_match_full_forward(const HookedTransformer& m, const std::vector<int32_t>& tokens,
                                     const std::vector<int64_t>& chunks) {
  const RunOutput full = full_run(m, tokens);
  auto kv = KvCache::allocate(m.cfg());
  ASSERT_TRUE(kv.ok());
  const int64_t V = m.cfg().d_vocab;
  int64_t first = 0;
  for (int64_t n : chunks) {
    RunOptions options;
    options.cache_filter = [](const std::string&) { return true; };
    auto step = m.run_with_kv_cache(std::span(tokens).subspan(first, n), *kv, options);
    ASSERT_TRUE(step.ok()) << step.error().message;
    ASSERT_EQ(kv->length(), first + n);
    const Comparison logits =
        compare_tensors(step->logits.data(), full.logits.data() + first * V, n * V, kRelTolerance);
    EXPECT_TRUE(logits.ok) << "logits of positions " << first << ".." << first + n - 1 << ": " << logits.detail;
    for (const auto& entry : step->cache.entries()) {
      const HookRef ref = *parse_hook_name(entry.name, m.cfg().n_layers);
      const TensorView mine = *step->cache.get(entry.name);
      EXPECT_EQ(mine.shape, hook_shape(m.cfg(), ref.point, static_cast<int>(n), static_cast<int>(first + n)))
          << entry.name;
      const std::vector<float> expected = step_slice(*full.cache.get(entry.name), ref.point, first, n);
      ASSERT_EQ(expected.size(), static_cast<size_t>(mine.numel())) << entry.name;
      const Comparison c = compare_tensors(mine.data, expected.data(), expected.size(), kRelTolerance);
      EXPECT_TRUE(c.ok) << entry.name << " at step from " << first << ": " << c.detail;
    }
    first += n;
  }
}

TEST(KvCache, EveryStepEqualsAFullForwardOnEveryBackend) {
  for (const BackendChoice& b : kBackends) {
    SCOPED_TRACE(b.label);
    const HookedTransformer& a = model("tiny-a", b);
    check_chunks_match_full_forward(a, a.to_tokens("When Mary and John went to the store, John gave a drink"),
                                    {6, 1, 1, 3, 1, 1});
    const HookedTransformer& bm = model("tiny-b", b);
    check_chunks_match_full_forward(bm, bm.to_tokens("The quick brown fox jumps over"), {1, 1, 1, 1, 1, 1, 1});
  }
}

TEST(KvCache, HooksFireOnTheNewPositionsWithStepShapes) {
  const HookedTransformer& m = tiny_a();
  const std::vector<int32_t> tokens = m.to_tokens("Hello world, this is");
  auto kv = KvCache::allocate(m.cfg());
  ASSERT_TRUE(kv.ok());
  ASSERT_TRUE(m.run_with_kv_cache(std::span(tokens).first(tokens.size() - 1), *kv, {}).ok());
  std::map<std::string, Shape> seen;
  ForwardHook record;
  record.predicate = [](const std::string&) { return true; };
  record.action.kind = HookActionKind::kRead;
  record.action.callback = [&](TensorView& a, const HookContext& ctx) -> Status {
    seen[ctx.name] = a.shape;
    return {};
  };
  RunOptions options;
  options.hooks = {record};
  ASSERT_TRUE(m.run_with_kv_cache(std::span(tokens).last(1), *kv, options).ok());
  const int keys = static_cast<int>(tokens.size());
  size_t hook_points = 0;
  for (const HookPointInfo& info : hook_point_table()) {
    if (!info.optional) hook_points += info.per_block() ? static_cast<size_t>(m.cfg().n_layers) : 1;
  }
  EXPECT_EQ(seen.size(), hook_points);
  for (const auto& [name, shape] : seen) {
    EXPECT_EQ(shape, hook_shape(m.cfg(), parse_hook_name(name, m.cfg().n_layers)->point, 1, keys)) << name;
  }
  EXPECT_EQ(seen.at("blocks.1.attn.hook_pattern"), (Shape{1, m.cfg().n_heads, 1, keys}));
}

TEST(KvCache, PastTheContextIsAClearErrorAndChangesNothing) {
  const HookedTransformer& m = model("tiny-c", kBackends[0]);  // n_ctx 12
  auto kv = KvCache::allocate(m.cfg());
  ASSERT_TRUE(kv.ok());
  const std::vector<int32_t> ten = m.to_tokens("one two three four five six seven eight nine");
  ASSERT_EQ(ten.size(), 10u);
  ASSERT_TRUE(m.run_with_kv_cache(ten, *kv, {}).ok());
  const std::vector<int32_t> three = {11, 12, 13};
  auto past = m.run_with_kv_cache(three, *kv, {});
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().message.find("n_ctx = 12"), std::string::npos) << past.error().message;
  EXPECT_EQ(kv->length(), 10);
  EXPECT_TRUE(m.run_with_kv_cache(std::span(three).first(2), *kv, {}).ok());
  EXPECT_EQ(kv->length(), 12);

  GenerateOptions options;
  options.max_new_tokens = 3;
  auto gen = Generator::start(m, ten, options);
  ASSERT_FALSE(gen.ok());
  EXPECT_NE(gen.error().message.find("n_ctx"), std::string::npos) << gen.error().message;
  options.max_new_tokens = 2;
  auto fits = generate(m, ten, options);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->tokens().size(), 12u);
}

TEST(KvCache, AGradientRequestWithACacheIsAnError) {
  const HookedTransformer& m = tiny_a();
  auto kv = KvCache::allocate(m.cfg());
  RunOptions options;
  options.grad_metric = Metric{};
  auto out = m.run_with_kv_cache(m.to_tokens("Hi"), *kv, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(kv->length(), 0);
}

// Every generated token is the argmax (or, sampled, has the recorded probability) of a full
// forward over everything before it, with the same hooks.
void check_against_full_forwards(const HookedTransformer& m, const Generator& gen, std::vector<ForwardHook> hooks,
                                 bool greedy) {
  const std::span<const int32_t> tokens = gen.tokens();
  const int64_t V = m.cfg().d_vocab;
  for (size_t k = 0; k < gen.steps().size(); ++k) {
    const size_t length = static_cast<size_t>(gen.prompt_length()) + k;
    auto out = m.run_with_hooks(tokens.first(length), hooks);
    ASSERT_TRUE(out.ok()) << out.error().message;
    const float* last = out->logits.data() + static_cast<int64_t>(length - 1) * V;
    const SampledToken& step = gen.steps()[k];
    if (greedy) { EXPECT_EQ(step.chosen.token, top_k(last, V, 1)[0].token) << "step " << k; }
    const double p = std::exp(log_softmax(last, V)[static_cast<size_t>(step.chosen.token)]);
    EXPECT_NEAR(step.chosen.prob, p, 1e-5) << "step " << k;
    EXPECT_EQ(step.top.size(), 5u);
  }
}

TEST(Generate, GreedyIsTheArgmaxOfAFullForwardAtEveryStep) {
  for (const BackendChoice& b : kBackends) {
    SCOPED_TRACE(b.label);
    const HookedTransformer& m = model("tiny-a", b);
    GenerateOptions options;
    options.max_new_tokens = 12;
    options.sampling.temperature = 0.0;
    auto gen = generate(m, m.to_tokens("When Mary and John went"), options);
    ASSERT_TRUE(gen.ok()) << gen.error().message;
    ASSERT_EQ(gen->steps().size(), 12u);
    for (const SampledToken& s : gen->steps()) EXPECT_EQ(s.chosen.sample_prob, 1.0);
    check_against_full_forwards(m, *gen, {}, true);
  }
}

std::vector<int32_t> sample(const HookedTransformer& m, uint64_t seed, const SamplingOptions& sampling) {
  GenerateOptions options;
  options.max_new_tokens = 16;
  options.sampling = sampling;
  options.seed = seed;
  auto gen = generate(m, m.to_tokens("The cat sat on the mat"), options);
  EXPECT_TRUE(gen.ok()) << gen.error().message;
  if (!gen.ok()) return {};
  return {gen->tokens().begin() + gen->prompt_length(), gen->tokens().end()};
}

TEST(Generate, ASeededSampleIsTheSameOnEveryBackendAndThreadCount) {
  const SamplingOptions settings[] = {{1.0, 0, 1.0, 0.0}, {0.8, 40, 1.0, 0.5}, {1.3, 0, 0.9, 1.0}};
  for (const SamplingOptions& s : settings) {
    const std::vector<int32_t> first = sample(model("tiny-a", kBackends[0]), 7, s);
    ASSERT_EQ(first.size(), 16u);
    for (const BackendChoice& b : kBackends) EXPECT_EQ(sample(model("tiny-a", b), 7, s), first) << b.label;
    EXPECT_NE(sample(model("tiny-a", kBackends[0]), 8, s), first) << "another seed gives another sample";
  }
}

// The contract the WebGPU path drives (device_generation.cpp): it runs pending() itself and
// hands the last row of logits to accept(). Fed from full forwards, that equals step().
TEST(Generate, AcceptingLogitsFromOutsideEqualsStepping) {
  const HookedTransformer& m = tiny_a();
  GenerateOptions options;
  options.max_new_tokens = 12;
  options.sampling = {0.9, 20, 0.95, 0.3};
  options.seed = 11;
  auto stepped = generate(m, m.to_tokens("The cat sat on the mat"), options);
  ASSERT_TRUE(stepped.ok()) << stepped.error().message;
  auto driven = Generator::start(m, m.to_tokens("The cat sat on the mat"), options);
  ASSERT_TRUE(driven.ok());
  const int64_t V = m.cfg().d_vocab;
  while (!driven->done()) {
    const int64_t first = driven->pending_first(), count = static_cast<int64_t>(driven->pending().size());
    ASSERT_EQ(first + count, static_cast<int64_t>(driven->tokens().size()));
    ASSERT_EQ(count, first == 0 ? driven->prompt_length() : 1) << "the prompt first, then one token per step";
    auto out = m.run(driven->tokens(), RunOptions{});
    ASSERT_TRUE(out.ok());
    const std::span<const float> last(out->logits.data() + (first + count - 1) * V, static_cast<size_t>(V));
    ASSERT_TRUE(driven->accept(last.first(static_cast<size_t>(V - 1))).status().ok() == false)
        << "a row of the wrong length is refused";
    ASSERT_TRUE(driven->accept(last).ok());
  }
  EXPECT_EQ(std::vector<int32_t>(driven->tokens().begin(), driven->tokens().end()),
            std::vector<int32_t>(stepped->tokens().begin(), stepped->tokens().end()));
  for (size_t i = 0; i < stepped->steps().size(); ++i) {
    EXPECT_NEAR(driven->steps()[i].chosen.prob, stepped->steps()[i].chosen.prob, 1e-5) << i;
  }
  EXPECT_FALSE(driven->accept(std::span<const float>()).ok()) << "a finished generation accepts nothing";

  auto mixed = Generator::start(m, m.to_tokens("The cat sat on the mat"), options);
  ASSERT_TRUE(mixed.ok());
  auto out = m.run(mixed->tokens(), RunOptions{});
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(mixed
                  ->accept(std::span<const float>(out->logits.data() + (mixed->prompt_length() - 1) * V,
                                                  static_cast<size_t>(V)))
                  .ok());
  const Result<SampledToken> refused = mixed->step();
  ASSERT_FALSE(refused.ok()) << "step() after accept() would run without the cached prompt";
  EXPECT_NE(refused.error().message.find("accept()"), std::string::npos) << refused.error().message;
}

TEST(Generate, SampledStepsRecordTheFullForwardsProbabilities) {
  const HookedTransformer& m = tiny_a();
  GenerateOptions options;
  options.max_new_tokens = 8;
  options.seed = 3;
  auto gen = generate(m, m.to_tokens("Hello world"), options);
  ASSERT_TRUE(gen.ok());
  check_against_full_forwards(m, *gen, {}, false);
  // Temperature 1 and no filter: the sampling distribution is the plain softmax.
  for (const SampledToken& s : gen->steps()) EXPECT_NEAR(s.chosen.sample_prob, s.chosen.prob, 1e-12);
}

TEST(Generate, StopsAtTheEndOfTextTokenWhenAsked) {
  const HookedTransformer& m = tiny_a();
  GenerateOptions options;
  options.max_new_tokens = 6;
  options.sampling.temperature = 0.0;
  auto plain = generate(m, m.to_tokens("Hello"), options);
  ASSERT_TRUE(plain.ok());
  options.eos_token = plain->steps()[2].chosen.token;  // pretend the third token ends the text
  options.stop_at_eos = true;
  auto stopped = generate(m, m.to_tokens("Hello"), options);
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(stopped->stopped_at_eos());
  EXPECT_LE(stopped->steps().size(), 3u);
  EXPECT_EQ(stopped->steps().back().chosen.token, options.eos_token);
}

TEST(Generate, ZeroAndMeanHeadAblationsEqualFullForwardsWithTheSameHooks) {
  const HookedTransformer& m = tiny_a();
  const std::vector<int32_t> prompt = m.to_tokens("When Mary and John went to the store");
  GenerateOptions options;
  options.max_new_tokens = 8;
  options.sampling.temperature = 0.0;
  options.ablations = {{1, 2, AblationKind::kZero}};
  auto zeroed = generate(m, prompt, options);
  ASSERT_TRUE(zeroed.ok()) << zeroed.error().message;
  ForwardHook zero;
  zero.name = "blocks.1.attn.hook_z";
  zero.action.kind = HookActionKind::kZero;
  zero.action.heads = {2};
  check_against_full_forwards(m, *zeroed, {zero}, true);

  options.ablations = {{0, 1, AblationKind::kMean}};
  auto meaned = generate(m, prompt, options);
  ASSERT_TRUE(meaned.ok()) << meaned.error().message;
  // The replacement: head 1's mean hook_z over the prompt, at every position.
  const RunOutput clean = full_run(m, prompt);
  const TensorView z = *clean.cache.get("blocks.0.attn.hook_z");
  const int64_t P = z.shape[1], width = z.numel() / P;
  ForwardHook mean;
  mean.name = "blocks.0.attn.hook_z";
  mean.action.kind = HookActionKind::kCallback;
  mean.action.callback = [z, P, width, &m](TensorView& a, const HookContext&) -> Status {
    const int64_t Dh = m.cfg().d_head;
    for (int64_t p = 0; p < a.shape[1]; ++p)
      for (int64_t d = Dh; d < 2 * Dh; ++d) {
        double sum = 0.0;
        for (int64_t q = 0; q < P; ++q) sum += z.data[q * width + d];
        a.data[p * width + d] = static_cast<float>(sum / P);
      }
    return {};
  };
  check_against_full_forwards(m, *meaned, {mean}, true);
}

TEST(Steering, ActivationDifferenceIsPaddedWithSpacesAndZeroAtBos) {
  const HookedTransformer& m = tiny_a();
  const HookRef hook{HookPoint::kResidPre, 1};
  auto v = activation_difference(m, hook, " Love", " Hate it");
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->size(), static_cast<size_t>(3 * m.cfg().d_model));
  for (int64_t j = 0; j < m.cfg().d_model; ++j) EXPECT_EQ((*v)[j], 0.0f);
  // Row 2 is resid_pre(" Love" + " ") - resid_pre(" Hate it") at position 2.
  const int32_t space = *m.to_single_token(" ");
  std::vector<int32_t> love = m.to_tokens(" Love");
  love.push_back(space);
  const RunOutput a = full_run(m, love), b = full_run(m, m.to_tokens(" Hate it"));
  const TensorView ra = *a.cache.get("resid_pre", 1), rb = *b.cache.get("resid_pre", 1);
  const int64_t D = m.cfg().d_model;
  for (int64_t j = 0; j < D; ++j) EXPECT_FLOAT_EQ((*v)[2 * D + j], ra.data[2 * D + j] - rb.data[2 * D + j]);
  EXPECT_FALSE(activation_difference(m, {HookPoint::kPattern, 0}, "a", "b").ok());
}

TEST(Steering, SteeredGreedyEqualsFullForwardsWithTheVectorAtTheFront) {
  const HookedTransformer& m = tiny_a();
  const HookRef hook{HookPoint::kResidPre, 1};
  auto v = activation_difference(m, hook, " Love", " Hate");
  ASSERT_TRUE(v.ok());
  GenerateOptions options;
  options.max_new_tokens = 10;
  options.sampling.temperature = 0.0;
  const std::vector<int32_t> prompt = m.to_tokens("I think that you are");
  auto plain = generate(m, prompt, options);
  options.steering.push_back({hook, *v, 8.0, SteeringPositions::kPrompt});
  auto steered = generate(m, prompt, options);
  ASSERT_TRUE(plain.ok() && steered.ok());
  EXPECT_NE(std::vector<int32_t>(plain->tokens().begin(), plain->tokens().end()),
            std::vector<int32_t>(steered->tokens().begin(), steered->tokens().end()))
      << "a coefficient of 8 changes the continuation";
  // Independent check: full forwards that add 8 * v at positions 0..S-1 every time.
  std::vector<float> front(*v);
  for (float& x : front) x = static_cast<float>(8.0 * x);
  ForwardHook add;
  add.name = "blocks.1.hook_resid_pre";
  add.action.kind = HookActionKind::kCallback;
  add.action.callback = [&](TensorView& a, const HookContext&) -> Status {
    for (size_t i = 0; i < front.size(); ++i) a.data[i] += front[i];
    return {};
  };
  check_against_full_forwards(m, *steered, {add}, true);
}

TEST(Steering, OneRowIsAddedAtEveryPositionInScope) {
  const HookedTransformer& m = tiny_a();
  const int64_t D = m.cfg().d_model;
  std::vector<float> row(static_cast<size_t>(D));
  for (int64_t j = 0; j < D; ++j) row[j] = static_cast<float>(std::sin(static_cast<double>(j)));
  GenerateOptions options;
  options.max_new_tokens = 6;
  options.sampling.temperature = 0.0;
  options.steering.push_back({{HookPoint::kResidMid, 0}, row, 4.0, SteeringPositions::kNew});
  const std::vector<int32_t> prompt = m.to_tokens("The weather today");
  auto gen = generate(m, prompt, options);
  ASSERT_TRUE(gen.ok()) << gen.error().message;
  const int64_t prompt_length = static_cast<int64_t>(prompt.size());
  ForwardHook add;
  add.name = "blocks.0.hook_resid_mid";
  add.action.kind = HookActionKind::kCallback;
  add.action.callback = [&](TensorView& a, const HookContext&) -> Status {
    for (int64_t p = prompt_length; p < a.shape[1]; ++p)
      for (int64_t j = 0; j < D; ++j) a.data[p * D + j] += static_cast<float>(4.0 * row[j]);
    return {};
  };
  check_against_full_forwards(m, *gen, {add}, true);
}

TEST(Steering, UnembeddingDirectionIsTheUnitDifferenceOfTwoColumnsOfWU) {
  const HookedTransformer& m = tiny_a();
  const HookRef hook{HookPoint::kResidPost, 1};
  const int32_t paris = *m.to_single_token(" Paris"), london = *m.to_single_token(" London");
  const int64_t D = m.cfg().d_model;
  std::vector<float> a(static_cast<size_t>(D)), b(static_cast<size_t>(D));
  read_column(a.data(), m.weights().w_u, paris);
  read_column(b.data(), m.weights().w_u, london);
  auto both = unembedding_direction(m, hook, " Paris", " London");
  auto one = unembedding_direction(m, hook, " Paris", "");
  ASSERT_TRUE(both.ok() && one.ok());
  ASSERT_EQ(both->size(), static_cast<size_t>(D));
  double norm_diff = 0.0, norm_a = 0.0, length = 0.0;
  for (int64_t d = 0; d < D; ++d) norm_diff += std::pow(double(a[d]) - b[d], 2), norm_a += double(a[d]) * a[d];
  for (int64_t d = 0; d < D; ++d) {
    EXPECT_NEAR((*both)[d], (double(a[d]) - b[d]) / std::sqrt(norm_diff), 1e-6) << d;
    EXPECT_NEAR((*one)[d], a[d] / std::sqrt(norm_a), 1e-6) << d;
    length += double((*both)[d]) * (*both)[d];
  }
  EXPECT_NEAR(length, 1.0, 1e-5);
  auto error_of = [&](HookRef h, const char* to, const char* from) {
    auto r = unembedding_direction(m, h, to, from);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_NE(error_of({HookPoint::kZ, 0}, " Paris", "").find("d_model-wide hook"), std::string::npos);
  EXPECT_NE(error_of(hook, " Paris", " Paris").find("is zero"), std::string::npos);
  EXPECT_NE(error_of(hook, " Paris France", ""), "ok");
  EXPECT_NE(error_of(hook, " Paris", "two tokens"), "ok");
}

TEST(Generate, BadOptionsAreClearErrors) {
  const HookedTransformer& m = tiny_a();
  const std::vector<int32_t> prompt = m.to_tokens("Hi");
  auto error_of = [&](GenerateOptions o) {
    auto g = Generator::start(m, prompt, std::move(o));
    return g.ok() ? std::string("(no error)") : g.error().message;
  };
  GenerateOptions o;
  o.sampling.temperature = -0.5;
  EXPECT_NE(error_of(o).find("temperature"), std::string::npos);
  o = {};
  o.sampling.top_p = 0.0;
  EXPECT_NE(error_of(o).find("top_p"), std::string::npos);
  o.sampling.top_p = 1.5;
  EXPECT_NE(error_of(o).find("top_p"), std::string::npos);
  o = {};
  o.hooks.push_back(ForwardHook{"blocks.0.hook_nothing", std::nullopt, "", nullptr, {}});
  EXPECT_NE(error_of(o).find("hook_nothing"), std::string::npos);
  o = {};
  o.ablations = {{5, 0, AblationKind::kZero}};
  EXPECT_NE(error_of(o).find("ablate"), std::string::npos);
  o = {};
  o.steering.push_back({{HookPoint::kResidPre, 0}, std::vector<float>(7, 1.0f), 1.0, SteeringPositions::kAll});
  EXPECT_NE(error_of(o).find("rows of 32"), std::string::npos);
}

TEST(Generate, AFailedStepChangesNothingAndTheNextOneContinues) {
  const HookedTransformer& m = tiny_a();
  GenerateOptions options;
  options.max_new_tokens = 5;
  options.sampling.temperature = 0.9;
  options.seed = 5;
  auto expected = generate(m, m.to_tokens("Once upon a time"), options);
  ASSERT_TRUE(expected.ok());
  auto fail_once = std::make_shared<int>(2);  // the third step fails once
  ForwardHook flaky;
  flaky.name = "blocks.1.hook_resid_post";
  flaky.action.kind = HookActionKind::kRead;
  flaky.action.callback = [fail_once](TensorView&, const HookContext&) -> Status {
    if (--*fail_once == -1) return make_error(ErrorCode::kCancelled, "stop");
    return {};
  };
  options.hooks = {flaky};
  auto gen = Generator::start(m, m.to_tokens("Once upon a time"), options);
  ASSERT_TRUE(gen.ok());
  int failures = 0;
  while (!gen->done()) failures += gen->step().ok() ? 0 : 1;
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(std::vector<int32_t>(gen->tokens().begin(), gen->tokens().end()),
            std::vector<int32_t>(expected->tokens().begin(), expected->tokens().end()));
}

// --- against the float64 PyTorch reference (tests/fixtures/generation, generation.py) ---

// Probabilities from float32 logits within 1e-5 of float64 ones: the logits agree within
// 1e-5 * max(1, |logit|) (the forward's tolerance) and a probability moves by at most about p
// times the logit error divided by the temperature (measured worst: 1.2e-6).
constexpr double kProbTolerance = 1e-5;

GenerateOptions fixture_options(const HookedTransformer& m, const nlohmann::json& c) {
  GenerateOptions o;
  const auto& s = c["sampling"];
  o.max_new_tokens = c["max_new_tokens"].get<int>();
  o.sampling = {s["temperature"].get<double>(), s["top_k"].get<int>(), s["top_p"].get<double>(),
                s["freq_penalty"].get<double>()};
  o.seed = s["seed"].get<uint64_t>();
  if (!c["steering"].is_null()) {
    const auto& st = c["steering"];
    const HookRef hook =
        *resolve_hook_name(st["hook"].get<std::string>(), st["layer"].get<int>(), "", m.cfg().n_layers);
    const bool unembed = st.value("by", "activations") == "unembed";
    auto v = unembed ? unembedding_direction(m, hook, st["to"].get<std::string>(), st["from"].get<std::string>())
                     : activation_difference(m, hook, st["to"].get<std::string>(), st["from"].get<std::string>());
    EXPECT_TRUE(v.ok()) << v.error().message;
    o.steering.push_back({hook, *v, st["coefficient"].get<double>(),
                          st["positions"] == "prompt" ? SteeringPositions::kPrompt : SteeringPositions::kAll});
  }
  return o;
}

double worst_prob_diff = 0.0;  // printed by the parity test

void check_step(const SampledToken& mine, const nlohmann::json& ref, size_t k) {
  worst_prob_diff = std::max({worst_prob_diff, std::fabs(mine.chosen.prob - ref["prob"].get<double>()),
                              std::fabs(mine.chosen.sample_prob - ref["sample_prob"].get<double>())});
  EXPECT_NEAR(mine.chosen.prob, ref["prob"].get<double>(), kProbTolerance) << "step " << k;
  EXPECT_NEAR(mine.chosen.sample_prob, ref["sample_prob"].get<double>(), kProbTolerance) << "step " << k;
  ASSERT_EQ(mine.top.size(), ref["top"].size());
  for (size_t j = 0; j < mine.top.size(); ++j) {
    EXPECT_EQ(mine.top[j].token, ref["top"][j][0].get<int32_t>()) << "step " << k << " top " << j;
    EXPECT_NEAR(mine.top[j].prob, ref["top"][j][1].get<double>(), kProbTolerance) << "step " << k << " top " << j;
    EXPECT_NEAR(mine.top[j].sample_prob, ref["top"][j][2].get<double>(), kProbTolerance) << "step " << k;
  }
}

TEST(GenerationParity, TokensAndProbabilitiesEqualTheReferenceOnEveryBackend) {
  const nlohmann::json manifest = read_json_file(repo_path("tests/fixtures/generation/manifest.json"));
  ASSERT_FALSE(manifest.is_discarded()) << "tests/fixtures/generation/manifest.json";
  ASSERT_GE(manifest["cases"].size(), 9u);
  for (const auto& c : manifest["cases"]) {
    for (const BackendChoice& b : kBackends) {
      SCOPED_TRACE(c["id"].get<std::string>() + "/" + b.label);
      LoadOptions load;
      load.processing =
          c["processing"] == "none" ? ProcessingOptions::none() : ProcessingOptions::transformer_lens_default();
      load.backend = b.kind;
      load.threads = b.threads;
      const HookedTransformer& m = shared_repo_model(c["model"].get<std::string>(), load);
      const std::vector<int32_t> prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
      ASSERT_EQ(m.to_tokens(c["prompt"].get<std::string>()), prompt);
      auto gen = generate(m, prompt, fixture_options(m, c));
      ASSERT_TRUE(gen.ok()) << gen.error().message;
      const auto& steps = c["steps"];
      ASSERT_EQ(gen->steps().size(), steps.size());
      for (size_t k = 0; k < steps.size(); ++k) {
        // A draw or an argmax closer to a boundary than float32 can resolve may differ; none
        // of the fixtures' is (min_margin), so every token must match.
        ASSERT_EQ(gen->steps()[k].chosen.token, steps[k]["token"].get<int32_t>())
            << "step " << k << " (reference margin " << steps[k]["margin"] << ")";
        check_step(gen->steps()[k], steps[k], k);
      }
      if (c.contains("unsteered_tokens")) {
        EXPECT_NE(c["unsteered_tokens"], c["tokens"]) << "the fixture's steering changes the continuation";
      }
    }
  }
  std::printf("  worst |prob - reference| of a chosen token: %.3g (tolerance %.0e)\n", worst_prob_diff, kProbTolerance);
}

// --- the sampling routine ---

std::vector<double> distribution(std::vector<float> logits, SamplingOptions o, std::vector<int32_t> context = {}) {
  auto p = sampling_distribution(logits, o, context);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : std::vector<double>{};
}

TEST(Sampling, TopPOfOneAndNoFilterIsTheSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, -0.5f, 2.0f, 0.25f};
  const std::vector<double> p = distribution(logits, {1.0, 0, 1.0, 0.0});
  const std::vector<double> lp = log_softmax(logits.data(), 5);
  for (size_t i = 0; i < 5; ++i) EXPECT_NEAR(p[i], std::exp(lp[i]), 1e-15);
}

TEST(Sampling, TopKOfOneIsTheArgmaxAndTiesAtTheBoundaryAreKept) {
  EXPECT_EQ(distribution({1.0f, 3.0f, 2.0f}, {1.0, 1, 1.0, 0.0}), (std::vector<double>{0.0, 1.0, 0.0}));
  const std::vector<double> tied = distribution({1.0f, 3.0f, 3.0f, 0.0f}, {1.0, 1, 1.0, 0.0});
  EXPECT_EQ(tied, (std::vector<double>{0.0, 0.5, 0.5, 0.0}));
  const std::vector<double> two = distribution({1.0f, 3.0f, 2.0f, 2.0f}, {1.0, 2, 1.0, 0.0});
  EXPECT_EQ(two[0], 0.0);
  EXPECT_GT(two[3], 0.0) << "the tie with the 2nd largest is kept";
}

TEST(Sampling, TemperatureZeroIsGreedyWithTheLowestIdAmongTies) {
  EXPECT_EQ(distribution({0.5f, 4.0f, 4.0f}, {0.0, 0, 1.0, 5.0}, {1, 1, 1}), (std::vector<double>{0.0, 1.0, 0.0}));
  // temperature -> 0 converges to the argmax (ties share it).
  const std::vector<double> cold = distribution({0.5f, 4.0f, 3.9f}, {1e-4, 0, 1.0, 0.0});
  EXPECT_NEAR(cold[1], 1.0, 1e-12);
  const std::vector<double> cold_tie = distribution({0.5f, 4.0f, 4.0f}, {1e-4, 0, 1.0, 0.0});
  EXPECT_NEAR(cold_tie[1], 0.5, 1e-12);
  EXPECT_NEAR(cold_tie[2], 0.5, 1e-12);
}

TEST(Sampling, TopPKeepsTokensWhileTheMassBeforeThemIsAtMostP) {
  // softmax of log(0.5, 0.3, 0.15, 0.05): masses before each token 0, 0.5, 0.8, 0.95.
  const std::vector<float> logits = {std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
  const std::vector<double> p = distribution(logits, {1.0, 0, 0.6, 0.0});
  EXPECT_NEAR(p[1], 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(p[3], 0.3 / 0.8, 1e-6);
  EXPECT_EQ(p[0], 0.0);
  EXPECT_EQ(p[2], 0.0);
  const std::vector<double> tiny = distribution(logits, {1.0, 0, 1e-9, 0.0});
  EXPECT_EQ(tiny[1], 1.0) << "the most likely token is always kept";
}

// The nucleus of a vocabulary-sized distribution (keep_top_p sorts only a growing head of the
// order) equals the rule applied to the full order: the same kept set, the same probabilities.
TEST(Sampling, TopPOverAFullVocabularyKeepsWhatTheWholeOrderKeeps) {
  std::vector<float> logits(50257);
  SplitMix64 rng(7);
  // Coarse values (many ties across the nucleus boundary) and a flat tail, so the nucleus runs
  // from one token to most of the vocabulary as top_p grows.
  for (float& v : logits) v = static_cast<float>(std::floor(rng.next_unit() * 40.0)) / 8.0f;
  for (double top_p : {1e-6, 0.01, 0.3, 0.9, 0.999, 0.999999}) {
    const std::vector<double> p = distribution(logits, {1.0, 0, top_p, 0.0});
    std::vector<int32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
    const std::vector<double> full = distribution(logits, {1.0, 0, 1.0, 0.0});
    std::vector<bool> kept(logits.size(), false);
    double before = 0.0, kept_mass = 0.0;
    for (size_t j = 0; j < order.size() && (j == 0 || before <= top_p); ++j) {
      kept[static_cast<size_t>(order[j])] = true;
      kept_mass += full[static_cast<size_t>(order[j])];
      before += full[static_cast<size_t>(order[j])];
    }
    size_t kept_count = 0;
    for (size_t t = 0; t < logits.size(); ++t) {
      kept_count += kept[t] ? 1 : 0;
      ASSERT_EQ(p[t] > 0.0, kept[t]) << "top_p " << top_p << " token " << t;
      if (kept[t]) { ASSERT_NEAR(p[t], full[t] / kept_mass, 1e-12 * p[t]) << "top_p " << top_p << " token " << t; }
    }
    std::printf("  top_p %g keeps %zu tokens\n", top_p, kept_count);
  }
}

TEST(Sampling, FrequencyPenaltyIsSubtractedAfterTheTemperature) {
  // x = logits / T - f * count: token 0 seen twice.
  const std::vector<double> p = distribution({2.0f, 1.0f}, {0.5, 0, 1.0, 0.75}, {0, 0, 7 /* outside: ignored */});
  const double x0 = 2.0 / 0.5 - 0.75 * 2, x1 = 1.0 / 0.5;
  EXPECT_NEAR(p[0], std::exp(x0) / (std::exp(x0) + std::exp(x1)), 1e-15);
}

TEST(Sampling, DrawsFollowTheDistributionAndRepeatWithTheSeed) {
  const std::vector<double> p = {0.5, 0.0, 0.3, 0.2};
  SplitMix64 rng(123), again(123);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; ++i) {
    const int32_t t = draw_token(p, rng);
    ASSERT_EQ(t, draw_token(p, again));
    ++counts[static_cast<size_t>(t)];
  }
  EXPECT_EQ(counts[1], 0);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(counts[i] / 40000.0, p[i], 0.01) << i;
  // splitmix64's published first output for seed 0.
  SplitMix64 zero(0);
  EXPECT_EQ(zero.next(), 0xE220A8397B1DCDAFull);
}

TEST(Sampling, BadLogitsAndOptionsAreErrors) {
  EXPECT_FALSE(sampling_distribution(std::vector<float>{1.0f, NAN}, {}, {}).ok());
  EXPECT_FALSE(validate_sampling({1.0, -1, 1.0, 0.0}).ok());
  EXPECT_FALSE(validate_sampling({1.0, 0, 1.0, -0.1}).ok());
  EXPECT_FALSE(validate_sampling({INFINITY, 0, 1.0, 0.0}).ok());
  EXPECT_TRUE(validate_sampling({0.0, 0, 1.0, 0.0}).ok());
}

}  // namespace
}  // namespace hooklab::testing
