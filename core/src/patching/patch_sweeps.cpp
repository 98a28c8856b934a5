// Names (from patching.def), shapes and request validation shared by every patching engine.

#include <string>

#include "hooklab/path_patching.h"
#include "hooklab/patching.h"
#include "patching/sweep_layout.h"

namespace hooklab {
namespace {

template <class Enum>
struct NamedValue {
  Enum value;
  const char* name;
};

constexpr NamedValue<PatchSweep> kSweepNames[] = {
#define HOOKLAB_PATCH_SWEEP(id, name, shape, axes, hook, tl_function) {PatchSweep::id, name},
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_SWEEP
};
constexpr NamedValue<PatchSweep> kSweepFunctions[] = {
#define HOOKLAB_PATCH_SWEEP(id, name, shape, axes, hook, tl_function) {PatchSweep::id, tl_function},
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_SWEEP
};
constexpr NamedValue<PatchDirection> kDirectionNames[] = {
#define HOOKLAB_PATCH_DIRECTION(id, name, description) {PatchDirection::id, name},
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_DIRECTION
};
constexpr NamedValue<PathReceiverInput> kReceiverInputNames[] = {
#define HOOKLAB_PATH_RECEIVER_INPUT(id, name, hook, description) {PathReceiverInput::id, name},
#include "hooklab/patching.def"
#undef HOOKLAB_PATH_RECEIVER_INPUT
};
constexpr NamedValue<PatchMethod> kMethodNames[] = {
#define HOOKLAB_PATCH_METHOD(id, name, description) {PatchMethod::id, name},
#include "hooklab/patching.def"
#undef HOOKLAB_PATCH_METHOD
};

template <class Enum, size_t N>
const char* name_of(const NamedValue<Enum> (&table)[N], Enum value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// A name from the table, or an error that lists every name.
template <class Enum, size_t N>
Result<Enum> parse_named(const NamedValue<Enum> (&table)[N], std::string_view name, const char* what) {
  std::string known;
  for (const auto& entry : table) {
    if (name == entry.name) return entry.value;
    known += std::string(known.empty() ? "" : ", ") + entry.name;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown " + std::string(what) + " '" + std::string(name) + "' (one of: " + known + ")");
}

}  // namespace

const char* patch_sweep_name(PatchSweep sweep) { return name_of(kSweepNames, sweep); }
const char* patch_sweep_tl_function(PatchSweep sweep) { return name_of(kSweepFunctions, sweep); }

Result<PatchSweep> parse_patch_sweep(std::string_view name) {
  if (name == "head_out_all_pos") return PatchSweep::kHeadOutAllPos;  // TL's function-name spelling
  return parse_named(kSweepNames, name, "patching activation");
}

std::vector<PatchSweep> all_patch_sweeps() {
  std::vector<PatchSweep> out;
  for (const auto& entry : kSweepNames) out.push_back(entry.value);
  return out;
}

const char* patch_direction_name(PatchDirection direction) { return name_of(kDirectionNames, direction); }
Result<PatchDirection> parse_patch_direction(std::string_view name) {
  return parse_named(kDirectionNames, name, "patching direction");
}
const char* patch_method_name(PatchMethod method) { return name_of(kMethodNames, method); }
Result<PatchMethod> parse_patch_method(std::string_view name) {
  return parse_named(kMethodNames, name, "patching method");
}

const char* path_receiver_input_name(PathReceiverInput input) { return name_of(kReceiverInputNames, input); }
Result<PathReceiverInput> parse_path_receiver_input(std::string_view name) {
  return parse_named(kReceiverInputNames, name, "receiver input");
}
std::vector<PathReceiverInput> all_path_receiver_inputs() {
  std::vector<PathReceiverInput> out;
  for (const auto& entry : kReceiverInputNames) out.push_back(entry.value);
  return out;
}

std::vector<PatchItem> request_items(const PatchRequest& request) {
  if (!request.items.empty()) return request.items;
  return {{request.sweep, request.method}};
}

// An attention-only model has no resid_mid or mlp_out to patch (TransformerLens would fail on
// the missing hook); refusing up front names the sweep instead.
Status require_sweep_in_model(const ModelConfig& cfg, PatchSweep sweep) {
  const bool needs_mlp =
      sweep == PatchSweep::kResidMid || sweep == PatchSweep::kMlpOut || sweep == PatchSweep::kBlockEvery;
  if (!cfg.attn_only || !needs_mlp) return {};
  return make_error(ErrorCode::kInvalidArgument, std::string("the sweep '") + patch_sweep_name(sweep) +
                                                     "' patches resid_mid or mlp_out, which an attention-only model "
                                                     "(attn_only) does not have");
}

Status validate_patch_request(const HookedTransformer& model, const PatchRequest& r) {
  HOOKLAB_RETURN_IF_ERROR(require_sweep_in_model(model.cfg(), r.sweep));
  for (const PatchItem& item : r.items) HOOKLAB_RETURN_IF_ERROR(require_sweep_in_model(model.cfg(), item.sweep));
  return validate_prompt_pair(model, r.clean_tokens, r.corrupted_tokens, r.metric);
}

Status validate_prompt_pair(const HookedTransformer& model, std::span<const int32_t> clean,
                            std::span<const int32_t> corrupted, const Metric& metric) {
  HOOKLAB_RETURN_IF_ERROR(model.validate_tokens(clean));
  HOOKLAB_RETURN_IF_ERROR(model.validate_tokens(corrupted));
  if (clean.size() != corrupted.size()) {
    return make_error(ErrorCode::kInvalidInput,
                      "clean and corrupted prompts must have the same number of tokens (clean: " +
                          std::to_string(clean.size()) + ", corrupted: " + std::to_string(corrupted.size()) + ")");
  }
  HOOKLAB_RETURN_IF_ERROR(validate_metric(metric, model.cfg(), static_cast<int>(clean.size())));
  if (!metric_reads_one_position(metric, model.cfg().d_vocab)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        std::string("patching reads the metric at one position; '") + metric_kind_name(metric.kind) +
            "' needs every position (use logit_diff, prob, logprob, rank or linear with d_vocab weights)");
  }
  return {};
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
    case PatchSweep::kMlpOut: return {{L, p}, {"layer", "pos"}};
    case PatchSweep::kHeadOutByPos:
    case PatchSweep::kHeadQByPos:
    case PatchSweep::kHeadKByPos:
    case PatchSweep::kHeadVByPos: return {{L, p, H}, {"layer", "pos", "head"}};
    case PatchSweep::kHeadOutAllPos:
    case PatchSweep::kHeadQAllPos:
    case PatchSweep::kHeadKAllPos:
    case PatchSweep::kHeadVAllPos:
    case PatchSweep::kHeadPatternAllPos: return {{L, H}, {"layer", "head"}};
    case PatchSweep::kHeadPatternByPos: return {{L, H, p}, {"layer", "head", "dest_pos"}};
    case PatchSweep::kHeadPatternDestSrc: return {{L, H, p, p}, {"layer", "head", "dest_pos", "src_pos"}};
    case PatchSweep::kBlockEvery: return {{3, L, p}, {"act", "layer", "pos"}};
    case PatchSweep::kHeadAllPosEvery: return {{5, L, H}, {"act", "layer", "head"}};
    case PatchSweep::kHeadByPosEvery: return {{5, L, p, H}, {"act", "layer", "pos", "head"}};
  }
  return {};
}

std::vector<PatchSweep> component_sweeps(PatchSweep sweep) {
  switch (sweep) {
    case PatchSweep::kBlockEvery: return {PatchSweep::kResidPre, PatchSweep::kAttnOut, PatchSweep::kMlpOut};
    case PatchSweep::kHeadAllPosEvery:
      return {PatchSweep::kHeadOutAllPos, PatchSweep::kHeadQAllPos, PatchSweep::kHeadKAllPos, PatchSweep::kHeadVAllPos,
              PatchSweep::kHeadPatternAllPos};
    case PatchSweep::kHeadByPosEvery:
      return {PatchSweep::kHeadOutByPos, PatchSweep::kHeadQByPos, PatchSweep::kHeadKByPos, PatchSweep::kHeadVByPos,
              PatchSweep::kHeadPatternByPos};
    default: return {sweep};
  }
}

}  // namespace hooklab
