#include "device/device_patching.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "device/device_forward.h"
#include "device/device_patch_injection.h"
#include "patching/patch_plan.h"

namespace hooklab {
namespace {

constexpr int64_t kMaxBatch = 64;                          // cells per chunk (one dispatch each op)
constexpr int64_t kChunkBudgetBytes = int64_t{512} << 20;  // device memory of one chunk's buffers

// The same receiving/source activations the CPU engine caches, minus what the device
// recomputes: every resid_pre (each cell starts from its layer's) and the patched hooks.
bool patched_by(const std::set<HookPoint>& patched, HookRef ref) { return patched.count(ref.point) != 0; }

}  // namespace

struct DevicePatchJob::State {
  const HookedTransformer* model = nullptr;
  DeviceBackend* device = nullptr;
  const DeviceWeights* weights = nullptr;
  PatchRequest request;
  std::vector<PatchItem> items;
  std::unique_ptr<DeviceRun> receiving, source;
  std::vector<PatchResult> results;  // one per item
  CellPlan cell_plan;
  std::vector<PatchCell*>& work = cell_plan.work;  // cells that can change the metric, grouped by (kind, layer)
  size_t done = 0;                                 // cells [done, in_flight_end) are encoded, awaiting the flush
  size_t in_flight_end = 0;
  bool planned = false;
  int positions = 0, metric_pos = 0;
  int64_t batch = 1;
  std::optional<DeviceWorkspace> ws;
  std::vector<DeviceBufferId> buffers;  // released with the job
  DeviceBufferId final_rows = 0, final_normalized = 0, logits = 0, gathered = 0, columns = 0, boxes = 0;
  std::vector<int32_t> column_tokens;  // logit difference: the columns read back
  std::vector<float> readback;         // host side of a chunk's readback

  ~State() {
    ws.reset();
    if (device == nullptr) return;
    for (DeviceBufferId id : buffers) device->release(id);
  }
  bool logit_diff() const { return request.metric.kind == MetricKind::kLogitDiff; }
  Status plan();
  Status encode_chunk();
  void collect_chunk();
  Result<DeviceBufferId> buffer(int64_t floats) {
    HOOKLAB_ASSIGN_OR_RETURN(DeviceBufferId id, device->allocate(floats));
    buffers.push_back(id);
    return id;
  }
};

DevicePatchJob::DevicePatchJob() = default;
DevicePatchJob::~DevicePatchJob() = default;

Result<std::unique_ptr<DevicePatchJob>> DevicePatchJob::start(const HookedTransformer& model, DeviceBackend& device,
                                                              const DeviceWeights& weights, PatchRequest request) {
  HOOKLAB_RETURN_IF_ERROR(validate_patch_request(model, request));
  if (has_estimate(request_items(request))) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the device runs exact sweeps; attribution estimates run on the CPU");
  }
  std::unique_ptr<DevicePatchJob> job(new DevicePatchJob());
  job->state_ = std::make_unique<State>();
  State& s = *job->state_;
  s.model = &model;
  s.device = &device;
  s.weights = &weights;
  s.request = std::move(request);
  s.request.progress = nullptr;
  s.items = request_items(s.request);
  const PatchRequest& r = s.request;
  const ModelConfig& cfg = model.cfg();
  const PatchRuns runs = patch_runs(r);
  const std::vector<int32_t>& source_tokens = runs.source_tokens;
  const std::vector<int32_t>& receiving_tokens = runs.receiving_tokens;
  s.positions = static_cast<int>(receiving_tokens.size());
  s.metric_pos = runs.metric_position;

  const std::set<HookPoint> patched = patched_hooks(s.items);
  DeviceRunOptions receiving_options;
  receiving_options.cache_filter = [&](const std::string& name) {
    const auto ref = parse_hook_name(name, cfg.n_layers);
    return ref.has_value() && (ref->point == HookPoint::kResidPre || patched_by(patched, *ref));
  };
  // The host needs the patched hooks of both runs to plan cells; resid_pre stays on the device.
  receiving_options.read_back = [&](HookRef ref) { return patched_by(patched, ref); };
  receiving_options.logits_row = s.metric_pos;
  DeviceRunOptions source_options = receiving_options;
  source_options.cache_filter = [&](const std::string& name) {
    const auto ref = parse_hook_name(name, cfg.n_layers);
    return ref.has_value() && patched_by(patched, *ref);
  };
  HOOKLAB_ASSIGN_OR_RETURN(s.receiving,
                           encode_device_forward(device, cfg, weights, receiving_tokens, receiving_options));
  HOOKLAB_ASSIGN_OR_RETURN(s.source, encode_device_forward(device, cfg, weights, source_tokens, source_options));
  return job;
}

// After the baseline runs arrived: the baseline metrics, the cells and the chunk buffers.
Status DevicePatchJob::State::plan() {
  const ModelConfig& cfg = model->cfg();
  const PatchRequest& r = request;
  const bool denoising = patch_runs(r).denoising;
  const int64_t V = cfg.d_vocab, D = cfg.d_model;
  const int P = positions;
  const double receiving_metric = evaluate_metric_row(r.metric, receiving->output.logits.data(), V);
  const double source_metric = evaluate_metric_row(r.metric, source->output.logits.data(), V);
  for (const PatchItem& item : items) {
    results.push_back(result_skeleton(item, cfg, P, receiving_metric, denoising ? source_metric : receiving_metric,
                                      denoising ? receiving_metric : source_metric));
  }
  cell_plan = plan_exact_cells(items, receiving->output.cache, source->output.cache, cfg, P, metric_pos);
  for (size_t i = 0; i < items.size(); ++i) results[i].cells_computed = cell_plan.work_per_item[i];
  // A chunk shares one patched hook: group cells by kind, then layer.
  std::stable_sort(work.begin(), work.end(), [](const PatchCell* a, const PatchCell* b) {
    return std::pair(static_cast<int>(a->kind), a->layer) < std::pair(static_cast<int>(b->kind), b->layer);
  });
  if (work.empty()) return {};

  // As many cells per chunk as the binding limit and the memory budget allow.
  const int64_t rows = metric_pos + 1;
  const int64_t binding = device->limits().max_binding_bytes / 4;
  const int64_t largest = std::max(DeviceWorkspace::largest_per_sequence(cfg, rows), V);
  const int64_t total = DeviceWorkspace::total_per_sequence(cfg, rows) + V + 2 * D;
  batch = std::clamp<int64_t>(std::min(binding / largest, kChunkBudgetBytes / 4 / total), 1, kMaxBatch);
  batch = std::min<int64_t>(batch, static_cast<int64_t>(work.size()));
  HOOKLAB_ASSIGN_OR_RETURN(DeviceWorkspace chunk_ws, DeviceWorkspace::allocate(*device, cfg, batch, rows, false));
  ws.emplace(std::move(chunk_ws));
  HOOKLAB_ASSIGN_OR_RETURN(final_rows, buffer(batch * D));
  HOOKLAB_ASSIGN_OR_RETURN(final_normalized, buffer(batch * D));
  HOOKLAB_ASSIGN_OR_RETURN(logits, buffer(batch * V));
  HOOKLAB_ASSIGN_OR_RETURN(boxes, buffer(batch * 6));
  if (logit_diff()) {
    std::set<int32_t> tokens;
    for (const auto& [answer, wrong] : r.metric.answer_pairs) tokens.insert(answer), tokens.insert(wrong);
    column_tokens.assign(tokens.begin(), tokens.end());
    const int64_t n = static_cast<int64_t>(column_tokens.size());
    HOOKLAB_ASSIGN_OR_RETURN(columns, buffer(n));
    HOOKLAB_ASSIGN_OR_RETURN(gathered, buffer(batch * n));
    std::vector<uint32_t> ids(column_tokens.begin(), column_tokens.end());
    device->upload({columns, 0}, ids.data(), n);
    readback.assign(static_cast<size_t>(batch * n), 0.0f);
  } else {
    readback.assign(static_cast<size_t>(batch * V), 0.0f);
  }
  return {};
}

Status DevicePatchJob::State::encode_chunk() {
  const ModelConfig& cfg = model->cfg();
  const int64_t D = cfg.d_model, V = cfg.d_vocab, rows = metric_pos + 1;
  const PatchCell& first = *work[done];
  size_t end = done;
  while (end < work.size() && static_cast<int64_t>(end - done) < batch && work[end]->kind == first.kind &&
         work[end]->layer == first.layer) {
    ++end;
  }
  const int64_t n = static_cast<int64_t>(end - done);
  std::vector<uint32_t> box_values;
  for (size_t i = done; i < end; ++i) {
    const auto box = injection_box(*work[i], cfg, rows);
    box_values.insert(box_values.end(), box.begin(), box.end());
  }
  device->upload({boxes, 0}, box_values.data(), static_cast<int64_t>(box_values.size()));

  // Every cell starts from the receiving run's resid_pre at the patched layer.
  const int l = first.layer;
  DeviceRows resid = ws->resid_pre;
  DeviceRows start = *receiving->slot({HookPoint::kResidPre, l});
  start.batch_stride = 0;  // the same rows for every cell
  device->copy_rows(resid, start, n, rows, D);
  const InjectionShape shape = injection_shape(first.kind, l, cfg, rows, positions);
  InjectingHooks hooks(*device, shape, *source->slot(shape.target), {boxes, 0}, n);
  const DeviceBlockContext ctx{*device, cfg, *weights, *ws, n, rows, false};
  DeviceRows resid_post;
  for (int j = l; j < cfg.n_layers; ++j) {
    resid_post = run_device_block(ctx, hooks, j, resid);
    if (j + 1 < cfg.n_layers) device->copy_rows(resid, resid_post, 1, n * rows, D);
  }
  // Each cell's final residual at the metric position -> ln_final -> logits.
  const DeviceRows final_rows_view{final_rows, 0, D, D};
  device->copy_rows(final_rows_view, resid_post.shifted(metric_pos * D), n, 1, D);
  const DeviceRows normalized{final_normalized, 0, D, D};
  device->layer_norm({normalized, {}, final_rows_view, weights->ln_final_w, weights->ln_final_b, n, D, cfg.eps});
  const DeviceRows logits_rows{logits, 0, V, V};
  device->matmul({logits_rows, normalized, n, &weights->w_u, 0, D, true});
  if (logit_diff()) {
    const int64_t columns_n = static_cast<int64_t>(column_tokens.size());
    device->gather_columns({gathered, 0}, logits_rows, n, {columns, 0}, columns_n);
    device->request_readback({gathered, 0}, readback.data(), n * columns_n);
  } else {
    device->request_readback({logits, 0}, readback.data(), n * V);
  }
  in_flight_end = end;
  return device->status();
}

void DevicePatchJob::State::collect_chunk() {
  const int64_t V = model->cfg().d_vocab;
  const int64_t columns_n = static_cast<int64_t>(column_tokens.size());
  for (size_t i = done; i < in_flight_end; ++i) {
    const int64_t k = static_cast<int64_t>(i - done);
    double value = 0.0;
    if (logit_diff()) {
      const float* row = readback.data() + k * columns_n;
      auto logit = [&](int32_t token) {
        return static_cast<double>(
            row[std::lower_bound(column_tokens.begin(), column_tokens.end(), token) - column_tokens.begin()]);
      };
      for (const auto& [answer, wrong] : request.metric.answer_pairs) value += logit(answer) - logit(wrong);
      value /= static_cast<double>(request.metric.answer_pairs.size());
    } else {
      value = evaluate_metric_row(request.metric, readback.data() + k * V, V);
    }
    results[work[i]->item].values[work[i]->out_index] = value;
  }
  done = in_flight_end;
}

Result<bool> DevicePatchJob::step() {
  State& s = *state_;
  HOOKLAB_RETURN_IF_ERROR(s.device->status());
  if (!s.planned) {
    HOOKLAB_RETURN_IF_ERROR(s.plan());
    s.planned = true;
  } else {
    s.collect_chunk();
  }
  if (s.done == s.work.size()) return true;
  HOOKLAB_RETURN_IF_ERROR(s.encode_chunk());
  return false;
}

double DevicePatchJob::progress() const {
  const State& s = *state_;
  if (!s.planned) return 0.0;
  return s.work.empty() ? 1.0 : static_cast<double>(s.done) / static_cast<double>(s.work.size());
}

int64_t DevicePatchJob::batch() const { return state_->batch; }

std::vector<PatchResult> DevicePatchJob::take_results() {
  std::vector<PatchResult> results = std::move(state_->results);
  if (state_->request.normalize) {
    for (PatchResult& result : results) normalize_result(result);
  }
  return results;
}

}  // namespace hooklab
