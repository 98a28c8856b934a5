#include "hooklab/hook_points.h"

#include <cctype>
#include <charconv>
#include <cstring>

namespace hooklab {
namespace {

constexpr std::array<HookPointInfo, kHookPointCount> kTable = {{
#define HOOKLAB_HOOK_POINT(id, name, short_name, layer_type, shape, optional) \
  {HookPoint::id, name, short_name, layer_type, shape, optional},
#include "hooklab/hook_points.def"
#undef HOOKLAB_HOOK_POINT
}};

Error name_error(std::string_view name, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument, "unknown hook name '" + std::string(name) + "': " + why);
}

// TransformerLens's alias tables (utils.get_act_name).
std::string_view canonical_short_name(std::string_view name) {
  if (name == "attn") return "pattern";
  if (name == "attn_logits") return "attn_scores";
  if (name == "key") return "k";
  if (name == "query") return "q";
  if (name == "value") return "v";
  if (name == "mlp_pre") return "pre";
  if (name == "mlp_post") return "post";
  return name;
}

std::string_view canonical_layer_type(std::string_view type) {
  if (type == "a" || type == "attention") return "attn";
  if (type == "m") return "mlp";
  if (type == "b" || type == "block" || type == "blocks") return "";
  return type;
}

bool parse_int(std::string_view s, int* out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

}  // namespace

bool HookPointInfo::per_block() const { return std::strncmp(name_pattern, "blocks.", 7) == 0; }

const std::array<HookPointInfo, kHookPointCount>& hook_point_table() { return kTable; }

const HookPointInfo& hook_point_info(HookPoint point) { return kTable[static_cast<size_t>(point)]; }

std::string hook_name(HookRef ref) {
  std::string pattern = hook_point_info(ref.point).name_pattern;
  const auto at = pattern.find("{L}");
  if (at != std::string::npos) pattern.replace(at, 3, std::to_string(ref.layer));
  return pattern;
}

bool hook_point_exists(const ModelConfig& cfg, HookPoint point) {
  switch (point) {
    case HookPoint::kResidMid:
    case HookPoint::kLn2Scale:
    case HookPoint::kLn2Normalized:
    case HookPoint::kMlpPre:
    case HookPoint::kMlpPost:
    case HookPoint::kMlpOut: return !cfg.attn_only;
    default: return true;
  }
}

Status require_hook_point(const ModelConfig& cfg, HookRef ref) {
  if (hook_point_exists(cfg, ref.point)) return {};
  return make_error(ErrorCode::kInvalidArgument, hook_name(ref) +
                                                     " does not exist: the model is attention-only (attn_only), so its "
                                                     "blocks have no resid_mid, ln2 or MLP");
}

Shape hook_shape(const ModelConfig& cfg, HookPoint point, int positions, int key_positions) {
  const int64_t p = positions;
  const int64_t keys = key_positions < 0 ? p : key_positions;
  switch (point) {
    case HookPoint::kLn1Scale:
    case HookPoint::kLn2Scale:
    case HookPoint::kLnFinalScale: return {1, p, 1};
    case HookPoint::kQ:
    case HookPoint::kK:
    case HookPoint::kV:
    case HookPoint::kZ: return {1, p, cfg.n_heads, cfg.d_head};
    case HookPoint::kAttnScores:
    case HookPoint::kPattern: return {1, cfg.n_heads, p, keys};
    case HookPoint::kResult: return {1, p, cfg.n_heads, cfg.d_model};
    case HookPoint::kMlpPre:
    case HookPoint::kMlpPost: return {1, p, cfg.d_mlp};
    default: return {1, p, cfg.d_model};
  }
}

HookAxes hook_axes(HookPoint point) {
  switch (point) {
    case HookPoint::kQ:
    case HookPoint::kK:
    case HookPoint::kV:
    case HookPoint::kZ:
    case HookPoint::kResult: return {1, 2};
    case HookPoint::kAttnScores:
    case HookPoint::kPattern: return {2, 1};
    default: return {1, -1};
  }
}

std::optional<HookRef> parse_hook_name(std::string_view full_name, int n_layers) {
  int layer = -1;
  std::string_view rest = full_name;
  if (full_name.rfind("blocks.", 0) == 0) {
    const auto dot = full_name.find('.', 7);
    if (dot == std::string_view::npos || !parse_int(full_name.substr(7, dot - 7), &layer)) return std::nullopt;
    if (layer < 0 || layer >= n_layers) return std::nullopt;
    rest = full_name.substr(dot + 1);
  }
  for (const auto& info : kTable) {
    std::string_view pattern = info.name_pattern;
    if (info.per_block() != (layer >= 0)) continue;
    if (info.per_block()) pattern.remove_prefix(std::strlen("blocks.{L}."));
    if (pattern == rest) return HookRef{info.point, layer};
  }
  return std::nullopt;
}

Result<HookRef> resolve_hook_name(std::string_view name, std::optional<int> layer, std::string_view layer_type,
                                  int n_layers) {
  if (name.empty()) return name_error(name, "empty name");
  // 1. Exact full names ("blocks.0.attn.hook_pattern", "hook_embed") pass through.
  const bool looks_full = name.find('.') != std::string_view::npos || name.rfind("hook_", 0) == 0;
  if (looks_full && !layer.has_value()) {
    if (auto ref = parse_hook_name(name, n_layers)) return *ref;
    // "blocks.99.hook_resid_pre" etc.: say what is wrong.
    if (name.rfind("blocks.", 0) == 0) {
      return name_error(name, "no such block hook in a model with " + std::to_string(n_layers) + " layers");
    }
    return name_error(name, "not a hook point of GPT-2 (see the hook list)");
  }

  std::string short_name(name);
  std::string type(layer_type);
  // 2. Compact forms: "k6" -> (k, 6), "scale4ln1" -> (scale, 4, ln1), "pre5" -> (pre, 5).
  if (!layer.has_value()) {
    size_t i = 0;
    while (i < short_name.size() && std::islower(static_cast<unsigned char>(short_name[i]))) ++i;
    size_t j = i;
    while (j < short_name.size() && std::isdigit(static_cast<unsigned char>(short_name[j]))) ++j;
    if (i > 0 && j > i) {
      int parsed = 0;
      if (parse_int(std::string_view(short_name).substr(i, j - i), &parsed)) {
        layer = parsed;
        if (type.empty()) type = short_name.substr(j);
        short_name = short_name.substr(0, i);
      }
    }
  }
  const std::string_view canonical = canonical_short_name(short_name);
  const std::string_view canon_type = canonical_layer_type(type);

  const bool is_ln_stat = canonical == "scale" || canonical == "normalized";
  if (!layer.has_value()) {
    if (is_ln_stat) {
      return HookRef{canonical == "scale" ? HookPoint::kLnFinalScale : HookPoint::kLnFinalNormalized, -1};
    }
    for (const auto& info : kTable) {
      if (!info.per_block() && canonical == info.short_name) return HookRef{info.point, -1};
    }
    return name_error(name, "a block hook needs a layer, e.g. (\"" + std::string(canonical) + "\", 0)");
  }

  int l = *layer;
  if (l < 0) l += n_layers;  // ("resid_post", -1) is the last block
  if (l < 0 || l >= n_layers) {
    return make_error(ErrorCode::kInvalidArgument, "layer " + std::to_string(*layer) +
                                                       " is out of range for a model with " + std::to_string(n_layers) +
                                                       " layers");
  }
  if (is_ln_stat && canon_type != "ln1" && canon_type != "ln2") {
    return name_error(name, "with a layer, \"scale\"/\"normalized\" need the layer type \"ln1\" or \"ln2\"");
  }
  for (const auto& info : kTable) {
    if (!info.per_block() || canonical != info.short_name) continue;
    if (is_ln_stat && canon_type != info.layer_type) continue;
    // An explicit layer type must agree with the hook's own ("attn" for q, "mlp" for pre).
    if (!is_ln_stat && !canon_type.empty() && canon_type != info.layer_type) {
      return name_error(
          name, "\"" + std::string(canonical) + "\" is not in the \"" + std::string(canon_type) + "\" sublayer");
    }
    return HookRef{info.point, l};
  }
  return name_error(name, "not a hook point of GPT-2 (see the hook list)");
}

}  // namespace hooklab
