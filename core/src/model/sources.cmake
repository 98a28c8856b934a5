# The hooked model: config, weights and their processing, hook points, forward pass, cache.
list(APPEND HOOKLAB_CORE_SOURCES
  src/io/byte_source.cpp
  src/io/safetensors.cpp
  src/io/npy.cpp
  src/model/config.cpp
  src/model/hook_points.cpp
  src/model/hooks.cpp
  src/model/hook_dispatch.cpp
  src/model/activation_cache.cpp
  src/model/weights.cpp
  src/model/weight_loading.cpp
  src/model/kv_cache.cpp
  src/model/forward.cpp
  src/model/backward.cpp
  src/model/logits.cpp
  src/model/metrics.cpp
  src/model/hooked_transformer.cpp
)

# Generation: sampling and the Generator (steering, ablations) on the KV-cached forward.
list(APPEND HOOKLAB_CORE_SOURCES
  src/generation/sampling.cpp
  src/generation/generation.cpp
)

# Activation patching: sweep definitions, the plain (oracle) engine and the fast engine.
list(APPEND HOOKLAB_CORE_SOURCES
  src/patching/patch_sweeps.cpp
  src/patching/path_patching.cpp
  src/patching/plain_patching.cpp
)
list(APPEND HOOKLAB_CORE_SOURCES
  src/patching/patch_cells.cpp
  src/patching/patch_plan.cpp
  src/patching/head_patch.cpp
  src/patching/patching_engine.cpp
  src/patching/attribution.cpp
  src/patching/patch_dataset.cpp
)

# Analysis tools (logit lens, direct logit attribution, norms, head detectors).
list(APPEND HOOKLAB_CORE_SOURCES
  src/analysis/logit_direction.cpp
  src/analysis/logit_lens.cpp
  src/analysis/logit_attribution.cpp
  src/analysis/residual_norms.cpp
  src/analysis/head_detectors.cpp
)

# The device path (WebGPU): the forward pass and patching on device buffers. Emscripten
# only, because the one device backend is WebGPU through a JS library (wasm/webgpu/).
if(EMSCRIPTEN)
  list(APPEND HOOKLAB_CORE_SOURCES
    src/device/device_uploads.cpp
    src/device/device_weights.cpp
    src/device/device_workspace.cpp
    src/device/device_block.cpp
    src/device/device_kv_cache.cpp
    src/device/device_forward.cpp
    src/device/device_generation.cpp
    src/device/device_patch_injection.cpp
    src/device/device_patching.cpp
    src/device/webgpu_backend.cpp
  )
endif()
