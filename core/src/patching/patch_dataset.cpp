#include "hooklab/patch_dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "hooklab/attribution.h"
#include "hooklab/random.h"

namespace hooklab {
namespace {

Error line_error(size_t line, const std::string& what) {
  return make_error(ErrorCode::kInvalidInput, "dataset line " + std::to_string(line) + ": " + what);
}

// A string field of a JSON line, or an empty optional when it is absent.
Result<std::optional<std::string>> string_field(const nlohmann::json& obj, const char* key, size_t line) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::optional<std::string>{};
  if (!it->is_string()) return line_error(line, std::string("\"") + key + "\" must be a string");
  return std::optional<std::string>{it->get<std::string>()};
}

Result<PromptPair> parse_pair(const HookedTransformer& model, std::string_view text, size_t line, bool bos) {
  const nlohmann::json obj = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!obj.is_object()) return line_error(line, "not a JSON object");
  PromptPair pair;
  for (const char* key : {"clean", "corrupted"}) {
    HOOKLAB_ASSIGN_OR_RETURN(std::optional<std::string> value, string_field(obj, key, line));
    if (!value) return line_error(line, std::string("missing \"") + key + "\"");
    std::vector<int32_t> tokens = model.to_tokens(*value, bos);
    if (Status ok = model.validate_tokens(tokens); !ok.ok()) return line_error(line, ok.message());
    (std::string(key) == "clean" ? pair.clean_tokens : pair.corrupted_tokens) = std::move(tokens);
  }
  HOOKLAB_ASSIGN_OR_RETURN(std::optional<std::string> answer, string_field(obj, "answer", line));
  HOOKLAB_ASSIGN_OR_RETURN(std::optional<std::string> wrong, string_field(obj, "wrong", line));
  if (answer) {
    Result<int32_t> a = model.to_single_token(*answer);
    if (!a.ok()) return line_error(line, a.error().message);
    int32_t w = a.value();
    if (wrong) {
      Result<int32_t> parsed = model.to_single_token(*wrong);
      if (!parsed.ok()) return line_error(line, parsed.error().message);
      w = parsed.value();
    }
    pair.answer_pairs.push_back({a.value(), w});
  } else if (wrong) {
    return line_error(line, "\"wrong\" without \"answer\"");
  }
  return pair;
}

}  // namespace

Result<std::vector<PromptPair>> parse_prompt_pairs_jsonl(const HookedTransformer& model, std::string_view text,
                                                         bool prepend_bos) {
  if (text.size() > kMaxDatasetBytes) {
    return make_error(ErrorCode::kInvalidInput, "the dataset is " + std::to_string(text.size()) + " bytes; at most " +
                                                    std::to_string(kMaxDatasetBytes) + " are read");
  }
  std::vector<PromptPair> pairs;
  size_t line = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view row = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line;
    while (!row.empty() && (row.back() == '\r' || row.back() == ' ' || row.back() == '\t')) row.remove_suffix(1);
    if (row.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (pairs.size() == kMaxDatasetPairs) {
      return line_error(line, "more than " + std::to_string(kMaxDatasetPairs) + " pairs");
    }
    HOOKLAB_ASSIGN_OR_RETURN(PromptPair pair, parse_pair(model, row, line, prepend_bos));
    const size_t want = pairs.empty() ? pair.clean_tokens.size() : pairs.front().clean_tokens.size();
    if (pair.clean_tokens.size() != pair.corrupted_tokens.size() || pair.clean_tokens.size() != want) {
      return line_error(line, "every prompt must have the same number of tokens (clean " +
                                  std::to_string(pair.clean_tokens.size()) + ", corrupted " +
                                  std::to_string(pair.corrupted_tokens.size()) + ", earlier lines " +
                                  std::to_string(want) + ")");
    }
    pairs.push_back(std::move(pair));
  }
  if (pairs.empty()) return make_error(ErrorCode::kInvalidInput, "the dataset has no prompt pairs");
  return pairs;
}

void bootstrap_mean_interval(const std::vector<double>& rows, int64_t n, int64_t cells, int samples, uint64_t seed,
                             std::vector<double>& mean, std::vector<double>& low, std::vector<double>& high) {
  mean.assign(static_cast<size_t>(cells), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < cells; ++c) mean[static_cast<size_t>(c)] += rows[static_cast<size_t>(r * cells + c)];
  for (double& m : mean) m /= static_cast<double>(n);
  SplitMix64 rng(seed);
  std::vector<int64_t> picks(static_cast<size_t>(samples) * static_cast<size_t>(n));
  for (int64_t& p : picks) p = static_cast<int64_t>(rng.next() % static_cast<uint64_t>(n));
  low.assign(static_cast<size_t>(cells), 0.0);
  high.assign(static_cast<size_t>(cells), 0.0);
  std::vector<double> means(static_cast<size_t>(samples));
  for (int64_t c = 0; c < cells; ++c) {
    for (int b = 0; b < samples; ++b) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i)
        sum += rows[static_cast<size_t>(picks[static_cast<size_t>(b * n + i)] * cells + c)];
      means[static_cast<size_t>(b)] = sum / static_cast<double>(n);
    }
    std::sort(means.begin(), means.end());
    auto at = [&](double q) { return means[static_cast<size_t>(std::lround(q * (samples - 1)))]; };
    low[static_cast<size_t>(c)] = at(0.025);
    high[static_cast<size_t>(c)] = at(0.975);
  }
}

struct DatasetPatchJob::State {
  const HookedTransformer* model = nullptr;
  PatchRequest request;
  std::vector<PromptPair> pairs;
  int bootstrap_samples = 1000;
  uint64_t seed = 1;
  size_t next_pair = 0;               // the pair `current` runs
  std::unique_ptr<PatchJob> current;  // null between pairs
  std::vector<double> rows;           // every finished pair's values, one row each
  DatasetPatchResult out;

  Status start_pair();
  Status finish_pair();
  Status with_pair(Status status) const {
    if (status.ok()) return status;
    return make_error(status.error().code,
                      "dataset pair " + std::to_string(next_pair + 1) + ": " + status.error().message);
  }
};

DatasetPatchJob::DatasetPatchJob() : state_(std::make_unique<State>()) {}
DatasetPatchJob::~DatasetPatchJob() = default;

Result<std::unique_ptr<DatasetPatchJob>> DatasetPatchJob::start(const HookedTransformer& model, PatchRequest request,
                                                                std::vector<PromptPair> pairs, int bootstrap_samples,
                                                                uint64_t seed) {
  if (pairs.empty()) return make_error(ErrorCode::kInvalidInput, "the dataset has no prompt pairs");
  if (bootstrap_samples < 1 || bootstrap_samples > 100000) {
    return make_error(ErrorCode::kInvalidArgument, "bootstrap samples must be between 1 and 100000");
  }
  if (!request.items.empty()) return make_error(ErrorCode::kInvalidArgument, "a dataset sweep takes one sweep");
  std::unique_ptr<DatasetPatchJob> job(new DatasetPatchJob());
  State& s = *job->state_;
  s.model = &model;
  s.request = std::move(request);
  s.request.progress = nullptr;
  s.pairs = std::move(pairs);
  s.bootstrap_samples = bootstrap_samples;
  s.seed = seed;
  return job;
}

Status DatasetPatchJob::State::start_pair() {
  PatchRequest r = request;
  r.clean_tokens = pairs[next_pair].clean_tokens;
  r.corrupted_tokens = pairs[next_pair].corrupted_tokens;
  if (!pairs[next_pair].answer_pairs.empty()) r.metric.answer_pairs = pairs[next_pair].answer_pairs;
  auto job = PatchJob::start(*model, std::move(r));
  if (!job.ok()) return with_pair(job.error());
  current = std::move(job).value();
  return {};
}

Status DatasetPatchJob::State::finish_pair() {
  PatchResult result = current->take_result();
  current.reset();
  rows.insert(rows.end(), result.values.begin(), result.values.end());
  if (next_pair == 0) out.first = std::move(result);
  if (++next_pair < pairs.size()) return {};
  out.pairs = static_cast<int64_t>(pairs.size());
  bootstrap_mean_interval(rows, out.pairs, static_cast<int64_t>(out.first.values.size()), bootstrap_samples, seed,
                          out.mean, out.ci_low, out.ci_high);
  return {};
}

Result<bool> DatasetPatchJob::step() {
  State& s = *state_;
  if (s.next_pair == s.pairs.size()) return true;
  if (!s.current) HOOKLAB_RETURN_IF_ERROR(s.start_pair());
  Result<bool> done = s.current->step();
  if (!done.ok()) return s.with_pair(done.error());
  if (*done) HOOKLAB_RETURN_IF_ERROR(s.finish_pair());
  return s.next_pair == s.pairs.size();
}

double DatasetPatchJob::progress() const {
  const State& s = *state_;
  const double within = s.current ? s.current->progress() : 0.0;
  return std::min(1.0, (static_cast<double>(s.next_pair) + within) / static_cast<double>(s.pairs.size()));
}

DatasetPatchResult DatasetPatchJob::take_result() { return std::move(state_->out); }

Result<DatasetPatchResult> patch_dataset(const HookedTransformer& model, const PatchRequest& request,
                                         const std::vector<PromptPair>& pairs, int bootstrap_samples, uint64_t seed) {
  HOOKLAB_ASSIGN_OR_RETURN(std::unique_ptr<DatasetPatchJob> job,
                           DatasetPatchJob::start(model, request, pairs, bootstrap_samples, seed));
  for (;;) {
    HOOKLAB_ASSIGN_OR_RETURN(bool done, job->step());
    if (request.progress && !request.progress(job->progress())) {
      return make_error(ErrorCode::kCancelled, "the dataset sweep was cancelled");
    }
    if (done) return job->take_result();
  }
}

}  // namespace hooklab
