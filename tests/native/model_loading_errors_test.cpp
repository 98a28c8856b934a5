// Malformed model files and directories: each must give one clear error that names the file
// and, where there is one, the tensor or field — never a crash, abort or hang. The broken
// files are derived from the committed tiny-c model by editing its header or bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "hooklab/hooked_transformer.h"
#include "test_support.h"

namespace hooklab::testing {
namespace {

using nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The valid tiny-c model split into header JSON and data bytes, for editing.
struct ModelParts {
  std::string config;
  json header;
  std::string data;
  std::string vocab;
  std::string merges;
};

const ModelParts& valid_parts() {
  static const ModelParts parts = [] {
    ModelParts p;
    p.config = slurp(repo_path("models/testdata/tiny-c/config.json"));
    const std::string file = slurp(repo_path("models/testdata/tiny-c/model.safetensors"));
    uint64_t n = 0;
    std::memcpy(&n, file.data(), 8);
    p.header = json::parse(file.substr(8, n));
    p.data = file.substr(8 + n);
    p.vocab = slurp(repo_path("models/tokenizer/encoder.json"));
    p.merges = slurp(repo_path("models/tokenizer/vocab.bpe"));
    return p;
  }();
  return parts;
}

std::vector<uint8_t> assemble(const std::string& header, const std::string& data) {
  std::vector<uint8_t> bytes(8 + header.size() + data.size());
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  std::memcpy(bytes.data() + 8 + header.size(), data.data(), data.size());
  return bytes;
}

Result<std::unique_ptr<HookedTransformer>> load_bytes(const std::string& config, std::vector<uint8_t> weights,
                                                      const std::string& vocab = valid_parts().vocab,
                                                      const LoadOptions& options = {}) {
  ModelFiles files;
  files.config_json = config;
  files.config_name = "config.json";
  files.weights = make_memory_source("model.safetensors", std::move(weights));
  files.vocab_json = vocab;
  files.merges = valid_parts().merges;
  return HookedTransformer::load(files, options);
}

Result<std::unique_ptr<HookedTransformer>> load_with_header(const json& header, const std::string& data) {
  return load_bytes(valid_parts().config, assemble(header.dump(), data));
}

std::string with_config(const std::function<void(json&)>& edit) {
  json config = json::parse(valid_parts().config);
  edit(config);
  return config.dump();
}

// Expects failure with the given code and every fragment somewhere in the message.
void expect_error(const Result<std::unique_ptr<HookedTransformer>>& result, ErrorCode code,
                  std::initializer_list<const char*> fragments) {
  ASSERT_FALSE(result.ok()) << "a malformed model loaded without error";
  EXPECT_EQ(result.error().code, code) << result.error().message;
  for (const char* f : fragments) {
    EXPECT_NE(result.error().message.find(f), std::string::npos)
        << "message lacks '" << f << "': " << result.error().message;
  }
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << "error messages are one line";
  EXPECT_LT(result.error().message.size(), 400u) << "error messages quote short excerpts: " << result.error().message;
}

// The valid header and data, with the header text edited (padding, a prefix) before assembly.
Result<std::unique_ptr<HookedTransformer>> load_with_header_text(const std::string& header_text,
                                                                 const std::string& data = valid_parts().data) {
  return load_bytes(valid_parts().config, assemble(header_text, data));
}

// Keeps the bytes claimed (the layout stays valid) under a name the loader does not look for.
void rename_tensor(json& header, const std::string& from, const std::string& to) {
  header[to] = header[from];
  header.erase(from);
}

// The name of the tensor whose data comes first in the file.
std::string first_tensor_by_offset(const json& header) {
  std::string first;
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    if (begin < lowest) {
      lowest = begin;
      first = name;
    }
  }
  return first;
}

// A file that claims `claimed_size` bytes without holding them: its first 8 bytes are
// `header_length`, every other byte reads as '{'. Records the largest read asked of it.
class ClaimedSizeSource : public ByteSource {
 public:
  ClaimedSizeSource(uint64_t claimed_size, uint64_t header_length)
      : claimed_size_(claimed_size), header_length_(header_length) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return claimed_size_; }
  Status read(uint64_t offset, void* dst, size_t n) const override {
    largest_read_ = std::max(largest_read_, n);
    auto* out = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t at = offset + i;
      out[i] = at < 8 ? static_cast<uint8_t>(header_length_ >> (8 * at)) : static_cast<uint8_t>('{');
    }
    return {};
  }
  size_t largest_read() const { return largest_read_; }

 private:
  std::string name_ = "model.safetensors";
  uint64_t claimed_size_;
  uint64_t header_length_;
  mutable size_t largest_read_ = 0;
};

TEST(ModelLoadingErrors, ValidPartsLoad) {
  const ModelParts& p = valid_parts();
  auto model = load_with_header(p.header, p.data);
  ASSERT_TRUE(model.ok()) << model.error().message;
}

TEST(ModelLoadingErrors, EmptyFile) {
  expect_error(load_bytes(valid_parts().config, {}), ErrorCode::kInvalidModel, {"model.safetensors", "too small"});
}

TEST(ModelLoadingErrors, ShorterThanLengthField) {
  expect_error(load_bytes(valid_parts().config, {1, 2, 3}), ErrorCode::kInvalidModel,
               {"model.safetensors", "too small"});
}

TEST(ModelLoadingErrors, HeaderLengthPastEndOfFile) {
  std::vector<uint8_t> bytes = assemble(valid_parts().header.dump(), valid_parts().data);
  const uint64_t huge = bytes.size();  // longer than what follows the length field
  std::memcpy(bytes.data(), &huge, 8);
  expect_error(load_bytes(valid_parts().config, bytes), ErrorCode::kInvalidModel, {"model.safetensors", "header"});
}

TEST(ModelLoadingErrors, HeaderLengthNearUint64Max) {
  std::vector<uint8_t> bytes = assemble(valid_parts().header.dump(), valid_parts().data);
  const uint64_t huge = std::numeric_limits<uint64_t>::max() - 3;
  std::memcpy(bytes.data(), &huge, 8);
  expect_error(load_bytes(valid_parts().config, bytes), ErrorCode::kInvalidModel, {"model.safetensors", "header"});
}

TEST(ModelLoadingErrors, HeaderIsNotJson) {
  expect_error(load_bytes(valid_parts().config, assemble("{\"wte.weight\": {\"dtype\": ", valid_parts().data)),
               ErrorCode::kInvalidModel, {"model.safetensors", "not valid JSON"});
}

TEST(ModelLoadingErrors, HeaderIsDeeplyNestedJson) {
  const std::string nested = std::string(200000, '[') + std::string(200000, ']');
  expect_error(load_bytes(valid_parts().config, assemble(nested, "")), ErrorCode::kInvalidModel,
               {"model.safetensors", "not a JSON object"});
}

TEST(ModelLoadingErrors, HeaderIsAnArray) {
  expect_error(load_bytes(valid_parts().config, assemble("[1, 2, 3]", valid_parts().data)), ErrorCode::kInvalidModel,
               {"model.safetensors", "not a JSON object"});
}

TEST(ModelLoadingErrors, UnknownDtype) {
  json h = valid_parts().header;
  h["wpe.weight"]["dtype"] = "F33";
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel,
               {"model.safetensors", "wpe.weight", "F33"});
}

TEST(ModelLoadingErrors, IntegerDtypeForAWeight) {
  json h = valid_parts().header;
  // Same byte size as BF16, so only the dtype is wrong.
  h["wpe.weight"]["dtype"] = "I16";
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"wpe.weight", "I16"});
}

TEST(ModelLoadingErrors, ByteSizeDisagreesWithShape) {
  json h = valid_parts().header;
  h["ln_f.weight"]["shape"] = json::array({21});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.weight", "bytes"});
}

TEST(ModelLoadingErrors, OffsetsPastTheData) {
  json h = valid_parts().header;
  const std::string data = valid_parts().data.substr(0, valid_parts().data.size() / 2);  // truncated download
  expect_error(load_with_header(h, data), ErrorCode::kInvalidModel, {"model.safetensors", "truncated"});
}

TEST(ModelLoadingErrors, OverlappingTensors) {
  json h = valid_parts().header;
  // The later of the two takes the earlier one's bytes, so the overlap comes before the gap it leaves.
  const bool weight_first = h["ln_f.weight"]["data_offsets"][0] < h["ln_f.bias"]["data_offsets"][0];
  const char* earlier = weight_first ? "ln_f.weight" : "ln_f.bias";
  const char* later = weight_first ? "ln_f.bias" : "ln_f.weight";
  h[later]["data_offsets"] = h[earlier]["data_offsets"];
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel,
               {"overlap", "ln_f.weight", "ln_f.bias"});
}

TEST(ModelLoadingErrors, NegativeOrReversedOffsets) {
  json h = valid_parts().header;
  h["ln_f.bias"]["data_offsets"] = json::array({-40, 0});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "data_offsets"});
  json r = valid_parts().header;
  const auto offsets = r["ln_f.bias"]["data_offsets"];
  r["ln_f.bias"]["data_offsets"] = json::array({offsets[1], offsets[0]});
  expect_error(load_with_header(r, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "begin > end"});
}

TEST(ModelLoadingErrors, MissingTensor) {
  json h = valid_parts().header;
  rename_tensor(h, "h.0.mlp.c_fc.weight", "unused.c_fc");
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"h.0.mlp.c_fc.weight", "missing"});
}

TEST(ModelLoadingErrors, NoEmbeddingAtAll) {
  json h = valid_parts().header;
  rename_tensor(h, "wte.weight", "unused.wte");
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"wte.weight", "GPT-2"});
}

TEST(ModelLoadingErrors, ShapeInconsistentWithConfig) {
  const std::string config = with_config([](json& c) { c["n_inner"] = 40; });
  expect_error(load_bytes(config, assemble(valid_parts().header.dump(), valid_parts().data)), ErrorCode::kInvalidModel,
               {"h.0.mlp.c_fc.weight", "[20, 36]", "[20, 40]"});
}

TEST(ModelLoadingErrors, MoreLayersInFileThanInConfig) {
  json h = valid_parts().header;
  h["h.3.ln_1.weight"] = h["h.0.ln_1.weight"];
  h["h.3.ln_1.weight"]["data_offsets"] = json::array({0, 0});
  h["h.3.ln_1.weight"]["shape"] = json::array({0});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"h.3.ln_1.weight", "n_layer = 1"});
}

TEST(ModelLoadingErrors, NonFiniteWeights) {
  std::string data = valid_parts().data;
  const auto& ln = valid_parts().header["ln_f.weight"]["data_offsets"];
  const uint16_t bf16_nan = 0x7fc1;
  std::memcpy(data.data() + ln[0].get<size_t>() + 2, &bf16_nan, 2);
  expect_error(load_with_header(valid_parts().header, data), ErrorCode::kInvalidModel, {"ln_f.weight", "non-finite"});
}

// f16 weights in memory cannot hold a weight beyond 65504 (here 99840 in the bf16 file): the load
// says which tensor and how to load it instead; in f32 the same file loads.
TEST(ModelLoadingErrors, WeightOutsideTheF16RangeWithF16Weights) {
  std::string data = valid_parts().data;
  const auto& fc = valid_parts().header["h.0.mlp.c_fc.weight"]["data_offsets"];
  const uint16_t bf16_99840 = 0x47c3;
  std::memcpy(data.data() + fc[0].get<size_t>() + 6, &bf16_99840, 2);
  LoadOptions f16;
  f16.weight_precision = WeightPrecision::kF16;
  for (const ProcessingOptions& processing : {ProcessingOptions{}, ProcessingOptions::none()}) {
    f16.processing = processing;
    expect_error(
        load_bytes(valid_parts().config, assemble(valid_parts().header.dump(), data), valid_parts().vocab, f16),
        ErrorCode::kInvalidModel, {"h.0.mlp.c_fc.weight", "f16 range", "f32 weights"});
  }
  EXPECT_TRUE(load_with_header(valid_parts().header, data).ok());
}

// The classes below are files the reference implementation (huggingface/safetensors) refuses.
TEST(ModelLoadingErrors, BytesAfterTheLastTensor) {
  expect_error(load_with_header_text(valid_parts().header.dump(), valid_parts().data + "trailing"),
               ErrorCode::kInvalidModel, {"model.safetensors", "8 bytes after its last tensor"});
}

TEST(ModelLoadingErrors, GapInTheDataSection) {
  json h = valid_parts().header;
  const std::string first = first_tensor_by_offset(h);
  const auto offsets = h[first]["data_offsets"];
  h.erase(first);  // its bytes stay: a gap no tensor claims
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel,
               {"model.safetensors", std::to_string(offsets[1].get<uint64_t>()).c_str(), "gap"});
}

TEST(ModelLoadingErrors, MetadataValuesMustBeStrings) {
  json h = valid_parts().header;
  h["__metadata__"] = {{"format", "pt"}, {"step", 1000}};
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel,
               {"__metadata__", "step", "not a string"});
  h["__metadata__"] = json::array({"pt"});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"__metadata__", "not an object"});
}

TEST(ModelLoadingErrors, MetadataNullOrStringsLoad) {
  json h = valid_parts().header;
  h["__metadata__"] = nullptr;  // the reference reads null as "no metadata"
  auto with_null = load_with_header(h, valid_parts().data);
  EXPECT_TRUE(with_null.ok()) << with_null.error().message;
  h["__metadata__"] = {{"format", "pt"}, {"note", "\u00e9t\u00e9"}};
  auto with_strings = load_with_header(h, valid_parts().data);
  EXPECT_TRUE(with_strings.ok()) << with_strings.error().message;
}

TEST(ModelLoadingErrors, ByteOrderMarkBeforeTheHeader) {
  expect_error(load_with_header_text("\xEF\xBB\xBF" + valid_parts().header.dump()), ErrorCode::kInvalidModel,
               {"model.safetensors", "byte-order mark"});
}

TEST(ModelLoadingErrors, NulPaddingInTheHeader) {
  expect_error(load_with_header_text(valid_parts().header.dump() + std::string(5, '\0')), ErrorCode::kInvalidModel,
               {"model.safetensors", "NUL"});
  // Everything after a NUL used to be ignored: a second header hidden there must not matter.
  expect_error(load_with_header_text(valid_parts().header.dump() + std::string(1, '\0') + "{\"x\": 1}"),
               ErrorCode::kInvalidModel, {"NUL"});
}

TEST(ModelLoadingErrors, WhitespacePaddingLoads) {
  // Writers pad with spaces to align the data; JSON's other whitespace, after or before the
  // object, is accepted too, as by the reference's JSON parser.
  for (const char* padding : {"       ", " \n", "\t\r\n "}) {
    auto after = load_with_header_text(valid_parts().header.dump() + padding);
    EXPECT_TRUE(after.ok()) << after.error().message;
    auto before = load_with_header_text(padding + valid_parts().header.dump());
    EXPECT_TRUE(before.ok()) << before.error().message;
  }
}

TEST(ModelLoadingErrors, HeaderThatIsNotUtf8) {
  json h = valid_parts().header;
  h["__metadata__"] = {{"format", "PLACEHOLDER"}};
  std::string text = h.dump();
  text.replace(text.find("PLACEHOLDER"), 11, "\xC3\x28");
  expect_error(load_with_header_text(text), ErrorCode::kInvalidModel, {"model.safetensors", "UTF-8"});
}

TEST(ModelLoadingErrors, HeaderClaiming4GBIsRefusedBeforeAllocation) {
  // The source claims 5 GB, so only the header limit stands between the claim and a 4 GB
  // allocation; the header is allocated just before it is read, so a read of more than the
  // 8-byte length field would mean the claim was believed.
  auto source = std::make_shared<ClaimedSizeSource>(5ull << 30, 4ull << 30);
  ModelFiles files;
  files.config_json = valid_parts().config;
  files.config_name = "config.json";
  files.weights = source;
  files.vocab_json = valid_parts().vocab;
  files.merges = valid_parts().merges;
  expect_error(HookedTransformer::load(files, LoadOptions{}), ErrorCode::kInvalidModel,
               {"model.safetensors", "4294967296-byte header", "100,000,000"});
  EXPECT_EQ(source->largest_read(), 8u);
}

TEST(ModelLoadingErrors, OverflowingShapeProducts) {
  json h = valid_parts().header;
  h["ln_f.bias"]["shape"] = json::array({1ull << 32, 1ull << 32, 1ull << 32});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "overflows"});
  // Multiplied in order like the reference: a zero after an overflow does not rescue it.
  h["ln_f.bias"]["shape"] = json::array({1ull << 40, 1ull << 40, 0});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "overflows"});
  // The element count fits, its byte size does not.
  h["ln_f.bias"]["shape"] = json::array({1ull << 62});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "byte size overflows"});
  h["ln_f.bias"]["shape"] = json::array({std::numeric_limits<uint64_t>::max()});
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"ln_f.bias", "overflows"});
}

TEST(ModelLoadingErrors, OverlapHiddenBehindAnEmptyTensor) {
  json h = valid_parts().header;
  const std::string first = first_tensor_by_offset(h);
  h["empty"] = {{"dtype", "F32"}, {"shape", json::array({0})}, {"data_offsets", json::array({0, 0})}};
  h["again"] = h[first];  // the same bytes claimed twice
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel, {"overlap"});
}

TEST(ModelLoadingErrors, LongValuesAreQuotedAsShortExcerpts) {
  const std::string huge(50u << 20, 'x');
  expect_error(load_bytes(with_config([&](json& c) { c["model_type"] = huge; }), {}), ErrorCode::kInvalidModel,
               {"config.json", "model_type", "xxxx\u2026"});
  expect_error(load_bytes(with_config([&](json& c) { c["activation_function"] = "relu\n" + huge; }), {}),
               ErrorCode::kInvalidModel, {"activation_function", "relu\\x0Axxx"});
  const std::string long_name(1u << 20, 'n');
  json h = valid_parts().header;
  rename_tensor(h, "ln_f.bias", long_name);
  h[long_name]["dtype"] = long_name;
  expect_error(load_with_header(h, valid_parts().data), ErrorCode::kInvalidModel,
               {"model.safetensors", "unknown dtype"});
}

TEST(ModelLoadingErrors, ConfigNotJson) {
  expect_error(load_bytes("{\"n_embd\": 20,", {}), ErrorCode::kInvalidModel, {"config.json", "not valid JSON"});
}

TEST(ModelLoadingErrors, ConfigMissingField) {
  expect_error(load_bytes(with_config([](json& c) { c.erase("n_embd"); }), {}), ErrorCode::kInvalidModel,
               {"config.json", "n_embd"});
}

TEST(ModelLoadingErrors, ConfigHeadsDoNotDivideWidth) {
  expect_error(load_bytes(with_config([](json& c) { c["n_head"] = 3; }), {}), ErrorCode::kInvalidModel,
               {"config.json", "n_head = 3", "n_embd = 20"});
}

TEST(ModelLoadingErrors, ConfigNonPositiveOrAbsurdSizes) {
  expect_error(load_bytes(with_config([](json& c) { c["n_layer"] = 0; }), {}), ErrorCode::kInvalidModel, {"n_layer"});
  expect_error(load_bytes(with_config([](json& c) { c["n_embd"] = "20"; }), {}), ErrorCode::kInvalidModel,
               {"n_embd", "integer"});
  expect_error(load_bytes(with_config([](json& c) { c["vocab_size"] = 1LL << 40; }), {}), ErrorCode::kInvalidModel,
               {"vocab_size", "maximum"});
}

TEST(ModelLoadingErrors, ConfigOfAnotherArchitecture) {
  expect_error(load_bytes(with_config([](json& c) { c["model_type"] = "llama"; }), {}), ErrorCode::kInvalidModel,
               {"model_type", "gpt2"});
  expect_error(load_bytes(with_config([](json& c) { c["activation_function"] = "relu"; }), {}),
               ErrorCode::kInvalidModel, {"activation_function", "relu"});
}

TEST(ModelLoadingErrors, VocabularySmallerThanTokenizer) {
  expect_error(load_bytes(with_config([](json& c) { c["vocab_size"] = 1000; }),
                          assemble(valid_parts().header.dump(), valid_parts().data)),
               ErrorCode::kInvalidModel, {"vocab_size = 1000"});
}

TEST(ModelLoadingErrors, MalformedTokenizerFiles) {
  auto result =
      load_bytes(valid_parts().config, assemble(valid_parts().header.dump(), valid_parts().data), "{not json");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidModel) << result.error().message;
}

TEST(ModelLoadingErrors, DirectoryProblems) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "hooklab-bad-model-dir";
  fs::remove_all(dir);
  auto missing = read_model_directory(dir.string(), repo_path("models/tokenizer"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("not a directory"), std::string::npos) << missing.error().message;

  fs::create_directories(dir);
  auto no_config = read_model_directory(dir.string(), repo_path("models/tokenizer"));
  ASSERT_FALSE(no_config.ok());
  EXPECT_NE(no_config.error().message.find("config.json"), std::string::npos) << no_config.error().message;

  std::ofstream(dir / "config.json") << valid_parts().config;
  std::ofstream(dir / "pytorch_model.bin") << "pickle";
  auto no_weights = read_model_directory(dir.string(), repo_path("models/tokenizer"));
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.error().message.find("model.safetensors"), std::string::npos) << no_weights.error().message;
  EXPECT_NE(no_weights.error().message.find("pytorch_model.bin"), std::string::npos) << no_weights.error().message;
  fs::remove_all(dir);
}

}  // namespace
// HookedTransformer::weights_bytes, known from config.json alone, is exactly what load()
// allocates, for every committed test model (attention-only among them) and both processings.
TEST(ModelLoadingErrors, WeightsBytesFromTheConfigMatchTheLoad) {
  for (const char* dir : {"models/testdata/tiny-a", "models/testdata/tiny-attn", "models/testdata/tiny-c"}) {
    const std::string config = read_json_file(repo_path(std::string(dir) + "/config.json")).dump();
    for (const ProcessingOptions& processing : {ProcessingOptions{}, ProcessingOptions::none()}) {
      int64_t f32_bytes = 0;
      for (WeightPrecision precision : kWeightPrecisions) {
        LoadOptions options;
        options.processing = processing;
        options.weight_precision = precision;
        auto model = load_repo_model(dir, options);
        ASSERT_TRUE(model.ok()) << dir << ": " << model.error().message;
        auto bytes = HookedTransformer::weights_bytes(config, "config.json", processing, precision);
        ASSERT_TRUE(bytes.ok()) << bytes.error().message;
        EXPECT_EQ(bytes.value(), static_cast<int64_t>(model.value()->weights().bytes())) << dir;
        // f16 halves the matrices and W_E; W_pos and the vectors stay f32.
        if (precision == WeightPrecision::kF32) {
          f32_bytes = bytes.value();
        } else {
          EXPECT_LT(bytes.value(), f32_bytes) << dir;
        }
      }
    }
  }
  // GPT-2 XL's config: 1.56 G parameters plus the processed unembedding, over 6 GB in float32.
  const std::string xl = R"({"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_ctx": 1024,
    "n_embd": 1600, "n_layer": 48, "n_head": 25, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"})";
  auto xl_bytes = HookedTransformer::weights_bytes(xl, "config.json", ProcessingOptions{});
  ASSERT_TRUE(xl_bytes.ok()) << xl_bytes.error().message;
  EXPECT_GT(xl_bytes.value(), int64_t{6} * 1000 * 1000 * 1000);
  EXPECT_LT(xl_bytes.value(), int64_t{7} * 1000 * 1000 * 1000);
  // With f16 weights GPT-2 XL's fall under 4 GB: 3.27 GB, W_pos and the vectors in f32 included.
  auto xl_f16 = HookedTransformer::weights_bytes(xl, "config.json", ProcessingOptions{}, WeightPrecision::kF16);
  ASSERT_TRUE(xl_f16.ok()) << xl_f16.error().message;
  EXPECT_GT(xl_f16.value(), int64_t{3} * 1000 * 1000 * 1000);
  EXPECT_LT(xl_f16.value(), int64_t{4} * 1000 * 1000 * 1000);
  EXPECT_FALSE(HookedTransformer::weights_bytes("{\"n_layer\": -1}", "config.json", ProcessingOptions{}).ok());
}

}  // namespace hooklab::testing
