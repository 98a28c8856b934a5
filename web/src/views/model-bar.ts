// Model bar: which model (bundled demo, GPT-2 family from the hub, or local files), loading
// progress with cancel, the loaded model's configuration, and which backend computes
// (WebGPU or wasm SIMD) with a selector to force either.
import type { LabController } from "../app/lab-controller";
import { BACKEND_CHANGE_EVENT, preferredBackend, setPreferredBackend } from "../engine/hooked-transformer";
import type { WeightPrecisionName } from "../engine/generated/model-options";
import type { BackendChoice, BackendInfo } from "../engine/types";
import { el, formatNumber, replaceChildren } from "./dom";
import { MODEL_CHOICES } from "../app/model-choices";


function megabytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return bytes < 1e7 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1e6)} MB`;
}

export function modelBar(lab: LabController, onLocalFiles: (files: File[]) => void): HTMLElement {
  const select = el("select", { "aria-label": "model", "data-testid": "model-select" });
  for (const m of MODEL_CHOICES) select.append(el("option", { value: m.id }, `${m.label} · ${megabytes(m.bytes)}`));
  select.append(el("option", { value: "local", disabled: true }, "local files (use Open…)"));
  select.addEventListener("change", () => lab.update({ model: select.value, ...MODEL_CHOICES.find((m) => m.id === select.value)?.starter }));
  const processing = el("select", { "aria-label": "weight processing" },
    el("option", { value: "default" }, "TransformerLens processing"), el("option", { value: "none" }, "no processing (HF logits)"));
  processing.addEventListener("change", () => lab.update({ processing: processing.value as "default" | "none" }));
  const weights = el("select", { "aria-label": "weights in memory", "data-testid": "weights-select",
    title: "f16: the weight matrices rounded to f16 in memory, half the bytes (logits move by that rounding)" },
  el("option", { value: "f32" }, "f32 weights"), el("option", { value: "f16" }, "f16 weights (half the memory)"));
  weights.addEventListener("change", () => lab.update({ weights: weights.value as WeightPrecisionName }));
  const fileInput = el("input", { type: "file", multiple: true, accept: ".json,.safetensors,.txt", hidden: true, "aria-label": "model files" });
  fileInput.addEventListener("change", () => fileInput.files && onLocalFiles([...fileInput.files]));
  const openButton = el("button", { class: "secondary", onclick: () => fileInput.click(), title: "config.json + model.safetensors (+ the model's tokenizer.json, or vocab.json + merges.txt)" }, "Open files…");
  const status = el("div", { class: "model-status", "data-testid": "model-status" });
  const backendSelect = el("select", { "aria-label": "compute backend", "data-testid": "backend-select",
    title: "auto: WebGPU where the browser has a hardware GPU adapter, else wasm SIMD" },
  el("option", { value: "auto" }, "auto (GPU if available)"), el("option", { value: "webgpu" }, "WebGPU"),
  el("option", { value: "wasm" }, "wasm SIMD"));
  backendSelect.value = preferredBackend();
  backendSelect.addEventListener("change", () => {
    setPreferredBackend(backendSelect.value as BackendChoice);
    // Local files cannot be reopened from here; the choice applies to the next load.
    if (lab.state.experiment.model !== "local") void lab.loadModel();
  });
  // The engine moved to wasm on its own (the GPU was lost): say so, keep the experiment.
  globalThis.addEventListener?.(BACKEND_CHANGE_EVENT, (event) => {
    const backend = (event as CustomEvent<BackendInfo>).detail;
    if (backend.notice) lab.notify({ kind: "warning", text: backend.notice });
    render();
  });

  const render = () => {
    const s = lab.state;
    select.value = MODEL_CHOICES.some((m) => m.id === s.experiment.model) ? s.experiment.model : "local";
    processing.value = s.experiment.processing;
    weights.value = s.experiment.weights;
    const m = s.model;
    if (m.phase === "loading") {
      const p = m.progress;
      const size = MODEL_CHOICES.find((c) => c.id === s.experiment.model)?.bytes;
      const label = p?.stage === "download"
        ? `Downloading ${p.file ?? ""} ${p.loadedBytes ? megabytes(p.loadedBytes) : ""}${p.totalBytes ? ` of ${megabytes(p.totalBytes)}` : size ? ` of ${megabytes(size)}` : ""}`
        : "Loading weights…";
      replaceChildren(status, el("span", {}, label), " ",
        el("progress", { class: "progress", max: 1, value: p?.fraction ?? 0, "aria-label": "loading progress" }), " ",
        el("button", { class: "secondary", onclick: () => lab.cancelLoad() }, "Cancel"));
    } else if (m.phase === "error") {
      replaceChildren(status, el("span", { class: "notice error", "data-testid": "model-error" }, `Could not load the model: ${m.error}`),
        " ", el("button", { class: "secondary", onclick: () => void lab.loadModel() }, "Retry"));
    } else if (m.phase === "ready" && s.cfg) {
      const c = s.cfg;
      const onGpu = c.backend.startsWith("webgpu");
      // Inside model-config, which screenshot tests mask: the backend depends on the machine.
      const backendBadge = el("span", { class: "backend-badge", "data-testid": "backend-badge", "data-backend": onGpu ? "webgpu" : "wasm" },
        onGpu ? c.backend : `${c.backend} ${s.variant === "mt" ? `${c.threads} threads` : "1 thread"}`);
      replaceChildren(status, el("span", { "data-testid": "model-config" },
        `${c.model_name || s.experiment.model}: ${c.n_layers} layers · ${c.n_heads} heads · d_model ${c.d_model} · d_mlp ${c.d_mlp} · ` +
        `n_ctx ${c.n_ctx} · ${formatNumber(c.total_params / 1e6, 1)}M parameters (n_params ${formatNumber(c.n_params / 1e6, 2)}M) · ` +
        `${c.normalization_type} · ${c.weights} weights ${megabytes(c.weight_bytes)} · `, backendBadge));
    } else {
      replaceChildren(status);
    }
  };
  lab.store.subscribe((_, changed) => (changed.has("model") || changed.has("cfg") || changed.has("experiment")) && render());
  render();
  return el("div", { class: "row model-bar" }, select, processing, weights, backendSelect, openButton, fileInput, status);
}
