// Model bar: which model (bundled demo, GPT-2 family from the hub, or local files), loading
// progress with cancel, the loaded model's configuration, and which backend computes
// (WebGPU or wasm SIMD) with a selector to force either.
import type { LabController } from "../app/lab-controller";
import { BACKEND_CHANGE_EVENT, preferredBackend, setPreferredBackend } from "../engine/hooked-transformer";
import type { WeightPrecisionName } from "../engine/generated/model-options";
import type { BackendChoice, BackendInfo } from "../engine/types";
import { el, formatNumber, replaceChildren } from "./dom";
import type { Experiment } from "../state/experiment";

/** Models offered in the picker, with their download sizes (f32 safetensors on the hub). */
// The induction model's starter experiment, in token ids (its vocabulary is GPT-2's first 256
// ids, single bytes). A, B: two random 8-id spans. Prompt A A shows the induction stripes; the
// patching pair is A A[0:7] (the model copies: the answer is A[7]) against B A[0:7] (nothing to
// copy), same length, so every box holds ids this model has.
const SPAN_A = [45, 201, 17, 98, 150, 3, 233, 76];
const SPAN_B = [129, 62, 188, 24, 11, 90, 140, 200];
const ids = (...spans: number[][]) => spans.flat().join(" ");
const INDUCTION_STARTER: Partial<Experiment> = {
  tokenInput: "ids", prompt: ids(SPAN_A, SPAN_A), position: null,
  clean: ids(SPAN_A, SPAN_A.slice(0, 7)), corrupted: ids(SPAN_B, SPAN_A.slice(0, 7)),
  answer: String(SPAN_A[7]), wrong: String(SPAN_B[7]), insideAnswer: "", insideWrong: "", genPrompt: ids(SPAN_A, SPAN_A.slice(0, 3)),
};

/** The lab's model list; `starter`: what picking the model also sets in the experiment;
 *  `trainingRecord`: a bundled model that ships models/<id>/training_loss.json (the training view). */
export const MODEL_CHOICES: ReadonlyArray<{ id: string; label: string; bytes: number; starter?: Partial<Experiment>;
  trainingRecord?: true }> = [
  { id: "hooklab-demo", label: "hooklab demo (4 layers, bundled, offline)", bytes: 14_489_656 },
  // Its 256-token vocabulary holds single bytes, not words: picking it switches every box to
  // token ids on repeated random spans, the sequences its induction behaviour is about.
  { id: "hooklab-induction", label: "hooklab induction (2 attention-only layers, bundled, offline)", bytes: 109_640,
    starter: INDUCTION_STARTER, trainingRecord: true },
  { id: "openai-community/gpt2", label: "GPT-2 small (hub)", bytes: 548_105_171 },
  { id: "distilbert/distilgpt2", label: "DistilGPT-2 (hub)", bytes: 352_833_716 },
  { id: "openai-community/gpt2-medium", label: "GPT-2 medium (hub)", bytes: 1_519_982_802 },
  // (Its size: the hub file holds these tensors and 36 attention-mask buffers, about 3.25 GB.)
  // 3.1 GiB of weights in f32 would leave the 4 GiB wasm memory little room: picking it picks f16
  // weights too (1.6 GiB; the select can still switch back).
  { id: "openai-community/gpt2-large", label: "GPT-2 large (hub, f16 weights)", bytes: 3_247_155_848, starter: { weights: "f16" } },
];

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
