// Names, shapes and validation shared by both patching engines, and the metrics.
#include <cmath>

#include "hooklab/logits.h"
#include "hooklab/patching.h"
#include "patching/sweep_layout.h"

namespace hooklab {
namespace {

struct SweepName {
  PatchSweep sweep;
  const char* name;
};

constexpr SweepName kSweepNames[] = {
    {PatchSweep::kResidPre, "resid_pre"},
    {PatchSweep::kResidMid, "resid_mid"},
    {PatchSweep::kAttnOut, "attn_out"},
    {PatchSweep::kMlpOut, "mlp_out"},
    {PatchSweep::kHeadOutByPos, "head_out_by_pos"},
    {PatchSweep::kHeadQByPos, "head_q_by_pos"},
    {PatchSweep::kHeadKByPos, "head_k_by_pos"},
    {PatchSweep::kHeadVByPos, "head_v_by_pos"},
    {PatchSweep::kHeadOutAllPos, "head_out"},
    {PatchSweep::kHeadQAllPos, "head_q"},
    {PatchSweep::kHeadKAllPos, "head_k"},
    {PatchSweep::kHeadVAllPos, "head_v"},
    {PatchSweep::kHeadPatternAllPos, "head_pattern"},
    {PatchSweep::kHeadPatternByPos, "head_pattern_by_pos"},
    {PatchSweep::kHeadPatternDestSrc, "head_pattern_dest_src"},
    {PatchSweep::kBlockEvery, "block_every"},
    {PatchSweep::kHeadAllPosEvery, "head_all_pos_every"},
    {PatchSweep::kHeadByPosEvery, "head_by_pos_every"},
};

}  // namespace

const char* patch_sweep_name(PatchSweep sweep) {
  for (const auto& s : kSweepNames) {
    if (s.sweep == sweep) return s.name;
  }
  return "?";
}

Result<PatchSweep> parse_patch_sweep(std::string_view name) {
  if (name == "head_out_all_pos") return PatchSweep::kHeadOutAllPos;  // TL's function-name spelling
  for (const auto& s : kSweepNames) {
    if (name == s.name) return s.sweep;
  }
  std::string known;
  for (const auto& s : kSweepNames) known += std::string(known.empty() ? "" : ", ") + s.name;
  return make_error(ErrorCode::kInvalidArgument, "unknown patching activation '" + std::string(name) + "' (one of: " + known + ")");
}

const char* metric_kind_name(MetricKind kind) {
  switch (kind) {
    case MetricKind::kLogitDiff: return "logit_diff";
    case MetricKind::kProb: return "prob";
    case MetricKind::kLogProb: return "logprob";
    case MetricKind::kRank: return "rank";
    case MetricKind::kCustom: return "custom";
  }
  return "?";
}

Result<MetricKind> parse_metric_kind(std::string_view name) {
  for (MetricKind k : {MetricKind::kLogitDiff, MetricKind::kProb, MetricKind::kLogProb, MetricKind::kRank}) {
    if (name == metric_kind_name(k)) return k;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown metric '" + std::string(name) + "' (one of: logit_diff, prob, logprob, rank)");
}

Status validate_patch_request(const HookedTransformer& model, const PatchRequest& r) {
  HOOKLAB_RETURN_IF_ERROR(model.validate_tokens(r.clean_tokens));
  HOOKLAB_RETURN_IF_ERROR(model.validate_tokens(r.corrupted_tokens));
  if (r.clean_tokens.size() != r.corrupted_tokens.size()) {
    return make_error(ErrorCode::kInvalidInput,
                      "clean and corrupted prompts must have the same number of tokens (clean: " +
                          std::to_string(r.clean_tokens.size()) + ", corrupted: " + std::to_string(r.corrupted_tokens.size()) +
                          ")");
  }
  const int p = static_cast<int>(r.clean_tokens.size());
  if (r.metric.position >= p || r.metric.position < -p) {
    return make_error(ErrorCode::kInvalidInput, "metric position " + std::to_string(r.metric.position) +
                                                    " is out of range for " + std::to_string(p) + " tokens");
  }
  if (r.metric.kind == MetricKind::kCustom) {
    if (!r.metric.custom) return make_error(ErrorCode::kInvalidArgument, "custom metric without a function");
    return {};
  }
  if (r.metric.answer_pairs.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the metric needs an answer token (and a wrong token for logit_diff)");
  }
  for (const auto& [answer, wrong] : r.metric.answer_pairs) {
    const bool needs_wrong = r.metric.kind == MetricKind::kLogitDiff;
    for (int32_t t : {answer, wrong}) {
      if (t == wrong && !needs_wrong) break;
      if (t < 0 || t >= model.cfg().d_vocab) {
        return make_error(ErrorCode::kInvalidInput, "answer token id " + std::to_string(t) + " is outside the vocabulary");
      }
    }
  }
  return {};
}

double evaluate_metric_row(const PatchMetric& metric, const float* row, int64_t vocab) {
  switch (metric.kind) {
    case MetricKind::kLogitDiff: {
      double sum = 0.0;
      for (const auto& [answer, wrong] : metric.answer_pairs) sum += static_cast<double>(row[answer]) - row[wrong];
      return sum / static_cast<double>(metric.answer_pairs.size());
    }
    case MetricKind::kProb:
      return std::exp(log_softmax(row, vocab)[static_cast<size_t>(metric.answer_pairs[0].first)]);
    case MetricKind::kLogProb:
      return log_softmax(row, vocab)[static_cast<size_t>(metric.answer_pairs[0].first)];
    case MetricKind::kRank:
      return static_cast<double>(token_rank(row, vocab, metric.answer_pairs[0].first));
    case MetricKind::kCustom:
      return metric.custom(row, vocab);
  }
  return 0.0;
}

double evaluate_metric(const PatchMetric& metric, const Tensor& logits) {
  const int64_t p = logits.shape()[1], vocab = logits.shape()[2];
  const int64_t pos = metric.position < 0 ? metric.position + p : metric.position;
  return evaluate_metric_row(metric, logits.data() + pos * vocab, vocab);
}

PatchRuns patch_runs(const PatchRequest& r) {
  const bool denoising = r.direction == PatchDirection::kDenoising;
  const std::vector<int32_t>& receiving = denoising ? r.corrupted_tokens : r.clean_tokens;
  const int positions = static_cast<int>(receiving.size());
  return {denoising, denoising ? r.clean_tokens : r.corrupted_tokens, receiving,
          r.metric.position < 0 ? r.metric.position + positions : r.metric.position};
}

SweepLayout sweep_layout(PatchSweep sweep, const ModelConfig& cfg, int64_t p) {
  const int64_t L = cfg.n_layers, H = cfg.n_heads;
  switch (sweep) {
    case PatchSweep::kResidPre:
    case PatchSweep::kResidMid:
    case PatchSweep::kAttnOut:
    case PatchSweep::kMlpOut:
      return {{L, p}, {"layer", "pos"}};
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadVByPos:
      return {{L, p, H}, {"layer", "pos", "head"}};
    case PatchSweep::kHeadOutAllPos:
    case PatchSweep::kHeadQAllPos:
    case PatchSweep::kHeadKAllPos:
    case PatchSweep::kHeadVAllPos:
    case PatchSweep::kHeadPatternAllPos:
      return {{L, H}, {"layer", "head"}};
    case PatchSweep::kHeadPatternByPos:
      return {{L, H, p}, {"layer", "head", "dest_pos"}};
    case PatchSweep::kHeadPatternDestSrc:
      return {{L, H, p, p}, {"layer", "head", "dest_pos", "src_pos"}};
    case PatchSweep::kBlockEvery:
      return {{3, L, p}, {"act", "layer", "pos"}};
    case PatchSweep::kHeadAllPosEvery:
      return {{5, L, H}, {"act", "layer", "head"}};
    case PatchSweep::kHeadByPosEvery:
      return {{5, L, p, H}, {"act", "layer", "pos", "head"}};
  }
  return {};
}

std::vector<PatchSweep> component_sweeps(PatchSweep sweep) {
  switch (sweep) {
    case PatchSweep::kBlockEvery:
      return {PatchSweep::kResidPre, PatchSweep::kAttnOut, PatchSweep::kMlpOut};
    case PatchSweep::kHeadAllPosEvery:
      return {PatchSweep::kHeadOutAllPos, PatchSweep::kHeadQAllPos, PatchSweep::kHeadKAllPos, PatchSweep::kHeadVAllPos,
              PatchSweep::kHeadPatternAllPos};
    case PatchSweep::kHeadByPosEvery:
      return {PatchSweep::kHeadOutByPos, PatchSweep::kHeadQByPos, PatchSweep::kHeadKByPos, PatchSweep::kHeadVByPos,
              PatchSweep::kHeadPatternByPos};
    default:
      return {sweep};
  }
}

}  // namespace hooklab
