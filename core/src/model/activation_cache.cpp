#include "hooklab/activation_cache.h"

#include <algorithm>

namespace hooklab {
namespace {

constexpr size_t kAlignFloats = 16;

size_t slot_index(HookRef ref, int n_layers) {
  return static_cast<size_t>(ref.point) * static_cast<size_t>(n_layers + 1) + static_cast<size_t>(ref.layer + 1);
}

}  // namespace

void ActivationCache::plan(HookRef ref, Shape shape) {
  const size_t n = static_cast<size_t>(shape_numel(shape));
  entries_.push_back(Entry{hook_name(ref) + name_suffix_, ref, std::move(shape), planned_floats_});
  planned_floats_ += (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

Status ActivationCache::allocate(int n_layers) {
  HOOKLAB_ASSIGN_OR_RETURN(FloatBuffer buffer, FloatBuffer::allocate(planned_floats_));
  arena_ = std::make_shared<FloatBuffer>(std::move(buffer));
  index_plan(n_layers);
  return {};
}

void ActivationCache::index_plan(int n_layers) {
  n_layers_ = n_layers;
  index_.assign(static_cast<size_t>(kHookPointCount) * static_cast<size_t>(n_layers + 1), -1);
  for (size_t i = 0; i < entries_.size(); ++i) index_[slot_index(entries_[i].ref, n_layers)] = static_cast<int>(i);
}

const ActivationCache::Entry* ActivationCache::planned_entry(HookRef ref) const {
  const int i = index_of(ref);
  return i < 0 ? nullptr : &entries_[static_cast<size_t>(i)];
}

int ActivationCache::index_of(HookRef ref) const {
  if (index_.empty() || ref.layer < -1 || ref.layer >= n_layers_) return -1;
  return index_[slot_index(ref, n_layers_)];
}

float* ActivationCache::mutable_slot(HookRef ref) {
  const int i = arena_ ? index_of(ref) : -1;
  return i < 0 ? nullptr : arena_->data() + entries_[static_cast<size_t>(i)].offset;
}

const float* ActivationCache::find(HookRef ref) const {
  const int i = arena_ ? index_of(ref) : -1;
  return i < 0 ? nullptr : arena_->data() + entries_[static_cast<size_t>(i)].offset;
}

std::optional<TensorView> ActivationCache::view(HookRef ref) const {
  const int i = arena_ ? index_of(ref) : -1;
  if (i < 0) return std::nullopt;
  const Entry& e = entries_[static_cast<size_t>(i)];
  return TensorView{arena_->data() + e.offset, e.shape};
}

void ActivationCache::retain(const std::function<bool(const std::string&)>& keep) {
  std::vector<Entry> kept;
  for (Entry& e : entries_) {
    if (keep && keep(hook_name(e.ref))) kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);
  if (index_.empty()) return;
  std::fill(index_.begin(), index_.end(), -1);
  for (size_t i = 0; i < entries_.size(); ++i) index_[slot_index(entries_[i].ref, n_layers_)] = static_cast<int>(i);
}

Result<TensorView> ActivationCache::get(std::string_view name, std::optional<int> layer,
                                        std::string_view layer_type) const {
  if (!name_suffix_.empty() && name.size() > name_suffix_.size() && name.ends_with(name_suffix_)) {
    name.remove_suffix(name_suffix_.size());
  }
  HOOKLAB_ASSIGN_OR_RETURN(HookRef ref, resolve_hook_name(name, layer, layer_type, n_layers_));
  if (auto v = view(ref)) return *v;
  return make_error(ErrorCode::kInvalidArgument,
                    "'" + hook_name(ref) +
                        "' is not in this cache (it was filtered out, or it is an optional hook "
                        "that was not enabled)");
}

}  // namespace hooklab
