// Hook points: the enum generated from hook_points.def, their names, shapes and axes, and
// TransformerLens's name resolution (get_act_name and ActivationCache's key rules).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "hooklab/config.h"
#include "hooklab/status.h"
#include "hooklab/tensor.h"

namespace hooklab {

enum class HookPoint {
#define HOOKLAB_HOOK_POINT(id, name, short_name, layer_type, shape, optional) id,
#include "hooklab/hook_points.def"
#undef HOOKLAB_HOOK_POINT
};

inline constexpr int kHookPointCount = 0
#define HOOKLAB_HOOK_POINT(id, name, short_name, layer_type, shape, optional) +1
#include "hooklab/hook_points.def"
#undef HOOKLAB_HOOK_POINT
    ;

struct HookPointInfo {
  HookPoint point;
  const char* name_pattern;  // "blocks.{L}.attn.hook_q"
  const char* short_name;    // "q"
  const char* layer_type;    // "attn"
  const char* shape;         // "[B,P,H,Dh]"
  bool optional;
  bool per_block() const;
};

const std::array<HookPointInfo, kHookPointCount>& hook_point_table();
const HookPointInfo& hook_point_info(HookPoint point);

// A hook point instance: layer is -1 for the global hooks (embed, pos_embed, ln_final).
struct HookRef {
  HookPoint point;
  int layer;
  bool operator==(const HookRef&) const = default;
};

std::string hook_name(HookRef ref);

// Whether the model has this hook point: an attention-only model (cfg.attn_only) has no
// resid_mid, ln2 or MLP hooks, as in TransformerLens.
bool hook_point_exists(const ModelConfig& cfg, HookPoint point);
// The hook point as a model offers it: the resolved ref, or a clear error when an
// attention-only model lacks it.
Status require_hook_point(const ModelConfig& cfg, HookRef ref);  // "blocks.3.attn.hook_pattern"
// TransformerLens shape (batch 1) of a hook for P positions. attn_scores and pattern are
// [1, H, P, key_positions]: a step with a KV cache runs P new queries over every cached key
// (key_positions < 0: the same P, a full forward).
Shape hook_shape(const ModelConfig& cfg, HookPoint point, int positions, int key_positions = -1);

// Axes that position and head selectors act on (-1 when the hook has none). For attention
// scores/patterns the position axis is the query (destination) position, as TL's pos_slice.
struct HookAxes {
  int position = -1;
  int head = -1;
};
HookAxes hook_axes(HookPoint point);

// Parses an exact full name ("blocks.0.attn.hook_pattern", "hook_embed").
std::optional<HookRef> parse_hook_name(std::string_view full_name, int n_layers);

// TransformerLens's get_act_name(name, layer, layer_type) and cache[...] key rules:
// full names pass through; short names with a layer ("resid_post", -1) (negative layers
// count from the end); aliases attn->pattern, attn_logits->attn_scores, key/query/value,
// mlp_pre/mlp_post; layer-type aliases a/m/b/attention; "scale"/"normalized" without a layer
// mean ln_final, with a layer they need "ln1"/"ln2"; compact forms "k6", "scale4ln1", "pre5".
Result<HookRef> resolve_hook_name(std::string_view name, std::optional<int> layer, std::string_view layer_type,
                                  int n_layers);

}  // namespace hooklab
