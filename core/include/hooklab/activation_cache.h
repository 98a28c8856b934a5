// ActivationCache: the activations a run_with_cache recorded, by TransformerLens name.
//
// All tensors of one cache live in a single arena that the forward pass writes into directly
// (llm.c's "the activation struct is the cache"): caching costs no copies, and the whole
// cache can be handed to JavaScript as one buffer. Entries keep firing order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hooklab/hook_points.h"
#include "hooklab/tensor.h"

namespace hooklab {

class ActivationCache {
 public:
  struct Entry {
    std::string name;
    HookRef ref;
    Shape shape;
    size_t offset;  // floats from arena start
  };

  ActivationCache() = default;
  // A cache of gradients names its entries "<hook name>_grad", as TransformerLens's
  // run_with_cache(incl_bwd=True) does; get() accepts the name with or without the suffix.
  explicit ActivationCache(std::string name_suffix) : name_suffix_(std::move(name_suffix)) {}

  // Entries in firing order.
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // cache["blocks.0.attn.hook_pattern"], cache["resid_post", -1], cache["pattern", 0, "attn"],
  // cache["scale4ln1"]: TransformerLens's key rules (see resolve_hook_name).
  Result<TensorView> get(std::string_view name, std::optional<int> layer = std::nullopt,
                         std::string_view layer_type = {}) const;
  // nullptr when the hook was not cached.
  const float* find(HookRef ref) const;
  std::optional<TensorView> view(HookRef ref) const;

  const float* arena() const { return arena_ ? arena_->data() : nullptr; }
  size_t arena_floats() const { return arena_ ? arena_->size() : 0; }
  // Shares ownership of the arena (hooks that patch from this cache keep it alive).
  std::shared_ptr<const FloatBuffer> arena_owner() const { return arena_; }
  int n_layers() const { return n_layers_; }

  // --- building (used by the forward pass) ---
  // Plans entries (offsets assigned in order) and then allocates the arena once.
  void plan(HookRef ref, Shape shape);
  // The arena's length in floats once the planned entries are allocated.
  size_t planned_floats() const { return planned_floats_; }
  Status allocate(int n_layers);
  // Indexes the planned entries without allocating (a plan handed to a CacheSink); allocate()
  // does this too. Until an arena exists, find(), view() and mutable_slot() give nothing.
  void index_plan(int n_layers);
  // The planned entry of `ref`, nullptr when none (after index_plan or allocate).
  const Entry* planned_entry(HookRef ref) const;
  float* mutable_slot(HookRef ref);
  // Forgets the entries whose names `keep` rejects (the arena stays; used after a backward
  // pass that needed more of the forward's activations than the caller asked to see).
  void retain(const std::function<bool(const std::string&)>& keep);

 private:
  std::vector<Entry> entries_;
  std::shared_ptr<FloatBuffer> arena_;
  std::vector<int> index_;  // (point, layer + 1) -> entry index or -1
  int n_layers_ = 0;
  size_t planned_floats_ = 0;
  std::string name_suffix_;
  int index_of(HookRef ref) const;
};

}  // namespace hooklab
