// The metrics of patching and gradients: evaluation and d metric / d logits.
#include "hooklab/metrics.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "hooklab/logits.h"

namespace hooklab {
namespace {

constexpr MetricInfo kMetricTable[] = {
#define HOOKLAB_METRIC(id, name, one_position, differentiable, answers, description) \
  {MetricKind::id, name, one_position, differentiable, answers, description},
#include "hooklab/patching.def"
#undef HOOKLAB_METRIC
};

const MetricInfo* find_info(MetricKind kind) {
  for (const MetricInfo& info : kMetricTable) {
    if (info.kind == kind) return &info;
  }
  return nullptr;
}

Status validate_answers(const Metric& m, const ModelConfig& cfg, int answers) {
  if (answers == 0) return {};
  if (m.answer_pairs.empty()) {
    return make_error(ErrorCode::kInvalidArgument, std::string("the metric '") + metric_kind_name(m.kind) +
                                                       "' needs an answer token" +
                                                       (answers == 2 ? " and a wrong token" : ""));
  }
  for (const auto& [answer, wrong] : m.answer_pairs) {
    for (int32_t t : {answer, wrong}) {
      if (t < 0 || t >= cfg.d_vocab) {
        return make_error(ErrorCode::kInvalidInput,
                          "answer token id " + std::to_string(t) + " is outside the vocabulary");
      }
      if (answers == 1) break;
    }
  }
  return {};
}

// Softmax of one row in double.
std::vector<double> softmax_row(const float* row, int64_t vocab) {
  std::vector<double> p = log_softmax(row, vocab);
  for (double& v : p) v = std::exp(v);
  return p;
}

}  // namespace

std::span<const MetricInfo> metric_table() { return kMetricTable; }

const char* metric_kind_name(MetricKind kind) {
  const MetricInfo* info = find_info(kind);
  return info != nullptr ? info->name : "custom";
}

Result<MetricKind> parse_metric_kind(std::string_view name) {
  std::string known;
  for (const MetricInfo& info : kMetricTable) {
    if (name == info.name) return info.kind;
    known += std::string(known.empty() ? "" : ", ") + info.name;
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown metric '" + std::string(name) + "' (one of: " + known + ")");
}

bool metric_reads_one_position(const Metric& m, int64_t vocab) {
  if (m.kind == MetricKind::kCustom) return true;
  if (m.kind == MetricKind::kLinear) return static_cast<int64_t>(m.linear_weights.size()) == vocab;
  const MetricInfo* info = find_info(m.kind);
  return info != nullptr && info->one_position;
}

int metric_position(const Metric& m, int positions) { return m.position < 0 ? m.position + positions : m.position; }

Status validate_metric(const Metric& m, const ModelConfig& cfg, int positions) {
  if (m.position >= positions || m.position < -positions) {
    return make_error(ErrorCode::kInvalidInput, "metric position " + std::to_string(m.position) +
                                                    " is out of range for " + std::to_string(positions) + " tokens");
  }
  if (m.kind == MetricKind::kCustom) {
    if (!m.custom) return make_error(ErrorCode::kInvalidArgument, "custom metric without a function");
    return {};
  }
  const MetricInfo* info = find_info(m.kind);
  if (info == nullptr) return make_error(ErrorCode::kInvalidArgument, "unknown metric kind");
  HOOKLAB_RETURN_IF_ERROR(validate_answers(m, cfg, info->answers));
  if (m.kind == MetricKind::kLinear) {
    const size_t v = static_cast<size_t>(cfg.d_vocab);
    if (m.linear_weights.size() != v && m.linear_weights.size() != v * static_cast<size_t>(positions)) {
      return make_error(ErrorCode::kInvalidInput,
                        "the linear metric's weights have " + std::to_string(m.linear_weights.size()) +
                            " values; expected d_vocab = " + std::to_string(v) +
                            " or positions x d_vocab = " + std::to_string(v * static_cast<size_t>(positions)));
    }
    for (float w : m.linear_weights) {
      if (!std::isfinite(w)) return make_error(ErrorCode::kInvalidInput, "the linear metric's weights must be finite");
    }
  }
  if (m.kind == MetricKind::kLoss && positions < 2) {
    return make_error(ErrorCode::kInvalidInput, "the loss needs at least 2 tokens (it predicts each next token)");
  }
  if (m.kind == MetricKind::kTokenLoss && metric_position(m, positions) == positions - 1) {
    return make_error(ErrorCode::kInvalidInput,
                      "token_loss at the last position has no next token to predict; choose an earlier position");
  }
  return {};
}

double evaluate_metric_row(const Metric& metric, const float* row, int64_t vocab) {
  switch (metric.kind) {
    case MetricKind::kLogitDiff: {
      double sum = 0.0;
      for (const auto& [answer, wrong] : metric.answer_pairs) sum += static_cast<double>(row[answer]) - row[wrong];
      return sum / static_cast<double>(metric.answer_pairs.size());
    }
    case MetricKind::kProb: return std::exp(log_softmax(row, vocab)[static_cast<size_t>(metric.answer_pairs[0].first)]);
    case MetricKind::kLogProb: return log_softmax(row, vocab)[static_cast<size_t>(metric.answer_pairs[0].first)];
    case MetricKind::kRank: return static_cast<double>(token_rank(row, vocab, metric.answer_pairs[0].first));
    case MetricKind::kLinear: {
      double sum = 0.0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += static_cast<double>(metric.linear_weights[static_cast<size_t>(v)]) * row[v];
      return sum;
    }
    case MetricKind::kCustom: return metric.custom(row, vocab);
    case MetricKind::kLoss:
    case MetricKind::kTokenLoss: break;  // need the tokens: evaluate_metric
  }
  return std::nan("");
}

double evaluate_metric(const Metric& metric, const Tensor& logits, std::span<const int32_t> tokens) {
  const int64_t p = logits.shape()[1], vocab = logits.shape()[2];
  const int pos = metric_position(metric, static_cast<int>(p));
  switch (metric.kind) {
    case MetricKind::kLoss: return mean_loss(logits, tokens);
    case MetricKind::kTokenLoss:
      return -log_softmax(logits.data() + pos * vocab,
                          vocab)[static_cast<size_t>(tokens[static_cast<size_t>(pos) + 1])];
    case MetricKind::kLinear:
      if (static_cast<int64_t>(metric.linear_weights.size()) != vocab) {
        double sum = 0.0;
        for (int64_t i = 0; i < p * vocab; ++i)
          sum += static_cast<double>(metric.linear_weights[static_cast<size_t>(i)]) * logits.data()[i];
        return sum;
      }
      break;
    default: break;
  }
  return evaluate_metric_row(metric, logits.data() + pos * vocab, vocab);
}

namespace {

// d/d logits of softmax(row)[t] (scaled by `coefficient`) or of log_softmax(row)[t], added to `grad`.
void add_softmax_gradient(float* grad, const float* row, int64_t vocab, int32_t t, bool log, double coefficient) {
  const std::vector<double> p = softmax_row(row, vocab);
  const double outer = log ? coefficient : coefficient * p[static_cast<size_t>(t)];
  for (int64_t v = 0; v < vocab; ++v) {
    grad[v] += static_cast<float>(outer * ((v == t ? 1.0 : 0.0) - p[static_cast<size_t>(v)]));
  }
}

}  // namespace

Result<MetricGradient> metric_gradient(const Metric& metric, const Tensor& logits, std::span<const int32_t> tokens) {
  const int64_t P = logits.shape()[1], V = logits.shape()[2];
  if (metric.kind == MetricKind::kCustom || !find_info(metric.kind)->differentiable) {
    return make_error(ErrorCode::kInvalidArgument, std::string("the metric '") + metric_kind_name(metric.kind) +
                                                       "' has no gradient (it is piecewise constant or opaque)");
  }
  MetricGradient g;
  g.value = evaluate_metric(metric, logits, tokens);
  const int pos = metric_position(metric, static_cast<int>(P));
  auto add_row = [&](int position) {
    g.positions.push_back(position);
    g.rows.resize(g.rows.size() + static_cast<size_t>(V), 0.0f);
    return g.rows.data() + g.rows.size() - static_cast<size_t>(V);
  };
  const float* row = logits.data() + pos * V;
  switch (metric.kind) {
    case MetricKind::kLogitDiff: {
      float* grad = add_row(pos);
      const float w = 1.0f / static_cast<float>(metric.answer_pairs.size());
      for (const auto& [answer, wrong] : metric.answer_pairs) {
        grad[answer] += w;
        grad[wrong] -= w;
      }
      break;
    }
    case MetricKind::kProb:
    case MetricKind::kLogProb:
      add_softmax_gradient(add_row(pos), row, V, metric.answer_pairs[0].first, metric.kind == MetricKind::kLogProb,
                           1.0);
      break;
    case MetricKind::kLinear:
      if (static_cast<int64_t>(metric.linear_weights.size()) == V) {
        std::copy(metric.linear_weights.begin(), metric.linear_weights.end(), add_row(pos));
      } else {
        for (int p = 0; p < P; ++p) { std::copy_n(metric.linear_weights.begin() + p * V, V, add_row(p)); }
      }
      break;
    case MetricKind::kTokenLoss:
      // -log_softmax(row)[t]
      add_softmax_gradient(add_row(pos), row, V, tokens[static_cast<size_t>(pos) + 1], true, -1.0);
      break;
    case MetricKind::kLoss:
      for (int p = 0; p + 1 < P; ++p) {
        add_softmax_gradient(add_row(p), logits.data() + p * V, V, tokens[static_cast<size_t>(p) + 1], true,
                             -1.0 / static_cast<double>(P - 1));
      }
      break;
    default: break;
  }
  return g;
}

}  // namespace hooklab
