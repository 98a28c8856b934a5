// Attribution patching (attribution.h): the cells of every sweep come from the same
// enumeration as the exact engine's (patch_cells), and each cell's estimate is a dot product
// of the source-minus-receiving slice with the receiving run's gradient over that slice.
// AtP*'s query/key cells recompute the head's softmax rows in double precision instead.
#include "hooklab/attribution.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "patching/patch_estimator.h"

namespace hooklab {
namespace {

// Log-sum-exp of scores[0..n): the receiving rows and every recomputed row go through this one
// formula, so a row recomputed from identical inputs has identical probabilities.
double log_sum_exp(const double* scores, int n) {
  double max = -INFINITY;
  for (int j = 0; j < n; ++j) max = std::max(max, scores[j]);
  double sum = 0.0;
  for (int j = 0; j < n; ++j) sum += std::exp(scores[j] - max);
  return max + std::log(sum);
}

double dot(const float* a, const float* b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace

PatchEstimator::PatchEstimator(const ModelConfig& cfg, std::shared_ptr<const BaselineRuns> runs)
    : cfg_(cfg),
      runs_(std::move(runs)),
      positions(runs_->positions),
      heads_(static_cast<size_t>(cfg.n_layers) * static_cast<size_t>(cfg.n_heads)) {}

// sum over [offset, offset + n) of (source - receiving) * gradient.
double PatchEstimator::delta_dot(HookPoint point, int layer, int64_t offset, int64_t n) const {
  const float* s = src(point, layer) + offset;
  const float* r = recv(point, layer) + offset;
  const float* g = grad(point, layer) + offset;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += (static_cast<double>(s[i]) - r[i]) * g[i];
  return sum;
}

double PatchEstimator::score(const float* q, const float* k, int layer, int head, int i, int j) const {
  const int64_t D = cfg().d_model, Dh = cfg().d_head;
  return dot(q + i * D + head * Dh, k + j * D + head * Dh, Dh) / cfg().attn_scale_for_layer(layer);
}

double PatchEstimator::atp(const PatchCell& c) const {
  const int64_t D = cfg().d_model, H = cfg().n_heads, Dh = cfg().d_head, P = positions;
  const HookPoint point = patched_hook(c.kind);
  switch (c.kind) {
    case CellKind::kResidPre:
    case CellKind::kResidMid:
    case CellKind::kAttnOut:
    case CellKind::kMlpOut: return delta_dot(point, c.layer, c.pos * D, D);
    case CellKind::kHeadZ:
    case CellKind::kHeadQ:
    case CellKind::kHeadK:
    case CellKind::kHeadV: {
      double sum = 0.0;
      const int first = c.pos < 0 ? 0 : c.pos, last = c.pos < 0 ? positions - 1 : c.pos;
      for (int p = first; p <= last; ++p) sum += delta_dot(point, c.layer, (p * H + c.head) * Dh, Dh);
      return sum;
    }
    case CellKind::kHeadPattern: {
      const int first = c.pos < 0 ? 0 : c.pos, last = c.pos < 0 ? positions - 1 : c.pos;
      return delta_dot(point, c.layer, (c.head * P + first) * P, (last - first + 1) * P);
    }
    case CellKind::kPatternEntry: return delta_dot(point, c.layer, (c.head * P + c.pos) * P + c.src, 1);
  }
  return 0.0;
}

const PatchEstimator::HeadRows& PatchEstimator::head_rows(int layer, int head) const {
  const int H = cfg().n_heads, P = positions;
  HeadRows& rows = heads_[static_cast<size_t>(layer) * H + head];
  if (!rows.lse.empty()) return rows;
  const float* q = recv(HookPoint::kQ, layer);
  const float* k = recv(HookPoint::kK, layer);
  const float* g = grad(HookPoint::kPattern, layer) + static_cast<int64_t>(head) * P * P;
  rows.lse.assign(static_cast<size_t>(P), 0.0);
  rows.pattern.assign(static_cast<size_t>(P) * P, 0.0);
  rows.weighted.assign(static_cast<size_t>(P), 0.0);
  std::vector<double> s(static_cast<size_t>(P));
  for (int i = 0; i < P; ++i) {
    for (int j = 0; j <= i; ++j) s[static_cast<size_t>(j)] = score(q, k, layer, head, i, j);
    const double lse = log_sum_exp(s.data(), i + 1);
    rows.lse[static_cast<size_t>(i)] = lse;
    for (int j = 0; j <= i; ++j) {
      const double p = std::exp(s[static_cast<size_t>(j)] - lse);
      rows.pattern[static_cast<size_t>(i) * P + j] = p;
      rows.weighted[static_cast<size_t>(i)] += p * g[static_cast<int64_t>(i) * P + j];
    }
  }
  return rows;
}

double PatchEstimator::row_change(const std::vector<double>& scores, int layer, int head, int i) const {
  const int P = positions;
  const HeadRows& rows = head_rows(layer, head);
  const float* g = grad(HookPoint::kPattern, layer) + (static_cast<int64_t>(head) * P + i) * P;
  const double lse = log_sum_exp(scores.data(), i + 1);
  double change = 0.0;
  for (int j = 0; j <= i; ++j) {
    const double p_new = std::exp(scores[static_cast<size_t>(j)] - lse);
    change += (p_new - rows.pattern[static_cast<size_t>(i) * P + j]) * g[j];
  }
  return change;
}

// A query cell changes whole rows of the pattern: recompute each row exactly.
double PatchEstimator::atp_star_query(const PatchCell& c) const {
  const float* q_src = src(HookPoint::kQ, c.layer);
  const float* q_recv = recv(HookPoint::kQ, c.layer);
  const float* k = recv(HookPoint::kK, c.layer);
  const int64_t D = cfg().d_model, Dh = cfg().d_head;
  const int first = c.pos < 0 ? 0 : c.pos, last = c.pos < 0 ? positions - 1 : c.pos;
  std::vector<double> scores(static_cast<size_t>(positions));
  double sum = 0.0;
  for (int i = first; i <= last; ++i) {
    const int64_t at = i * D + c.head * Dh;
    if (std::memcmp(q_src + at, q_recv + at, sizeof(float) * Dh) == 0) continue;  // nothing changes
    for (int j = 0; j <= i; ++j) scores[static_cast<size_t>(j)] = score(q_src, k, c.layer, c.head, i, j);
    sum += row_change(scores, c.layer, c.head, i);
  }
  return sum;
}

// A key cell at position p changes one score in every row i >= p: the softmax update has a
// closed form (the other entries scale by 1/c). All positions: recompute every row.
double PatchEstimator::atp_star_key(const PatchCell& c) const {
  const int P = positions;
  const float* k_src = src(HookPoint::kK, c.layer);
  const float* k_recv = recv(HookPoint::kK, c.layer);
  const float* q = recv(HookPoint::kQ, c.layer);
  const int64_t D = cfg().d_model, Dh = cfg().d_head;
  std::vector<double> scores(static_cast<size_t>(P));
  double sum = 0.0;
  if (c.pos < 0) {
    for (int i = 0; i < P; ++i) {
      for (int j = 0; j <= i; ++j) scores[static_cast<size_t>(j)] = score(q, k_src, c.layer, c.head, i, j);
      sum += row_change(scores, c.layer, c.head, i);
    }
    return sum;
  }
  const int p = c.pos;
  if (std::memcmp(k_src + p * D + c.head * Dh, k_recv + p * D + c.head * Dh, sizeof(float) * Dh) == 0) return 0.0;
  const HeadRows& rows = head_rows(c.layer, c.head);
  const float* g_head = grad(HookPoint::kPattern, c.layer) + static_cast<int64_t>(c.head) * P * P;
  for (int i = p; i < P; ++i) {
    const double* pattern = rows.pattern.data() + static_cast<size_t>(i) * P;
    const float* g = g_head + static_cast<int64_t>(i) * P;
    const double lse = rows.lse[static_cast<size_t>(i)], weighted = rows.weighted[static_cast<size_t>(i)];
    const double log_a = score(q, k_src, c.layer, c.head, i, p) - lse;  // log of the new unnormalised weight
    if (log_a > 700.0) {                                                // the new key takes the whole row
      sum += g[p] - weighted;
      continue;
    }
    double rest = 1.0 - pattern[p];
    if (pattern[p] > 0.5) {  // avoid cancelling in 1 - p when key p dominates the row
      rest = 0.0;
      for (int j = 0; j <= i; ++j) rest += j == p ? 0.0 : pattern[j];
    }
    const double a = std::exp(log_a), norm = rest + a;
    sum += (weighted - pattern[p] * g[p]) * (1.0 / norm - 1.0) + g[p] * (a / norm - pattern[p]);
  }
  return sum;
}

Result<PatchResult> PatchEstimator::estimate(const PatchItem& item) const {
  if (item.method == PatchMethod::kExact) {
    return make_error(ErrorCode::kInvalidArgument,
                      "an attribution session estimates sweeps (atp, atp-star); "
                      "exact sweeps run through patch()");
  }
  const BaselineRuns& r = *runs_;
  PatchResult result =
      result_skeleton(item, cfg(), positions, r.receiving_metric, r.clean_metric(), r.corrupted_metric());
  const bool star = item.method == PatchMethod::kAtpStar;
  visit_sweep_cells(item.sweep, cfg().n_layers, cfg().n_heads, positions, [&](const PatchCell& c) {
    double estimate = 0.0;
    if (star && c.kind == CellKind::kHeadQ) {
      estimate = atp_star_query(c);
    } else if (star && c.kind == CellKind::kHeadK) {
      estimate = atp_star_key(c);
    } else {
      estimate = atp(c);
    }
    result.values[c.out_index] += estimate;
  });
  result.cells_computed = static_cast<int64_t>(result.values.size());
  return result;
}

struct AttributionSession::State {
  std::unique_ptr<PatchEstimator> estimator;
};

AttributionSession::AttributionSession() : state_(std::make_unique<State>()) {}
AttributionSession::~AttributionSession() = default;

Result<std::unique_ptr<AttributionSession>> AttributionSession::start(const HookedTransformer& model,
                                                                      const PatchRequest& request) {
  HOOKLAB_RETURN_IF_ERROR(validate_patch_request(model, request));
  // The session answers any sweep later, so its runs keep what every sweep reads.
  std::vector<PatchItem> every_estimate;
  for (PatchSweep sweep : all_patch_sweeps()) every_estimate.push_back({sweep, PatchMethod::kAtp});
  HOOKLAB_ASSIGN_OR_RETURN(std::shared_ptr<const BaselineRuns> runs, run_baselines(model, request, every_estimate));
  std::unique_ptr<AttributionSession> session(new AttributionSession());
  session->state_->estimator = std::make_unique<PatchEstimator>(model.cfg(), std::move(runs));
  return session;
}

double AttributionSession::clean_metric() const { return state_->estimator->runs().clean_metric(); }
double AttributionSession::corrupted_metric() const { return state_->estimator->runs().corrupted_metric(); }

Result<PatchResult> AttributionSession::sweep(PatchSweep sweep, PatchMethod method, bool normalize) const {
  HOOKLAB_ASSIGN_OR_RETURN(PatchResult result, state_->estimator->estimate({sweep, method}));
  if (normalize) normalize_result(result);
  return result;
}

namespace {

// Average ranks (ties share the mean rank), for Spearman's correlation.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (size_t t = i; t <= j; ++t) r[order[t]] = 0.5 * static_cast<double>(i + j);
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : std::nan("");
}

std::vector<size_t> largest_magnitudes(const std::vector<double>& v, size_t k) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(v[a]) > std::fabs(v[b]); });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

SweepAgreement compare_sweeps(const std::vector<double>& estimate, const std::vector<double>& exact) {
  SweepAgreement out;
  out.cells = static_cast<int64_t>(std::min(estimate.size(), exact.size()));
  if (out.cells == 0 || estimate.size() != exact.size()) return out;
  out.pearson = pearson(estimate, exact);
  out.spearman = pearson(ranks(estimate), ranks(exact));
  const size_t k = std::min<size_t>(10, exact.size());
  const std::vector<size_t> a = largest_magnitudes(estimate, k), b = largest_magnitudes(exact, k);
  std::vector<size_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  out.top_k = static_cast<int>(k);
  out.top_k_overlap = static_cast<double>(common.size()) / static_cast<double>(k);
  return out;
}

}  // namespace hooklab
