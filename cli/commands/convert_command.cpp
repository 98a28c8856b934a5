// hooklab convert --model DIR --out DIR --dtype f16|bf16|f32
//
// Rewrites a Hugging Face GPT-2 directory with every parameter in one dtype: half precision
// halves the download and the browser store. The input is first loaded by the core (so a
// malformed model gives the usual error), tensors are then streamed one at a time (memory
// bounded by the largest tensor, not the model), and the output is assembled in a staging
// directory beside --out and moved into place only when complete.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <unistd.h>

#include "cli_context.h"
#include "commands/commands.h"
#include "hooklab/safetensors.h"

namespace hooklab::cli {
namespace {

namespace fs = std::filesystem;

// Copied beside the weights when present: the tokenizer and the model card.
constexpr const char* kCopiedFiles[] = {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json"};

Result<DType> parse_dtype(const std::string& name) {
  if (name == "f32") return DType::kF32;
  if (name == "f16") return DType::kF16;
  if (name == "bf16") return DType::kBF16;
  return usage_error("--dtype must be f16, bf16 or f32, got '" + name + "'");
}

// GPT-2's causal-mask buffers (h.N.attn.bias, h.N.attn.masked_bias) are not parameters: the
// loader ignores them and a converted file leaves them out.
bool is_mask_buffer(const std::string& name) {
  static const std::regex kMask(R"(^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$)");
  return std::regex_match(name, kMask);
}

bool is_float(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16 || dtype == DType::kF64;
}

Error io_error(const fs::path& path, const std::string& what) {
  return make_error(ErrorCode::kIoError, path.string() + ": " + what);
}

// Removes the staging directory unless the output was committed.
class StagingDir {
 public:
  explicit StagingDir(fs::path path) : path_(std::move(path)) {}
  ~StagingDir() {
    std::error_code ec;
    if (!committed_) fs::remove_all(path_, ec);
  }
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const fs::path& path() const { return path_; }
  void commit() { committed_ = true; }

 private:
  fs::path path_;
  bool committed_ = false;
};

// Encodes n f32 values as `dtype` into out (little-endian, like the rest of safetensors).
// Fails when a value overflows f16's range (|x| > 65504) rather than writing infinities,
// which the loader would reject later with a less helpful message.
Status encode(const float* values, int64_t n, DType dtype, const std::string& tensor, std::vector<uint8_t>& out) {
  out.resize(static_cast<size_t>(n) * dtype_size(dtype));
  uint8_t* p = out.data();
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == DType::kF32) {
      std::memcpy(p + 4 * i, &values[i], 4);
      continue;
    }
    const uint16_t h = dtype == DType::kF16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
    const bool overflow = dtype == DType::kF16 ? (h & 0x7c00u) == 0x7c00u : (h & 0x7f80u) == 0x7f80u;
    if (overflow) {
      return make_error(ErrorCode::kInvalidModel,
                        "tensor " + quote_excerpt(tensor) + " holds " + std::to_string(values[i]) +
                            ", beyond the range of " + dtype_name(dtype) +
                            (dtype == DType::kF16 ? " (|x| <= 65504); convert to bf16 instead" : ""));
    }
    std::memcpy(p + 2 * i, &h, 2);
  }
  return {};
}

struct WrittenWeights {
  int tensors = 0;
  uint64_t bytes = 0;
};

// Streams every parameter of `in` into a new safetensors file at `path`.
Result<WrittenWeights> write_converted_weights(const SafetensorsFile& in, DType dtype, const fs::path& path) {
  std::vector<const TensorInfo*> kept;
  for (const TensorInfo& t : in.tensors()) {
    if (is_mask_buffer(t.name)) continue;
    if (!is_float(t.dtype)) {
      return make_error(ErrorCode::kUnsupported, in.file_name() + ": tensor " + quote_excerpt(t.name) + " has dtype " +
                                                     dtype_name(t.dtype) + "; only floating-point parameters convert");
    }
    kept.push_back(&t);
  }
  // Same header layout as write_safetensors: metadata, then tensors with consecutive offsets,
  // padded with spaces so the data starts 8-byte aligned.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}, {"converted_by", "hooklab convert"}};
  uint64_t offset = 0;
  for (const TensorInfo* t : kept) {
    const uint64_t bytes = static_cast<uint64_t>(t->numel()) * dtype_size(dtype);
    header[t->name] = {{"dtype", dtype_name(dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return io_error(path, "cannot create file");
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::vector<float> values;
  std::vector<uint8_t> encoded;
  for (const TensorInfo* t : kept) {
    values.resize(static_cast<size_t>(t->numel()));
    HOOKLAB_RETURN_IF_ERROR(in.read_f32(*t, 0, t->numel(), values.data()));
    HOOKLAB_RETURN_IF_ERROR(encode(values.data(), t->numel(), dtype, t->name, encoded));
    out.write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
  }
  out.flush();
  if (!out) return io_error(path, "write failed (disk full?)");
  return WrittenWeights{static_cast<int>(kept.size()), 8 + text.size() + offset};
}

bool same_directory(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec)) return true;
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// Moves the staged files into `out`: a rename of the whole directory when `out` is new (or an
// empty directory), else one rename per file with model.safetensors last.
Status publish(StagingDir& staging, const fs::path& out) {
  std::error_code ec;
  if (fs::is_directory(out, ec) && fs::is_empty(out, ec)) fs::remove(out, ec);
  if (!fs::exists(out, ec)) {
    fs::rename(staging.path(), out, ec);
    if (ec) return io_error(out, "cannot move the converted model into place (" + ec.message() + ")");
    staging.commit();
    return {};
  }
  if (!fs::is_directory(out, ec)) return io_error(out, "exists and is not a directory");
  std::vector<fs::path> staged;
  for (const auto& entry : fs::directory_iterator(staging.path(), ec)) staged.push_back(entry.path());
  std::stable_partition(staged.begin(), staged.end(),
                        [](const fs::path& p) { return p.filename() != "model.safetensors"; });
  for (const fs::path& file : staged) {
    fs::rename(file, out / file.filename(), ec);
    if (ec) return io_error(out / file.filename(), "cannot move into place (" + ec.message() + ")");
  }
  return {};
}

}  // namespace

Status convert_command(const std::vector<std::string>& argv) {
  HOOKLAB_ASSIGN_OR_RETURN(Arguments args, Arguments::parse(argv, {"model", "out", "dtype", "tokenizer"}, {}));
  HOOKLAB_ASSIGN_OR_RETURN(std::string model_dir, args.require("model"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string out_arg, args.require("out"));
  HOOKLAB_ASSIGN_OR_RETURN(std::string dtype_arg, args.require("dtype"));
  HOOKLAB_ASSIGN_OR_RETURN(DType dtype, parse_dtype(dtype_arg));
  const fs::path in(model_dir);
  fs::path out = fs::path(out_arg).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();  // "dir/" names dir
  if (same_directory(in, out)) {
    return usage_error("--out " + out_arg + " is the input directory; convert never overwrites its input");
  }

  // Validate with the core's own loader (unprocessed, reference backend: nothing packed twice),
  // then free the model before streaming the tensors.
  {
    LoadOptions options;
    options.processing = ProcessingOptions::none();
    options.backend = BackendKind::kReference;
    options.model_name = model_dir;
    HOOKLAB_ASSIGN_OR_RETURN(ModelFiles files, read_model_directory(model_dir, tokenizer_dir(args)));
    HOOKLAB_ASSIGN_OR_RETURN(auto model, HookedTransformer::load(files, options));
  }
  const fs::path weights_in = in / "model.safetensors";
  HOOKLAB_ASSIGN_OR_RETURN(auto source, open_file_source(weights_in.string()));
  HOOKLAB_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(source));

  std::error_code ec;
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) return io_error(parent, "cannot create directory (" + ec.message() + ")");
  StagingDir staging(parent / ("." + out.filename().string() + ".hooklab-convert-" + std::to_string(::getpid())));
  fs::remove_all(staging.path(), ec);
  fs::create_directory(staging.path(), ec);
  if (ec) return io_error(staging.path(), "cannot create directory (" + ec.message() + ")");

  HOOKLAB_ASSIGN_OR_RETURN(WrittenWeights written,
                           write_converted_weights(file, dtype, staging.path() / "model.safetensors"));
  fs::copy_file(in / "config.json", staging.path() / "config.json", ec);
  if (ec) return io_error(in / "config.json", "cannot copy (" + ec.message() + ")");
  for (const auto& entry : fs::directory_iterator(in, ec)) {
    const std::string name = entry.path().filename().string();
    const bool listed = std::find(std::begin(kCopiedFiles), std::end(kCopiedFiles), name) != std::end(kCopiedFiles);
    if (!entry.is_regular_file() || !(listed || name.rfind("README", 0) == 0)) continue;
    fs::copy_file(entry.path(), staging.path() / name, ec);
    if (ec) return io_error(entry.path(), "cannot copy (" + ec.message() + ")");
  }
  HOOKLAB_RETURN_IF_ERROR(publish(staging, out));

  print_json({{"out", out.string()},
              {"dtype", dtype_arg},
              {"tensors", written.tensors},
              {"bytes_in", source->size()},
              {"bytes_out", written.bytes}});
  return {};
}

}  // namespace hooklab::cli
