// Path patching (Wang et al. 2022, "Interpretability in the Wild"; ARENA's get_path_patch_head_to_*):
// the effect of one sender head on the metric through chosen receivers only, the tool that
// separates a circuit's paths where activation patching only says which heads matter.
//
// For each sender head (layer, head), in the receiving run (direction as in patching.h):
//   A. every head's z at every layer is frozen to its receiving-run value, except the sender's,
//      which takes the source run's; MLPs and LayerNorms are recomputed.
//   B. receivers empty ("the final residual stream"): the cell is the metric of run A.
//      Otherwise each receiver's input (its q, k or v for its head) is recorded in run A, and a
//      second receiving run with only those inputs patched in gives the cell's metric.
// A sender at or after the last receiver's layer cannot reach it: its cell is the receiving
// run's metric, not computed (cells_computed counts what was).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hooklab/patching.h"

namespace hooklab {

enum class PathReceiverInput {
#define HOOKLAB_PATH_RECEIVER_INPUT(id, name, hook, description) id,
#include "hooklab/patching.def"
#undef HOOKLAB_PATH_RECEIVER_INPUT
};
const char* path_receiver_input_name(PathReceiverInput input);
Result<PathReceiverInput> parse_path_receiver_input(std::string_view name);
std::vector<PathReceiverInput> all_path_receiver_inputs();

struct PathReceiver {
  int layer = 0;
  int head = 0;
  PathReceiverInput input = PathReceiverInput::kQuery;
};

// "9.9:q" (layer.head:input) -> a receiver; the error names the expected form.
Result<PathReceiver> parse_path_receiver(std::string_view text);
std::string path_receiver_label(const PathReceiver& receiver);  // "9.9:q"

struct PathPatchRequest {
  std::vector<int32_t> clean_tokens;
  std::vector<int32_t> corrupted_tokens;
  Metric metric;
  // Noising (corrupted sender into the clean run) is how the IOI paper and ARENA path-patch.
  PatchDirection direction = PatchDirection::kNoising;
  bool normalize = false;                // (patched - corrupted) / (clean - corrupted), as patching.h
  std::vector<PathReceiver> receivers;   // empty: the final residual stream (the logits)
  std::function<bool(double)> progress;  // in [0, 1]; return false to cancel
};

struct PathPatchResult {
  Shape shape;                    // [L, H]: sender layer, sender head
  std::vector<std::string> axes;  // {"layer", "head"}
  std::vector<double> values;     // row-major over shape
  std::vector<PathReceiver> receivers;
  double clean_metric = 0.0;
  double corrupted_metric = 0.0;
  double receiving_metric = 0.0;  // what a sender with no path to the receivers reads (normalised with the values)
  int64_t cells_computed = 0;
};

// Every sender cell, one or two hooked forwards each, as a resumable job (one sender a step).
class PathPatchJob {
 public:
  static Result<std::unique_ptr<PathPatchJob>> start(const HookedTransformer& model, PathPatchRequest request);
  ~PathPatchJob();
  Result<bool> step();  // true once every sender is done
  double progress() const;
  PathPatchResult take_result();  // call once, after step() returned true

 private:
  PathPatchJob();
  struct State;
  std::unique_ptr<State> state_;
};

Result<PathPatchResult> path_patch(const HookedTransformer& model, const PathPatchRequest& request);

}  // namespace hooklab
