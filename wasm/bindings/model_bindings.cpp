// Embind bindings of the core: loading, tokens, runs with cache and hooks, logits utilities.
#include <emscripten/bind.h>

#include "hooklab/logits.h"
#include "js_byte_source.h"
#include "js_values.h"
#include "patch_request.h"
#include "run_values.h"
#include "wasm_attribution.h"
#include "wasm_generator.h"
#include "wasm_model.h"
#include "wasm_patch_job.h"

namespace hooklab::wasm {
namespace {

using emscripten::typed_memory_view;

Result<HookActionKind> action_kind(const std::string& kind) {
  if (kind == "replace") return HookActionKind::kReplace;
  if (kind == "zero") return HookActionKind::kZero;
  if (kind == "meanAblate") return HookActionKind::kMeanAblate;
  if (kind == "add") return HookActionKind::kAdd;
  if (kind == "read") return HookActionKind::kRead;
  if (kind == "callback") return HookActionKind::kCallback;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown hook kind '" + kind + "' (replace, zero, meanAblate, add, read, callback)");
}

// The lab's names of the weight precisions (weight_precision_name: "f32", "f16").
Result<WeightPrecision> weight_precision_named(const std::string& name) {
  for (WeightPrecision p : kWeightPrecisions) {
    if (name == weight_precision_name(p)) return p;
  }
  return make_error(ErrorCode::kInvalidArgument, "unknown weight precision '" + name + "' (f32 or f16)");
}

// The lab's processing names: "none" (the checkpoint's weights as they are) or TransformerLens's
// default processing.
ProcessingOptions processing_named(const std::string& name) {
  return name == "none" ? ProcessingOptions::none() : ProcessingOptions{};
}

}  // namespace

// One JavaScript hook spec -> ForwardHook. Tensors are copied into `storage`, which the run
// keeps alive; callbacks receive a live view of the activation and may edit it in place or
// return replacement values.
Result<ForwardHook> parse_hook(const val& spec, std::vector<std::shared_ptr<std::vector<float>>>& storage) {
  ForwardHook hook;
  if (!has(spec, "name")) return make_error(ErrorCode::kInvalidArgument, "a hook needs a name");
  hook.name = spec["name"].as<std::string>();
  if (has(spec, "layer")) hook.layer = spec["layer"].as<int>();
  if (has(spec, "layerType")) hook.layer_type = spec["layerType"].as<std::string>();
  HOOKLAB_ASSIGN_OR_RETURN(hook.action.kind,
                           action_kind(has(spec, "kind") ? spec["kind"].as<std::string>() : "callback"));
  if (has(spec, "positions")) hook.action.positions = int_vector(spec["positions"]);
  if (has(spec, "heads")) hook.action.heads = int_vector(spec["heads"]);
  if (has(spec, "data")) {
    auto data = std::make_shared<std::vector<float>>(float_vector(spec["data"]));
    Shape shape = {static_cast<int64_t>(data->size())};
    if (has(spec, "shape")) {
      const std::vector<int> dims = int_vector(spec["shape"]);
      shape.assign(dims.begin(), dims.end());
    }
    if (shape_numel(shape) != static_cast<int64_t>(data->size())) {
      return make_error(ErrorCode::kInvalidArgument, "hook on " + hook.name + ": data has " +
                                                         std::to_string(data->size()) + " values but shape " +
                                                         shape_to_string(shape));
    }
    hook.action.source = TensorView{data->data(), shape};
    storage.push_back(data);
  }
  if (hook.action.kind == HookActionKind::kCallback || hook.action.kind == HookActionKind::kRead) {
    if (!has(spec, "fn")) return make_error(ErrorCode::kInvalidArgument, "hook on " + hook.name + " needs a function");
    val fn = spec["fn"];
    hook.action.callback = [fn](TensorView& activation, const HookContext& ctx) -> Status {
      val tensor = val::object();
      tensor.set("data", val(typed_memory_view(static_cast<size_t>(activation.numel()), activation.data)));
      tensor.set("shape", shape_value(activation.shape));
      val info = val::object();
      info.set("name", ctx.name);
      info.set("layer", ctx.ref.layer);
      val returned = fn(tensor, info);
      if (returned.isUndefined() || returned.isNull()) return {};
      if (returned.isString()) return make_error(ErrorCode::kInvalidArgument, returned.as<std::string>());
      const std::vector<float> values = float_vector(returned);
      if (static_cast<int64_t>(values.size()) != activation.numel()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "hook on " + ctx.name + " returned " + std::to_string(values.size()) +
                              " values; the activation has " + std::to_string(activation.numel()));
      }
      std::copy(values.begin(), values.end(), activation.data);
      return {};
    };
  }
  return hook;
}

WasmModel* load_model(const val& files, const val& options) {
  ModelFiles model_files;
  model_files.config_json = files["config"].as<std::string>();
  // The model's own tokenizer (tokenizer.json, or its vocab.json + merges.txt) or GPT-2's files:
  // the worker looks them up in that order, as read_model_directory does on disk.
  if (has(files, "tokenizerJson")) model_files.tokenizer_json = files["tokenizerJson"].as<std::string>();
  if (has(files, "vocab")) model_files.vocab_json = files["vocab"].as<std::string>();
  if (has(files, "merges")) model_files.merges = files["merges"].as<std::string>();
  model_files.own_tokenizer = has(files, "ownTokenizer") && files["ownTokenizer"].as<bool>();
  model_files.config_name = has(files, "configName") ? files["configName"].as<std::string>() : "config.json";
  model_files.vocab_name = has(files, "vocabName") ? files["vocabName"].as<std::string>() : "vocab.json";
  const std::string weights_name =
      has(files, "weightsName") ? files["weightsName"].as<std::string>() : "model.safetensors";
  model_files.weights = make_js_byte_source(weights_name, files["weights"]);

  LoadOptions load;
  if (has(options, "processing")) load.processing = processing_named(options["processing"].as<std::string>());
  load.threads = has(options, "threads") ? std::max(1, options["threads"].as<int>()) : 1;
#ifndef __EMSCRIPTEN_PTHREADS__
  load.threads = 1;  // the single-threaded build has no workers to run on
#endif
  if (has(options, "name")) load.model_name = options["name"].as<std::string>();
  if (has(options, "gemmKernel")) load.gemm_kernel = options["gemmKernel"].as<std::string>();
  if (has(options, "weights")) {
    auto precision = weight_precision_named(options["weights"].as<std::string>());
    if (!precision.ok()) return set_last_error(precision.error());
    load.weight_precision = *precision;
  }
  if (has(options, "onProgress")) {
    val on_progress = options["onProgress"];
    load.progress = [on_progress](double fraction) {
      const val keep_going = on_progress(fraction);
      return !(keep_going.isFalse());
    };
  }
  auto model = HookedTransformer::load(model_files, load);
  if (!model.ok()) return set_last_error(model.error());
  return new WasmModel(std::move(model).value());
}

// {weightBytes, limitBytes}: what loading the model config.json describes will allocate for
// its processed weights, and the most the module's memory can hold; null (lastError) for a
// config the load would refuse.
val model_memory_need(const std::string& config_json, const std::string& processing_name,
                      const std::string& weights_name) {
  auto precision = weight_precision_named(weights_name);
  if (!precision.ok()) {
    set_last_error(precision.error());
    return val::null();
  }
  auto bytes =
      HookedTransformer::weights_bytes(config_json, "config.json", processing_named(processing_name), *precision);
  if (!bytes.ok()) {
    set_last_error(bytes.error());
    return val::null();
  }
  val out = val::object();
  out.set("weightBytes", static_cast<double>(bytes.value()));
  out.set("limitBytes", static_cast<double>(HOOKLAB_WASM_MAX_MEMORY_BYTES));
  return out;
}

// The closed set of weight precisions, for the generated TypeScript union.
val weight_precisions_value() {
  val out = val::array();
  for (WeightPrecision p : kWeightPrecisions) out.call<void>("push", std::string(weight_precision_name(p)));
  return out;
}

val WasmModel::config() const {
  const ModelConfig& c = model_->cfg();
  val out = val::object();
  out.set("n_layers", c.n_layers);
  out.set("d_model", c.d_model);
  out.set("n_heads", c.n_heads);
  out.set("d_head", c.d_head);
  out.set("d_mlp", c.d_mlp);
  out.set("attn_only", c.attn_only);
  out.set("d_vocab", c.d_vocab);
  out.set("n_ctx", c.n_ctx);
  out.set("eps", c.eps);
  out.set("act_fn", c.act_fn);
  out.set("n_params", static_cast<double>(c.n_params()));
  out.set("total_params", static_cast<double>(c.total_params()));
  out.set("model_name", c.model_name);
  out.set("normalization_type", model_->weights().layer_norm_folded ? std::string("LNPre") : std::string("LN"));
  const ProcessingOptions& p = model_->processing();
  val processing = val::object();
  processing.set("fold_ln", p.fold_ln);
  processing.set("center_writing_weights", p.center_writing_weights);
  processing.set("center_unembed", p.center_unembed);
  processing.set("fold_value_biases", p.fold_value_biases);
  out.set("processing", processing);
  out.set("backend", model_->backend().name());
  out.set("threads", model_->backend().threads());
  out.set("weight_bytes", static_cast<double>(model_->weights().bytes()));
  out.set("weights", std::string(weight_precision_name(model_->weights().precision)));
  out.set("tokenizer", std::string(model_->tokenizer().kind_name()));
  return out;
}

val WasmModel::to_tokens(const std::string& text, bool prepend_bos) const {
  return int32_copy(model_->to_tokens(text, prepend_bos));
}

val WasmModel::str_tokens(const val& tokens) const { return string_array(model_->to_str_tokens(int32_vector(tokens))); }

val WasmModel::token_text(int id) const { return val(model_->tokenizer().token_text(id)); }

val WasmModel::decode(const val& tokens) const { return val(model_->to_string(int32_vector(tokens))); }

val WasmModel::single_token(const std::string& text) const {
  auto id = model_->to_single_token(text);
  if (!id.ok()) return error_value(id.error());
  val out = val::object();
  out.set("value", *id);
  return out;
}

val WasmModel::run(const val& tokens_value, const val& options) const {
  const std::vector<int32_t> tokens = int32_vector(tokens_value);
  RunOptions run;
  std::vector<std::shared_ptr<std::vector<float>>> storage;
  if (has(options, "hooks")) {
    const val hooks = options["hooks"];
    const int n = hooks["length"].as<int>();
    for (int i = 0; i < n; ++i) {
      auto hook = parse_hook(hooks[i], storage);
      if (!hook.ok()) return error_value(hook.error());
      run.hooks.push_back(std::move(hook).value());
    }
  }
  run.cache_filter = cache_filter_from(options);
  run.use_attn_result = has(options, "useAttnResult") && options["useAttnResult"].as<bool>();
  run.return_logits = !has(options, "returnLogits") || options["returnLogits"].as<bool>();
  if (has(options, "gradMetric")) {  // run_with_cache(incl_bwd=True)
    auto metric = parse_metric(options["gradMetric"]);
    if (!metric.ok()) return error_value(metric.error());
    run.grad_metric = std::move(metric).value();
    run.grad_filter =
        has(options, "gradNames") ? cache_filter_from(options, "gradNames") : [](const std::string&) { return true; };
    if (has(options, "bwdHooks")) {
      const val hooks = options["bwdHooks"];
      for (int i = 0; i < hooks["length"].as<int>(); ++i) {
        auto hook = parse_hook(hooks[i], storage);
        if (!hook.ok()) return error_value(hook.error());
        run.backward_hooks.push_back(std::move(hook).value());
      }
    }
  }
  const val take_buffer = has(options, "takeBuffer") ? options["takeBuffer"] : val::undefined();
  // The cache goes straight to JavaScript memory, where it ends up anyway (a gradient run's
  // backward pass reads it, so that one is held).
  StreamedCache streamed(take_buffer);
  if (run.cache_filter && !run.grad_metric) run.cache_sink = streamed.sink();
  auto out = model_->run(tokens, run);
  if (!out.ok()) return error_value(out.error());
  return run_output_value(*out, run.return_logits, static_cast<bool>(run.cache_filter), run.grad_metric.has_value(),
                          take_buffer, run.cache_sink ? &streamed : nullptr);
}

val WasmModel::top_k(const val& logits_row, int k) const {
  const std::vector<float> row = float_vector(logits_row);
  val out = val::array();
  for (const TopKEntry& e : hooklab::top_k(row.data(), static_cast<int64_t>(row.size()), k)) {
    val entry = val::object();
    entry.set("token", e.token);
    entry.set("str", model_->tokenizer().token_text(e.token));
    entry.set("logit", e.logit);
    entry.set("prob", e.prob);
    out.call<void>("push", entry);
  }
  return out;
}

val WasmModel::loss(const val& logits_value, const val& tokens_value) const {
  const std::vector<int32_t> tokens = int32_vector(tokens_value);
  const std::vector<float> values = float_vector(logits_value);
  const int64_t vocab = model_->cfg().d_vocab;
  if (static_cast<int64_t>(values.size()) != static_cast<int64_t>(tokens.size()) * vocab) {
    return error_value(make_error(ErrorCode::kInvalidArgument, "logits do not match the tokens"));
  }
  auto logits = Tensor::from_values({1, static_cast<int64_t>(tokens.size()), vocab}, values.data());
  if (!logits.ok()) return error_value(logits.error());
  const std::vector<double> per_token = loss_per_token(*logits, tokens);
  val out = val::object();
  out.set("perToken", float64_copy(per_token));
  out.set("mean", mean_loss(*logits, tokens));
  return out;
}

}  // namespace hooklab::wasm

EMSCRIPTEN_BINDINGS(hooklab_model) {
  using namespace emscripten;
  using hooklab::wasm::WasmModel;
  function("loadModel", &hooklab::wasm::load_model, allow_raw_pointers());
  function("modelMemoryNeed", &hooklab::wasm::model_memory_need);
  function("weightPrecisions", &hooklab::wasm::weight_precisions_value);
  function("lastError", &hooklab::wasm::last_error);
  class_<WasmModel>("Model")
      .function("config", &WasmModel::config)
      .function("toTokens", &WasmModel::to_tokens)
      .function("strTokens", &WasmModel::str_tokens)
      .function("tokenText", &WasmModel::token_text)
      .function("decode", &WasmModel::decode)
      .function("singleToken", &WasmModel::single_token)
      .function("run", &WasmModel::run)
      .function("topK", &WasmModel::top_k)
      .function("loss", &WasmModel::loss)
      .function("logitLens", &WasmModel::logit_lens)
      .function("componentAttribution", &WasmModel::component_attribution)
      .function("headAttribution", &WasmModel::head_attribution)
      .function("residualNorms", &WasmModel::residual_norms)
      .function("detectHeads", &WasmModel::detect_heads)
      .function("startPatch", &WasmModel::start_patch, allow_raw_pointers())
      .function("startPathPatch", &WasmModel::start_path_patch, allow_raw_pointers())
      .function("startAttribution", &WasmModel::start_attribution, allow_raw_pointers())
      .function("startPatchDataset", &WasmModel::start_patch_dataset, allow_raw_pointers())
      .function("startGenerate", &WasmModel::start_generate, allow_raw_pointers());
}
