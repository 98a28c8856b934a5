// The device seam: the hooked forward pass and patching on an accelerator whose memory the
// host reaches only through copies (WebGPU). It mirrors backend.h's kernels, but on device
// buffers named by opaque ids instead of host pointers.
//
// Execution model (what makes a synchronous C++ caller work with an asynchronous GPU):
//   - allocate/upload/ops only *encode* work; they return at once and never wait.
//   - request_readback() registers a copy device -> host that happens at the next flush.
//   - the flush (one batched readback, awaited in JavaScript, outside C++) submits the
//     work, copies every requested range into the host memory given, and only then may the
//     host read it. A buffer with a pending readback is not written again before the flush.
// Ops run in the order they were encoded; each op's writes are visible to the next op.
// An op's output buffer must not also be one of its inputs (WebGPU forbids a buffer bound as
// writable storage and read-only storage in the same dispatch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hooklab/packed_matrix.h"
#include "hooklab/status.h"
#include "hooklab/weights.h"

namespace hooklab {

using DeviceBufferId = uint32_t;
inline constexpr DeviceBufferId kNoDeviceBuffer = 0;

// `offset` floats into a device buffer.
struct DeviceSpan {
  DeviceBufferId buffer = kNoDeviceBuffer;
  int64_t offset = 0;
};

// Row-major rows in a device buffer: row r of sequence b starts at
// offset + b * batch_stride + r * ld. batch_stride 0: every sequence reads the same rows.
struct DeviceRows {
  DeviceBufferId buffer = kNoDeviceBuffer;
  int64_t offset = 0;
  int64_t ld = 0;
  int64_t batch_stride = 0;

  DeviceRows shifted(int64_t floats) const { return {buffer, offset + floats, ld, batch_stride}; }
  DeviceSpan span() const { return {buffer, offset}; }
};

// A PackedMatrix on the device, split into windows of whole panels so that no window
// exceeds the storage-buffer binding limit (GPT-2's 768 x 50257 unembedding is 154 MB).
struct DeviceMatrix {
  struct Window {
    DeviceBufferId buffer = kNoDeviceBuffer;
    int64_t panel_begin = 0;
    int64_t panel_end = 0;
  };
  std::vector<Window> windows;
  int64_t rows = 0;                       // K
  int64_t cols = 0;                       // N
  DeviceBufferId bias = kNoDeviceBuffer;  // padded_cols floats, or none
};

// A row-major table (the token embedding W_E) split into windows of whole rows.
struct DeviceTable {
  struct Window {
    DeviceBufferId buffer = kNoDeviceBuffer;
    int64_t row_begin = 0;
    int64_t row_end = 0;
  };
  std::vector<Window> windows;
  int64_t rows = 0;
  int64_t cols = 0;
};

// c[i, n] = sum_{k in [k_begin, k_end)} a[i, k - k_begin] * w(k, n) (+ bias[n]), i < m.
struct DeviceMatmulArgs {
  DeviceRows c;
  DeviceRows a;
  int64_t m = 0;
  const DeviceMatrix* w = nullptr;
  int64_t k_begin = 0;
  int64_t k_end = 0;
  bool add_bias = true;
};

// backend.h's LayerNormArgs on device rows; no scale output when scale_out.buffer is none,
// LayerNormPre when w is none.
struct DeviceLayerNormArgs {
  DeviceRows y;
  DeviceSpan scale_out;
  DeviceRows x;
  DeviceBufferId w = kNoDeviceBuffer;
  DeviceBufferId b = kNoDeviceBuffer;
  int64_t rows = 0;
  int64_t dim = 0;
  float eps = 1e-5f;
};

// backend.h's attention ops for `batch` independent sequences. scores/pattern of sequence b
// are [n_heads, nq, nk] at offset + b * batch_stride; q/k/v/z rows as DeviceRows.
struct DeviceAttentionScoresArgs {
  DeviceRows scores;  // ld unused
  DeviceRows q;
  DeviceRows k;
  int64_t batch = 1;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
  int64_t q_begin = 0;
  float attn_scale = 1.0f;
};

struct DeviceAttentionMixArgs {
  DeviceRows z;
  DeviceRows pattern;  // ld unused
  DeviceRows v;
  int64_t batch = 1;
  int64_t n_heads = 0;
  int64_t d_head = 0;
  int64_t nq = 0;
  int64_t nk = 0;
};

// Patching's masked injection. Both tensors are viewed as [outer][rows][cols]; cell b of
// the batch replaces its own box of dst with the same box of the (single, unbatched) src:
//   for o in [o0, o1), r in [r0, r1), c in [c0, c1) of box b:
//     dst[dst.offset + b * dst.batch_stride + o * dst_outer_stride + r * dst.ld + c]
//       = src[src.offset + o * src_outer_stride + r * src.ld + c]
// `boxes` holds six u32 per cell: o0, o1, r0, r1, c0, c1 (an empty box patches nothing).
struct DeviceReplaceArgs {
  DeviceRows dst;
  int64_t dst_outer_stride = 0;
  DeviceRows src;  // batch_stride unused
  int64_t src_outer_stride = 0;
  DeviceSpan boxes;
  int64_t batch = 1;
  int64_t outer = 1;  // extents every box lies within
  int64_t rows = 0;
  int64_t cols = 0;
};

struct DeviceLimits {
  int64_t max_binding_bytes = 0;  // largest storage binding (maxStorageBufferBindingSize)
  int64_t max_buffer_bytes = 0;   // largest buffer (maxBufferSize)
};

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  // "webgpu (<adapter description>)"
  virtual std::string name() const = 0;
  virtual DeviceLimits limits() const = 0;
  // An error once the device is lost (or was never usable); every later op is a no-op.
  virtual Status status() const = 0;

  // --- memory ---
  virtual Result<DeviceBufferId> allocate(int64_t floats) = 0;
  // Safe right after encoding work that uses the buffer: destruction waits for that work.
  virtual void release(DeviceBufferId buffer) = 0;
  // Host -> device now (ordered after everything encoded so far). Works for f32 and u32.
  virtual void upload(DeviceSpan dst, const void* host, int64_t count) = 0;
  // Deferred device -> host copy of `count` floats; the host memory must stay valid and
  // untouched until the flush completes.
  virtual void request_readback(DeviceSpan src, float* host, int64_t count) = 0;

  // --- weights (uploaded once) ---
  Result<DeviceBufferId> upload_vector(const float* host, int64_t count);
  Result<DeviceMatrix> upload_matrix(const PackedMatrix& w, const float* bias);
  Result<DeviceTable> upload_table(const EmbeddingTable& host);
  void release(DeviceMatrix& m);
  // Weight storage elements [first, first + count), f32 (f32 != null) or f16, into dst as f32.
  void upload_weights(DeviceSpan dst, const float* f32, const uint16_t* f16, int64_t first, int64_t count);
  void release(DeviceTable& t);

  // --- kernels ---
  virtual void matmul(const DeviceMatmulArgs& args) = 0;
  virtual void layer_norm(const DeviceLayerNormArgs& args) = 0;
  virtual void gelu_new(DeviceSpan y, DeviceSpan x, int64_t n) = 0;
  virtual void attention_scores(const DeviceAttentionScoresArgs& args) = 0;
  // Rows all -inf (or producing NaN) become 0, as TransformerLens's pattern.
  virtual void softmax_rows(DeviceSpan y, DeviceSpan x, int64_t rows, int64_t n) = 0;
  virtual void attention_mix(const DeviceAttentionMixArgs& args) = 0;
  virtual void add(DeviceSpan out, DeviceSpan a, DeviceSpan b, int64_t n) = 0;
  // dst[b][r][c] = src[b][r][c] for b < batch, r < rows, c < cols.
  virtual void copy_rows(DeviceRows dst, DeviceRows src, int64_t batch, int64_t rows, int64_t cols) = 0;
  // out[i] = table[tokens[i]] for i < count; tokens are u32 in a device buffer.
  virtual void embed(DeviceRows out, DeviceSpan tokens, int64_t count, const DeviceTable& table) = 0;
  // attn_out[i] = bias + sum_h result[i, h] (hook_result [rows, H, D] -> [rows, D]).
  virtual void sum_heads(DeviceRows out, DeviceSpan result, DeviceBufferId bias, int64_t rows, int64_t n_heads,
                         int64_t dim) = 0;
  // dst[r * n_columns + j] = src[r][columns[j]] for r < rows; columns are u32 on the device.
  virtual void gather_columns(DeviceSpan dst, DeviceRows src, int64_t rows, DeviceSpan columns, int64_t n_columns) = 0;
  virtual void replace_boxes(const DeviceReplaceArgs& args) = 0;
};

}  // namespace hooklab
