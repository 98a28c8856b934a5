// run_with_cache and run_with_hooks semantics: cache keys and TransformerLens's name rules,
// the residual-stream identities, hook actions and selectors, hooks scoped to one run, and
// input validation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "hooklab/hooked_transformer.h"
#include "hooklab/logits.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

const HookedTransformer& tiny_a() {
  static std::unique_ptr<HookedTransformer> model = [] {
    auto m = load_repo_model("models/testdata/tiny-a", LoadOptions{});
    if (!m.ok()) {
      ADD_FAILURE() << m.error().message;
      std::abort();
    }
    return std::move(m).value();
  }();
  return *model;
}

const std::vector<int32_t>& prompt_tokens() {
  static const std::vector<int32_t> tokens = tiny_a().to_tokens("When Mary and John went to the store, John gave");
  return tokens;
}

TensorView get(const ActivationCache& cache, const std::string& name, std::optional<int> layer = std::nullopt,
               const std::string& type = "") {
  auto v = cache.get(name, layer, type);
  EXPECT_TRUE(v.ok()) << name << ": " << (v.ok() ? "" : v.error().message);
  return v.ok() ? *v : TensorView{};
}

double max_abs_diff(const TensorView& a, const TensorView& b) {
  EXPECT_EQ(a.shape, b.shape);
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(a.data[i]) - b.data[i]));
  return m;
}

RunOutput run_cached(const std::vector<ForwardHook>& hooks, bool attn_result = false) {
  RunOptions options;
  options.hooks = hooks;
  options.cache_filter = [](const std::string&) { return true; };
  options.use_attn_result = attn_result;
  auto out = tiny_a().run(prompt_tokens(), options);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return std::move(out).value();
}

TEST(Cache, HasEveryDefaultHookInFiringOrder) {
  const RunOutput out = run_cached({});
  const int L = tiny_a().cfg().n_layers;
  EXPECT_EQ(out.cache.size(), static_cast<size_t>(4 + 17 * L));  // 208 for GPT-2 small
  EXPECT_EQ(out.cache.entries().front().name, "hook_embed");
  EXPECT_EQ(out.cache.entries()[2].name, "blocks.0.hook_resid_pre");
  EXPECT_EQ(out.cache.entries().back().name, "ln_final.hook_normalized");
  EXPECT_FALSE(out.cache.get("result", 0).ok()) << "hook_result is optional";
  EXPECT_EQ(run_cached({}, true).cache.size(), static_cast<size_t>(4 + 18 * L));  // 220 for GPT-2 small
}

TEST(Cache, TransformerLensKeyRules) {
  const RunOutput out = run_cached({});
  const ActivationCache& c = out.cache;
  const int last = tiny_a().cfg().n_layers - 1;
  EXPECT_EQ(get(c, "resid_post", -1).data, get(c, "blocks." + std::to_string(last) + ".hook_resid_post").data);
  EXPECT_EQ(get(c, "pattern", 0).data, get(c, "blocks.0.attn.hook_pattern").data);
  EXPECT_EQ(get(c, "pattern", 0, "attn").data, get(c, "blocks.0.attn.hook_pattern").data);
  EXPECT_EQ(get(c, "attn", 1).data, get(c, "blocks.1.attn.hook_pattern").data);
  EXPECT_EQ(get(c, "k1").data, get(c, "blocks.1.attn.hook_k").data);
  EXPECT_EQ(get(c, "scale0ln1").data, get(c, "blocks.0.ln1.hook_scale").data);
  EXPECT_EQ(get(c, "pre", 1).data, get(c, "blocks.1.mlp.hook_pre").data);
  EXPECT_EQ(get(c, "mlp_post", 0).data, get(c, "blocks.0.mlp.hook_post").data);
  EXPECT_EQ(get(c, "normalized", 0, "ln2").data, get(c, "blocks.0.ln2.hook_normalized").data);
  EXPECT_EQ(get(c, "scale").data, get(c, "ln_final.hook_scale").data);
  EXPECT_EQ(get(c, "embed").data, get(c, "hook_embed").data);
  EXPECT_FALSE(c.get("scale", 0).ok()) << "scale with a layer needs ln1/ln2";
  EXPECT_FALSE(c.get("resid_pre", 2).ok()) << "layer out of range";
  EXPECT_FALSE(c.get("resid_pre", -3).ok()) << "negative layer out of range";
  EXPECT_FALSE(c.get("blocks.0.attn.hook_nothing").ok());
  EXPECT_FALSE(c.get("resid_pre").ok()) << "block hook without a layer";
}

TEST(Cache, NamesFilterCachesOnlyWhatIsAsked) {
  auto out = tiny_a().run_with_cache(prompt_tokens(), [](const std::string& n) { return n.ends_with("hook_pattern"); });
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->cache.size(), static_cast<size_t>(tiny_a().cfg().n_layers));
  EXPECT_FALSE(out->cache.get("resid_pre", 0).ok());
  // Caching changes nothing about the result.
  auto plain = tiny_a().run(prompt_tokens(), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(0, std::memcmp(plain->logits.data(), out->logits.data(), sizeof(float) * out->logits.numel()));
}

TEST(Cache, ShapesAndResidualIdentities) {
  const RunOutput out = run_cached({}, true);
  const ActivationCache& c = out.cache;
  const ModelConfig& cfg = tiny_a().cfg();
  const int64_t P = static_cast<int64_t>(prompt_tokens().size());
  EXPECT_EQ(get(c, "scale", 0, "ln1").shape, (Shape{1, P, 1}));
  EXPECT_EQ(get(c, "q", 0).shape, (Shape{1, P, cfg.n_heads, cfg.d_head}));
  EXPECT_EQ(get(c, "attn_scores", 0).shape, (Shape{1, cfg.n_heads, P, P}));
  EXPECT_EQ(get(c, "result", 0).shape, (Shape{1, P, cfg.n_heads, cfg.d_model}));
  for (int l = 0; l < cfg.n_layers; ++l) {
    const TensorView scores = get(c, "attn_scores", l), pattern = get(c, "pattern", l);
    for (int64_t h = 0; h < cfg.n_heads; ++h) {
      for (int64_t i = 0; i < P; ++i) {
        double row = 0.0;
        for (int64_t j = 0; j < P; ++j) {
          const float s = scores.data[(h * P + i) * P + j];
          EXPECT_EQ(j > i, std::isinf(s) && s < 0) << "causal mask at " << l << "," << h << "," << i << "," << j;
          row += pattern.data[(h * P + i) * P + j];
        }
        EXPECT_NEAR(row, 1.0, 1e-5);
      }
    }
    const TensorView pre = get(c, "resid_pre", l), attn = get(c, "attn_out", l), mid = get(c, "resid_mid", l);
    const TensorView mlp = get(c, "mlp_out", l), post = get(c, "resid_post", l), result = get(c, "result", l);
    for (int64_t i = 0; i < pre.numel(); ++i) {
      EXPECT_FLOAT_EQ(pre.data[i] + attn.data[i], mid.data[i]);
      EXPECT_FLOAT_EQ(mid.data[i] + mlp.data[i], post.data[i]);
    }
    // attn_out = sum over heads of hook_result + b_O
    const float* b_o = tiny_a().weights().layers[static_cast<size_t>(l)].b_o;
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t d = 0; d < cfg.d_model; ++d) {
        double sum = b_o[d];
        for (int64_t h = 0; h < cfg.n_heads; ++h) sum += result.data[(p * cfg.n_heads + h) * cfg.d_model + d];
        EXPECT_NEAR(sum, attn.data[p * cfg.d_model + d], 1e-5);
      }
    }
    if (l + 1 < cfg.n_layers) { EXPECT_EQ(max_abs_diff(post, get(c, "resid_pre", l + 1)), 0.0); }
  }
}

ForwardHook hook(const std::string& name, HookAction action) {
  ForwardHook h;
  h.name = name;
  h.action = std::move(action);
  return h;
}

TEST(Hooks, ZeroAblatingAHeadRemovesExactlyItsResult) {
  const RunOutput base = run_cached({}, true);
  HookAction zero;
  zero.kind = HookActionKind::kZero;
  zero.heads = {2};
  const RunOutput ablated = run_cached({hook("blocks.1.attn.hook_z", zero)}, true);
  const TensorView z = get(ablated.cache, "z", 1);
  const ModelConfig& cfg = tiny_a().cfg();
  for (int64_t p = 0; p < z.shape[1]; ++p) {
    for (int64_t h = 0; h < cfg.n_heads; ++h) {
      for (int64_t d = 0; d < cfg.d_head; ++d) {
        const int64_t i = (p * cfg.n_heads + h) * cfg.d_head + d;
        EXPECT_EQ(z.data[i] == 0.0f, h == 2 || get(base.cache, "z", 1).data[i] == 0.0f);
      }
    }
  }
  const TensorView attn = get(ablated.cache, "attn_out", 1), attn0 = get(base.cache, "attn_out", 1);
  const TensorView result0 = get(base.cache, "result", 1);
  for (int64_t p = 0; p < attn.shape[1]; ++p) {
    for (int64_t d = 0; d < cfg.d_model; ++d) {
      const double expected = attn0.data[p * cfg.d_model + d] - result0.data[(p * cfg.n_heads + 2) * cfg.d_model + d];
      EXPECT_NEAR(attn.data[p * cfg.d_model + d], expected, 1e-5);
    }
  }
  // Layer 0 is untouched; the loss changes.
  EXPECT_EQ(max_abs_diff(get(ablated.cache, "resid_post", 0), get(base.cache, "resid_post", 0)), 0.0);
  EXPECT_NE(mean_loss(ablated.logits, prompt_tokens()), mean_loss(base.logits, prompt_tokens()));
}

TEST(Hooks, PatchingEveryPositionFromAnotherRunReproducesIt) {
  const std::vector<int32_t> other = tiny_a().to_tokens("When Mary and John went to the store, Mary gave");
  ASSERT_EQ(other.size(), prompt_tokens().size());
  auto source = tiny_a().run_with_cache(other);
  ASSERT_TRUE(source.ok());
  HookAction replace;
  replace.kind = HookActionKind::kReplace;
  replace.source = *source->cache.view({HookPoint::kResidPre, 0});
  replace.source_owner = source->cache.arena_owner();
  const RunOutput patched = run_cached({hook("blocks.0.hook_resid_pre", replace)});
  const Comparison cmp = compare_tensors(patched.logits.data(), source->logits.data(), patched.logits.numel(), 1e-6);
  EXPECT_TRUE(cmp.ok) << cmp.detail;
}

TEST(Hooks, PositionSelectorPatchesOnlyThatPosition) {
  const std::vector<int32_t> other = tiny_a().to_tokens("When Mary and John went to the store, Mary gave");
  auto source = tiny_a().run_with_cache(other);
  ASSERT_TRUE(source.ok());
  HookAction replace;
  replace.kind = HookActionKind::kReplace;
  replace.source = *source->cache.view({HookPoint::kResidPre, 1});
  replace.positions = {-2};
  const RunOutput base = run_cached({});
  const RunOutput patched = run_cached({hook("blocks.1.hook_resid_pre", replace)});
  const int64_t P = static_cast<int64_t>(prompt_tokens().size()), D = tiny_a().cfg().d_model;
  const TensorView after = get(patched.cache, "resid_pre", 1), before = get(base.cache, "resid_pre", 1);
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t d = 0; d < D; ++d) {
      const float expected = p == P - 2 ? replace.source.data[p * D + d] : before.data[p * D + d];
      EXPECT_EQ(after.data[p * D + d], expected);
    }
  }
  // Causality: positions before the patched one are unchanged downstream.
  const TensorView post = get(patched.cache, "resid_post", 1), post0 = get(base.cache, "resid_post", 1);
  for (int64_t i = 0; i < (P - 2) * D; ++i) EXPECT_EQ(post.data[i], post0.data[i]);
}

TEST(Hooks, CallbackOnQueriesChangesTheScores) {
  HookAction scale_q;
  scale_q.kind = HookActionKind::kCallback;
  scale_q.callback = [](TensorView& q, const HookContext& ctx) -> Status {
    EXPECT_EQ(ctx.name, "blocks.0.attn.hook_q");
    for (int64_t i = 0; i < q.numel(); ++i) q.data[i] *= 2.0f;
    return {};
  };
  const RunOutput base = run_cached({});
  const RunOutput hooked = run_cached({hook("blocks.0.attn.hook_q", scale_q)});
  const TensorView s = get(hooked.cache, "attn_scores", 0), s0 = get(base.cache, "attn_scores", 0);
  for (int64_t i = 0; i < s.numel(); ++i) {
    if (std::isfinite(s0.data[i])) {
      EXPECT_NEAR(s.data[i], 2.0f * s0.data[i], 1e-5 * std::max(1.0f, std::fabs(s0.data[i])));
    }
  }
}

TEST(Hooks, EditedScaleRenormalizes) {
  HookAction double_scale;
  double_scale.kind = HookActionKind::kCallback;
  double_scale.callback = [](TensorView& s, const HookContext&) -> Status {
    for (int64_t i = 0; i < s.numel(); ++i) s.data[i] *= 2.0f;
    return {};
  };
  const RunOutput base = run_cached({});
  const RunOutput hooked = run_cached({hook("blocks.0.ln2.hook_scale", double_scale)});
  const TensorView n = get(hooked.cache, "normalized", 0, "ln2"), n0 = get(base.cache, "normalized", 0, "ln2");
  for (int64_t i = 0; i < n.numel(); ++i) EXPECT_NEAR(n.data[i], 0.5f * n0.data[i], 1e-6);
}

TEST(Hooks, MeanAblationAndAdd) {
  HookAction mean;
  mean.kind = HookActionKind::kMeanAblate;
  const RunOutput base = run_cached({});
  const RunOutput ablated = run_cached({hook("blocks.0.hook_mlp_out", mean)});
  const TensorView m = get(ablated.cache, "mlp_out", 0), m0 = get(base.cache, "mlp_out", 0);
  const int64_t P = m.shape[1], D = m.shape[2];
  for (int64_t d = 0; d < D; ++d) {
    double avg = 0.0;
    for (int64_t p = 0; p < P; ++p) avg += m0.data[p * D + d];
    avg /= static_cast<double>(P);
    for (int64_t p = 0; p < P; ++p) EXPECT_NEAR(m.data[p * D + d], avg, 1e-5);
  }
  std::vector<float> direction(static_cast<size_t>(D), 0.0f);
  direction[3] = 1.5f;
  HookAction add;
  add.kind = HookActionKind::kAdd;
  add.source = TensorView{direction.data(), {D}};
  add.positions = {0, 1};
  ForwardHook steer = hook("resid_post", add);
  steer.layer = -1;
  const RunOutput steered = run_cached({steer});
  const TensorView r = get(steered.cache, "resid_post", -1), r0 = get(base.cache, "resid_post", -1);
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t d = 0; d < D; ++d) {
      EXPECT_FLOAT_EQ(r.data[p * D + d], r0.data[p * D + d] + (p < 2 && d == 3 ? 1.5f : 0.0f));
    }
  }
}

TEST(Hooks, PredicateHooksAndScopedToOneRun) {
  int calls = 0;
  HookAction count;
  count.kind = HookActionKind::kRead;
  count.callback = [&calls](TensorView& a, const HookContext&) -> Status {
    a.data[0] = 1e9f;  // a read hook's edits must not leak into the run
    ++calls;
    return {};
  };
  ForwardHook every_pattern;
  every_pattern.predicate = [](const std::string& n) { return n.ends_with("hook_pattern"); };
  every_pattern.action = count;
  const RunOutput hooked = run_cached({every_pattern});
  EXPECT_EQ(calls, tiny_a().cfg().n_layers);
  const RunOutput base = run_cached({});
  EXPECT_EQ(0, std::memcmp(hooked.logits.data(), base.logits.data(), sizeof(float) * base.logits.numel()));
  EXPECT_EQ(calls, tiny_a().cfg().n_layers) << "hooks must not persist after their run";
}

// A cache streamed to a sink (RunOptions::cache_sink) holds, entry for entry and bit for bit,
// what the held cache holds: the plan's names and shapes, and each value after every hook on
// it, including hooks that edit what later layers read; and the logits equal a run without a
// cache. (tests/node/wasm-module.test.mjs checks the same in the wasm build, whose LayerNorm
// would differ in the last bits if watching hook_scale recomputed it.)
void expect_streamed_equals_held(const std::vector<ForwardHook>& hooks, bool attn_result) {
  const RunOutput held = run_cached(hooks, attn_result);
  std::vector<float> arena;
  std::vector<ActivationCache::Entry> plan_entries;
  size_t writes = 0;
  RunOptions options;
  options.hooks = hooks;
  options.use_attn_result = attn_result;
  options.cache_filter = [](const std::string& name) { return !name.ends_with("hook_embed"); };
  options.cache_sink =
      CacheSink{[&](const ActivationCache& plan) -> Status {
                  arena.assign(plan.planned_floats(), std::numeric_limits<float>::quiet_NaN());
                  plan_entries = plan.entries();
                  return {};
                },
                [&](const ActivationCache::Entry& entry, const float* data) -> Status {
                  std::memcpy(arena.data() + entry.offset, data, sizeof(float) * shape_numel(entry.shape));
                  ++writes;
                  return {};
                }};
  auto streamed = tiny_a().run(prompt_tokens(), options);
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  EXPECT_TRUE(streamed->cache.empty()) << "a streamed cache is not also held";
  EXPECT_EQ(0, std::memcmp(held.logits.data(), streamed->logits.data(), sizeof(float) * held.logits.numel()));
  RunOptions plain_options;
  plain_options.hooks = hooks;
  plain_options.use_attn_result = attn_result;
  auto plain = tiny_a().run(prompt_tokens(), plain_options);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(0, std::memcmp(plain->logits.data(), streamed->logits.data(), sizeof(float) * plain->logits.numel()));
  ASSERT_EQ(plan_entries.size() + 1, held.cache.size());  // all but hook_embed
  EXPECT_EQ(writes, plan_entries.size()) << "each entry written once";
  for (const auto& entry : plan_entries) {
    const TensorView want = get(held.cache, entry.name);
    ASSERT_EQ(want.shape, entry.shape) << entry.name;
    EXPECT_EQ(0, std::memcmp(want.data, arena.data() + entry.offset, sizeof(float) * want.numel())) << entry.name;
  }
}

TEST(Cache, StreamedToASinkEqualsTheHeldCache) {
  HookAction zero_head;
  zero_head.kind = HookActionKind::kZero;
  zero_head.heads = {1};
  ForwardHook z{"z", 0, "", {}, zero_head};
  HookAction scale;
  scale.callback = [](TensorView& a, const HookContext&) -> Status {
    for (int64_t i = 0; i < a.numel(); ++i) a.data[i] *= 0.5f;
    return {};
  };
  ForwardHook resid{"resid_mid", 0, "", {}, scale};
  ForwardHook pattern{"pattern", -1, "", {}, scale};
  expect_streamed_equals_held({}, false);
  expect_streamed_equals_held({z, resid, pattern}, false);
  expect_streamed_equals_held({z, resid}, true);
}

TEST(Cache, ASinkErrorStopsTheRun) {
  RunOptions options;
  options.cache_filter = [](const std::string&) { return true; };
  int writes = 0;
  options.cache_sink = CacheSink{[](const ActivationCache&) -> Status { return {}; },
                                 [&](const ActivationCache::Entry&, const float*) -> Status {
                                   if (++writes == 3) return make_error(ErrorCode::kInvalidArgument, "sink full");
                                   return {};
                                 }};
  auto out = tiny_a().run(prompt_tokens(), options);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("sink full"), std::string::npos) << out.error().message;
  EXPECT_EQ(writes, 3);
}

TEST(Hooks, ErrorsAreReportedNotCrashed) {
  HookAction fail;
  fail.kind = HookActionKind::kCallback;
  fail.callback = [](TensorView&, const HookContext&) -> Status {
    return make_error(ErrorCode::kInvalidArgument, "stop here");
  };
  auto r1 = tiny_a().run_with_hooks(prompt_tokens(), {hook("hook_embed", fail)});
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().message, "stop here");

  auto r2 = tiny_a().run_with_hooks(prompt_tokens(), {hook("blocks.7.hook_resid_pre", fail)});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, ErrorCode::kInvalidArgument);

  HookAction zero;
  zero.kind = HookActionKind::kZero;
  zero.positions = {99};
  auto r3 = tiny_a().run_with_hooks(prompt_tokens(), {hook("blocks.0.hook_resid_pre", zero)});
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("position 99"), std::string::npos) << r3.error().message;

  auto r4 = tiny_a().run_with_hooks(prompt_tokens(), {hook("blocks.0.attn.hook_result", zero)});
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.error().message.find("use_attn_result"), std::string::npos) << r4.error().message;
}

TEST(Inputs, TokensAreValidated) {
  const HookedTransformer& m = tiny_a();
  EXPECT_EQ(m.run({}, {}).error().code, ErrorCode::kInvalidInput);
  std::vector<int32_t> too_long(static_cast<size_t>(m.cfg().n_ctx + 1), 13);
  auto r = m.run(too_long, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("n_ctx"), std::string::npos) << r.error().message;
  std::vector<int32_t> full(static_cast<size_t>(m.cfg().n_ctx), 13);
  EXPECT_TRUE(m.run(full, {}).ok()) << "exactly n_ctx tokens is allowed";
  const std::vector<int32_t> bad_id = {50256, 60000};
  EXPECT_EQ(m.run(bad_id, {}).error().code, ErrorCode::kInvalidInput);
}

TEST(Tokens, TransformerLensHelpers) {
  const HookedTransformer& m = tiny_a();
  EXPECT_EQ(m.to_tokens("Hello world"), (std::vector<int32_t>{50256, 15496, 995}));
  EXPECT_EQ(m.to_tokens("Hello world", false), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(m.to_str_tokens("Hello world"), (std::vector<std::string>{"<|endoftext|>", "Hello", " world"}));
  EXPECT_EQ(m.to_string(std::vector<int32_t>{15496, 995}), "Hello world");
  EXPECT_EQ(*m.to_single_token(" Paris"), 6342);
  auto not_single = m.to_single_token(" Parisian");
  ASSERT_FALSE(not_single.ok());
  EXPECT_NE(not_single.error().message.find("not a single token"), std::string::npos);
  EXPECT_FALSE(m.to_single_token("").ok());
  const std::vector<int32_t> tokens = m.to_tokens("The cat sat on the mat. The cat");
  const int32_t cat = *m.to_single_token(" cat");
  EXPECT_EQ(*m.get_token_position(cat, tokens), 2);
  EXPECT_EQ(*m.get_token_position(cat, tokens, HookedTransformer::TokenSearch::kLast),
            static_cast<int>(tokens.size()) - 1);
  EXPECT_FALSE(m.get_token_position(*m.to_single_token(" dog"), tokens).ok());
}

TEST(Logits, LossIsMeanNegativeLogProbOfNextToken) {
  auto out = tiny_a().run(prompt_tokens(), {});
  ASSERT_TRUE(out.ok());
  const std::vector<double> per_token = loss_per_token(out->logits, prompt_tokens());
  ASSERT_EQ(per_token.size(), prompt_tokens().size() - 1);
  const int64_t V = tiny_a().cfg().d_vocab;
  double sum = 0.0;
  for (size_t i = 0; i < per_token.size(); ++i) {
    const std::vector<double> lp = log_softmax(out->logits.data() + static_cast<int64_t>(i) * V, V);
    EXPECT_NEAR(per_token[i], -lp[static_cast<size_t>(prompt_tokens()[i + 1])], 1e-9);
    sum += per_token[i];
  }
  EXPECT_NEAR(mean_loss(out->logits, prompt_tokens()), sum / static_cast<double>(per_token.size()), 1e-12);
  const auto top = top_k(out->logits.data(), V, 5);
  ASSERT_EQ(top.size(), 5u);
  for (size_t i = 1; i < top.size(); ++i) EXPECT_GE(top[i - 1].logit, top[i].logit);
  EXPECT_EQ(token_rank(out->logits.data(), V, top[0].token), 0);
}

}  // namespace
}  // namespace hooklab::testing
