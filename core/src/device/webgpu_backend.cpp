// Each op packs its parameters into a struct laid out exactly as the `Params` struct of its
// WGSL kernel (all 4-byte scalars, same order) and dispatches that kernel with its storage
// buffers in binding order (binding 0 is the params; outputs come first).
#include "device/webgpu_backend.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <vector>

extern "C" {
// wasm/webgpu/hooklab_webgpu.js
int hooklab_gpu_ready();
double hooklab_gpu_limit(int which);  // 0: maxStorageBufferBindingSize, 1: maxBufferSize
uint32_t hooklab_gpu_create_buffer(double bytes);
void hooklab_gpu_release_buffer(uint32_t id);
void hooklab_gpu_write(uint32_t id, double byte_offset, const void* data, double bytes);
void hooklab_gpu_read(uint32_t id, double byte_offset, void* dst, double bytes);
void hooklab_gpu_dispatch(const char* kernel, const uint32_t* buffers, int n_buffers, const void* params,
                          int params_bytes, uint32_t groups_x, uint32_t groups_y);
}

namespace hooklab {
namespace {

constexpr int64_t kWorkgroupSize = 64;  // every kernel's @workgroup_size
constexpr int64_t kMaxGroupsPerDimension = 65535;

using u32 = uint32_t;
u32 u(int64_t v) { return static_cast<u32>(v); }

class WebgpuBackend final : public DeviceBackend {
 public:
  explicit WebgpuBackend(std::string name) : name_(std::move(name)) {
    limits_.max_binding_bytes = static_cast<int64_t>(hooklab_gpu_limit(0));
    limits_.max_buffer_bytes = static_cast<int64_t>(hooklab_gpu_limit(1));
  }
  ~WebgpuBackend() override {
    if (scratch_ != kNoDeviceBuffer) hooklab_gpu_release_buffer(scratch_);
    if (input_dummy_ != kNoDeviceBuffer) hooklab_gpu_release_buffer(input_dummy_);
  }

  std::string name() const override { return name_; }
  DeviceLimits limits() const override { return limits_; }
  Status status() const override {
    if (hooklab_gpu_ready() != 0) return {};
    return make_error(ErrorCode::kUnsupported, "the WebGPU device was lost");
  }

  using DeviceBackend::release;
  Result<DeviceBufferId> allocate(int64_t floats) override {
    const int64_t bytes = std::max<int64_t>(floats, 4) * 4;
    if (bytes > limits_.max_binding_bytes || bytes > limits_.max_buffer_bytes) {
      return make_error(ErrorCode::kOutOfMemory, "a device buffer of " + std::to_string(bytes) +
                                                     " bytes exceeds this GPU's binding limit of " +
                                                     std::to_string(limits_.max_binding_bytes) + " bytes");
    }
    const u32 id = hooklab_gpu_create_buffer(static_cast<double>(bytes));
    if (id == 0) return make_error(ErrorCode::kUnsupported, "the WebGPU device was lost");
    return id;
  }
  void release(DeviceBufferId buffer) override { hooklab_gpu_release_buffer(buffer); }
  void upload(DeviceSpan dst, const void* host, int64_t count) override {
    hooklab_gpu_write(dst.buffer, static_cast<double>(dst.offset) * 4, host, static_cast<double>(count) * 4);
  }
  void request_readback(DeviceSpan src, float* host, int64_t count) override {
    hooklab_gpu_read(src.buffer, static_cast<double>(src.offset) * 4, host, static_cast<double>(count) * 4);
  }

  void matmul(const DeviceMatmulArgs& a) override {
    const DeviceMatrix& w = *a.w;
    for (const DeviceMatrix::Window& win : w.windows) {
      const int64_t col_begin = win.panel_begin * kPanelWidth;
      const int64_t n_valid = std::min(w.cols, win.panel_end * kPanelWidth) - col_begin;
      const int64_t panels = win.panel_end - win.panel_begin;
      const bool bias = a.add_bias && w.bias != kNoDeviceBuffer;
      const u32 params[] = {u(a.m),    u(a.k_end - a.k_begin), u(a.k_begin), u(w.rows),    u(a.a.offset),
                            u(a.a.ld), u(a.c.offset),          u(a.c.ld),    u(col_begin), u(n_valid),
                            u(panels), bias ? 1u : 0u};
      dispatch("matmul_packed", {a.c.buffer, a.a.buffer, win.buffer, bias ? w.bias : input_dummy()}, params,
               sizeof(params), u((panels + kWorkgroupSize - 1) / kWorkgroupSize), u((a.m + 3) / 4));
    }
  }

  void layer_norm(const DeviceLayerNormArgs& a) override {
    const bool scale = a.scale_out.buffer != kNoDeviceBuffer, affine = a.w != kNoDeviceBuffer;
    struct {
      u32 rows, dim, x_offset, ldx, y_offset, ldy, scale_offset, has_scale, has_affine;
      float eps;
      u32 pad[2];
    } p{u(a.rows),       u(a.dim),         u(a.x.offset), u(a.x.ld), u(a.y.offset), u(a.y.ld), u(a.scale_out.offset),
        scale ? 1u : 0u, affine ? 1u : 0u, a.eps,         {0, 0}};
    dispatch_rows("layer_norm_rows",
                  {a.y.buffer, scale ? a.scale_out.buffer : output_dummy(), a.x.buffer, affine ? a.w : input_dummy(),
                   affine ? a.b : input_dummy()},
                  &p, sizeof(p), a.rows);
  }

  void gelu_new(DeviceSpan y, DeviceSpan x, int64_t n) override {
    const u32 p[] = {u(n), u(y.offset), u(x.offset), 0};
    dispatch_linear("gelu_new", {y.buffer, x.buffer}, p, sizeof(p), n);
  }

  void attention_scores(const DeviceAttentionScoresArgs& a) override {
    struct {
      u32 batch, heads, d_head, nq, nk, q_begin, q_offset, ldq, q_batch, k_offset, ldk, k_batch, s_offset, s_batch;
      float attn_scale, neg_inf;
    } p{u(a.batch),
        u(a.n_heads),
        u(a.d_head),
        u(a.nq),
        u(a.nk),
        u(a.q_begin),
        u(a.q.offset),
        u(a.q.ld),
        u(a.q.batch_stride),
        u(a.k.offset),
        u(a.k.ld),
        u(a.k.batch_stride),
        u(a.scores.offset),
        u(a.scores.batch_stride),
        a.attn_scale,
        -std::numeric_limits<float>::infinity()};
    dispatch_linear("attention_scores", {a.scores.buffer, a.q.buffer, a.k.buffer}, &p, sizeof(p),
                    a.batch * a.n_heads * a.nq * a.nk);
  }

  void softmax_rows(DeviceSpan y, DeviceSpan x, int64_t rows, int64_t n) override {
    const u32 p[] = {u(rows), u(n), u(y.offset), u(x.offset)};
    dispatch_rows("softmax_rows", {y.buffer, x.buffer}, p, sizeof(p), rows);
  }

  void attention_mix(const DeviceAttentionMixArgs& a) override {
    const u32 p[] = {u(a.batch),
                     u(a.n_heads),
                     u(a.d_head),
                     u(a.nq),
                     u(a.nk),
                     u(a.z.offset),
                     u(a.z.ld),
                     u(a.z.batch_stride),
                     u(a.pattern.offset),
                     u(a.pattern.batch_stride),
                     u(a.v.offset),
                     u(a.v.ld),
                     u(a.v.batch_stride),
                     0,
                     0,
                     0};
    dispatch_linear("attention_mix", {a.z.buffer, a.pattern.buffer, a.v.buffer}, p, sizeof(p),
                    a.batch * a.nq * a.n_heads * a.d_head);
  }

  void add(DeviceSpan out, DeviceSpan a, DeviceSpan b, int64_t n) override {
    const u32 p[] = {u(n), u(out.offset), u(a.offset), u(b.offset)};
    dispatch_linear("add_vectors", {out.buffer, a.buffer, b.buffer}, p, sizeof(p), n);
  }

  void copy_rows(DeviceRows dst, DeviceRows src, int64_t batch, int64_t rows, int64_t cols) override {
    const u32 p[] = {u(batch),
                     u(rows),
                     u(cols),
                     u(dst.offset),
                     u(dst.ld),
                     u(dst.batch_stride),
                     u(src.offset),
                     u(src.ld),
                     u(src.batch_stride),
                     0,
                     0,
                     0};
    dispatch_linear("copy_rows", {dst.buffer, src.buffer}, p, sizeof(p), batch * rows * cols);
  }

  void embed(DeviceRows out, DeviceSpan tokens, int64_t count, const DeviceTable& table) override {
    for (const DeviceTable::Window& win : table.windows) {
      const u32 p[] = {u(count),         u(table.cols),  u(out.offset),    u(out.ld),
                       u(win.row_begin), u(win.row_end), u(tokens.offset), 0};
      dispatch_linear("embed_tokens", {out.buffer, tokens.buffer, win.buffer}, p, sizeof(p), count * table.cols);
    }
  }

  void sum_heads(DeviceRows out, DeviceSpan result, DeviceBufferId bias, int64_t rows, int64_t n_heads,
                 int64_t dim) override {
    const u32 p[] = {u(rows), u(n_heads), u(dim), u(out.offset), u(out.ld), u(result.offset), 0, 0};
    dispatch_linear("sum_heads", {out.buffer, result.buffer, bias}, p, sizeof(p), rows * dim);
  }

  void gather_columns(DeviceSpan dst, DeviceRows src, int64_t rows, DeviceSpan columns, int64_t n_columns) override {
    const u32 p[] = {u(rows), u(n_columns), u(dst.offset), u(src.offset), u(src.ld), u(columns.offset), 0, 0};
    dispatch_linear("gather_columns", {dst.buffer, src.buffer, columns.buffer}, p, sizeof(p), rows * n_columns);
  }

  void replace_boxes(const DeviceReplaceArgs& a) override {
    const u32 p[] = {u(a.batch),
                     u(a.outer),
                     u(a.rows),
                     u(a.cols),
                     u(a.dst.offset),
                     u(a.dst.batch_stride),
                     u(a.dst_outer_stride),
                     u(a.dst.ld),
                     u(a.src.offset),
                     u(a.src_outer_stride),
                     u(a.src.ld),
                     u(a.boxes.offset)};
    dispatch_linear("replace_boxes", {a.dst.buffer, a.src.buffer, a.boxes.buffer}, p, sizeof(p),
                    a.batch * a.outer * a.rows * a.cols);
  }

 private:
  void dispatch(const char* kernel, std::initializer_list<DeviceBufferId> buffers, const void* params, size_t bytes,
                u32 groups_x, u32 groups_y) {
    if (groups_x == 0 || groups_y == 0) return;
    const std::vector<u32> ids(buffers.begin(), buffers.end());
    hooklab_gpu_dispatch(kernel, ids.data(), static_cast<int>(ids.size()), params, static_cast<int>(bytes), groups_x,
                         groups_y);
  }
  // `units` workgroups (rows, or blocks of kWorkgroupSize invocations) folded into two
  // dimensions: a dimension holds at most 65535 workgroups.
  void dispatch_groups(const char* kernel, std::initializer_list<DeviceBufferId> buffers, const void* params,
                       size_t bytes, int64_t groups) {
    const int64_t x = std::min(groups, kMaxGroupsPerDimension);
    dispatch(kernel, buffers, params, bytes, u(x), u(x == 0 ? 0 : (groups + x - 1) / x));
  }
  void dispatch_linear(const char* kernel, std::initializer_list<DeviceBufferId> buffers, const void* params,
                       size_t bytes, int64_t invocations) {
    dispatch_groups(kernel, buffers, params, bytes, (invocations + kWorkgroupSize - 1) / kWorkgroupSize);
  }
  void dispatch_rows(const char* kernel, std::initializer_list<DeviceBufferId> buffers, const void* params,
                     size_t bytes, int64_t rows) {
    dispatch_groups(kernel, buffers, params, bytes, rows);
  }

  // Bindings a kernel declares but this call does not use (no bias, no scale output):
  // WebGPU needs a buffer there; outputs must not alias any input.
  DeviceBufferId input_dummy() { return dummy(input_dummy_); }
  DeviceBufferId output_dummy() { return dummy(scratch_); }
  DeviceBufferId dummy(DeviceBufferId& id) {
    if (id == kNoDeviceBuffer) id = hooklab_gpu_create_buffer(16);
    return id;
  }

  std::string name_;
  DeviceLimits limits_;
  DeviceBufferId input_dummy_ = kNoDeviceBuffer;
  DeviceBufferId scratch_ = kNoDeviceBuffer;
};

}  // namespace

Result<std::unique_ptr<DeviceBackend>> make_webgpu_backend(std::string name) {
  if (hooklab_gpu_ready() == 0) return make_error(ErrorCode::kUnsupported, "no WebGPU device is attached");
  return std::unique_ptr<DeviceBackend>(new WebgpuBackend(std::move(name)));
}

}  // namespace hooklab
