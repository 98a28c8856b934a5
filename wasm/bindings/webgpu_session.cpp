#include "webgpu_session.h"

#include "device/device_generation.h"
#include "device/webgpu_backend.h"
#include "js_values.h"
#include "patch_request.h"
#include "run_values.h"

namespace hooklab::wasm {

WebgpuSession* WebgpuSession::create(WasmModel* model, const val& options) {
  if (model == nullptr) return set_last_error(make_error(ErrorCode::kInvalidArgument, "no model"));
  std::unique_ptr<WebgpuSession> session(new WebgpuSession());
  session->model_ = &model->model();
  const std::string name = has(options, "name") ? options["name"].as<std::string>() : "webgpu";
  auto device = make_webgpu_backend(name);
  if (!device.ok()) return set_last_error(device.error());
  session->device_ = std::move(device).value();
  auto weights = DeviceWeights::upload(*session->device_, session->model_->cfg(), session->model_->weights());
  if (!weights.ok()) return set_last_error(weights.error());
  session->weights_ = std::move(weights).value();
  return session.release();
}

val WebgpuSession::begin_run(const val& tokens_value, const val& options) {
  run_.reset();
  const std::vector<int32_t> tokens = int32_vector(tokens_value);
  if (Status valid = model_->validate_tokens(tokens); !valid.ok()) return error_value(valid.error());
  DeviceRunOptions run;
  run.cache_filter = cache_filter_from(options);
  run.use_attn_result = has(options, "useAttnResult") && options["useAttnResult"].as<bool>();
  run.return_logits = !has(options, "returnLogits") || options["returnLogits"].as<bool>();
  return_logits_ = run.return_logits;
  cached_ = static_cast<bool>(run.cache_filter);
  auto encoded = encode_device_forward(*device_, model_->cfg(), weights_, tokens, run);
  if (!encoded.ok()) return error_value(encoded.error());
  run_ = std::move(encoded).value();
  val out = val::object();
  out.set("ok", true);
  return out;
}

val WebgpuSession::finish_run() {
  if (!run_) return error_value(make_error(ErrorCode::kInvalidArgument, "no device run is in flight"));
  if (Status status = device_->status(); !status.ok()) {
    run_.reset();
    return error_value(status.error());
  }
  const RunOutput& out = run_->output;
  val result = run_output_value(out, return_logits_, cached_);
  run_.reset();
  return result;
}

WasmPatchJob* WebgpuSession::start_patch(const val& request_value) {
  auto request = parse_patch_request(request_value);
  if (!request.ok()) return set_last_error(request.error());
  auto job = DevicePatchJob::start(*model_, *device_, weights_, std::move(request).value());
  if (!job.ok()) return set_last_error(job.error());
  return new WasmPatchJob(std::unique_ptr<ResumablePatchJob>(std::move(job).value()),
                          std::function<val(ResumablePatchJob&)>(patch_results_value));
}

WasmGenerator* WebgpuSession::start_generate(const val& tokens_value, const val& options) {
  std::vector<int32_t> prompt = int32_vector(tokens_value);
  std::vector<std::shared_ptr<std::vector<float>>> hook_data;
  auto parsed = parse_generate_options(*model_, static_cast<int64_t>(prompt.size()), options, hook_data);
  if (!parsed.ok()) return set_last_error(parsed.error());
  auto generation = DeviceGeneration::start(*model_, *device_, weights_, std::move(prompt), std::move(parsed).value());
  if (!generation.ok()) return set_last_error(generation.error());
  return new WasmGenerator(*model_, std::move(generation).value());
}

}  // namespace hooklab::wasm
