// The patching experiment (seed tutorial 2): clean and corrupted prompts, answer and wrong
// tokens (validated as single tokens, with suggestions), metric, normalisation; heatmaps of
// the sweeps with progress and cancel. Clicking a cell opens that layer's attention and lens.
import type { LabController } from "../app/lab-controller";
import { sweepAxes } from "../analysis/attribution";
import { visibleToken } from "../analysis/token-display";
import { MAX_ANSWER, MAX_TEXT, METRICS, SWEEP_CHOICES, SWEEP_TITLES, modelHasActivation } from "../state/experiment";
import { el, formatNumber, replaceChildren, section } from "./dom";
import { renderHeatmap } from "./heatmap";
import { datasetPanel, estimateSection, methodControl } from "./attribution-view";
import { describeMetric } from "../analysis/patching-metric";
import { smallDifferenceWarning } from "./metric-warning";
import { changedInputs } from "../state/result-inputs";
import { markStale, staleBadge } from "./stale";
import { sweepCodeButton } from "./tl-code-view";

function tokenLine(lab: LabController, which: "clean" | "corrupted"): HTMLElement {
  const s = lab.state;
  const t = s[which];
  if (!t) return el("div");
  const diff = new Set(s.difference?.positions ?? []);
  return el("div", { class: "tokens", "data-testid": `${which}-tokens` }, ...t.strs.map((str, i) =>
    el("span", { class: `token ${diff.has(i) ? "diff" : ""}`, title: `position ${i} · id ${t.ids[i]}` }, visibleToken(str))));
}

function answerField(lab: LabController, which: "answer" | "wrong", label: string): HTMLElement {
  const input = el("input", { type: "text", "aria-label": label, "data-testid": `${which}-input`, size: 12, maxlength: MAX_ANSWER });
  input.value = lab.state.experiment[which];
  input.addEventListener("input", () => lab.update({ [which]: input.value }));
  const status = el("span", { class: "answer-status", "data-testid": `${which}-status` });
  const render = () => {
    if (input.value !== lab.state.experiment[which] && document.activeElement !== input) input.value = lab.state.experiment[which];
    const check = lab.state[which];
    if (!check) return replaceChildren(status);
    if (check.id !== undefined) return replaceChildren(status, el("span", { class: "muted" }, `id ${check.id}`));
    replaceChildren(status, el("span", { class: "notice" }, `${check.error}.`),
      ...check.suggestions.map((sug) => el("button", { class: "secondary", "data-suggestion": sug, onclick: () => lab.update({ [which]: sug }) },
        `use "${visibleToken(sug)}"`)));
  };
  lab.store.subscribe((_, c) => (c.has(which) || c.has("experiment")) && render());
  render();
  return el("label", { class: "inline" }, label, input, status);
}

/** The exact sweep's progress and heatmaps, marked stale when the experiment moved on since Run. */
function patchResults(lab: LabController): { progress: HTMLElement; status: HTMLElement; stale: HTMLElement; results: HTMLElement } {
  const progress = el("progress", { class: "progress", max: 1, value: 0, "aria-label": "patching progress", "data-testid": "patch-progress" });
  const status = el("div", { class: "muted", "data-testid": "patch-status" });
  const results = el("div", { class: "patch-results", "data-testid": "patch-results" });
  const stale = staleBadge("patch-stale");
  const renderResults = () => {
    const s = lab.state, p = s.patch;
    progress.value = p.progress;
    status.textContent = p.status === "running" ? `Patching… ${Math.round(100 * p.progress)}%`
      : p.status === "cancelled" ? "Cancelled." : p.status === "error" ? `Error: ${p.error}` : "";
    const cfg = s.cfg;
    if (!cfg || !p.inputs) return replaceChildren(results);
    // Titles name what the results were computed with, not what the controls say now.
    const metricLabel = describeMetric(p.inputs);
    const blocks: HTMLElement[] = [];
    for (const sweep of SWEEP_CHOICES) {
      const r = p.results[sweep];
      if (!r) continue;
      const info = el("p", { class: "muted" }, `clean ${formatNumber(r.cleanMetric, 3)} · corrupted ${formatNumber(r.corruptedMetric, 3)} · ${r.cellsComputed} of ${r.values.length} cells computed (the others provably unchanged)`);
      const axes = sweepAxes(r.shape, r.axes, p.strTokens);
      blocks.push(el("div", {}, renderHeatmap({
        id: `patch-${sweep}`, title: `${SWEEP_TITLES[sweep]} · ${metricLabel}`, rowLabels: axes.rows, colLabels: axes.cols,
        values: r.values, xLabel: axes.xLabel, yLabel: "layer", scale: "diverging",
        onCellClick: axes.byHead ? (l, h) => { lab.inspect(l, null); lab.update({ head: h }); } : (l, pos) => lab.inspect(l, pos),
      }), info));
    }
    replaceChildren(results, smallDifferenceWarning(Object.values(p.results), p.inputs.normalize, () => {
      lab.update({ normalize: false });
      void lab.runPatch();
    }), ...blocks);
    renderStale();
  };
  const renderStale = () => {
    const { patch: p, experiment: e } = lab.state;
    markStale(results, stale, p.inputs && p.status !== "running" ? changedInputs(p.inputs, e) : [], "press Run patching to update");
  };
  lab.store.subscribe((_, c) => {
    if (c.has("patch") || c.has("cfg")) renderResults();
    else if (c.has("experiment")) renderStale();
  });
  renderResults();
  return { progress, status, stale, results };
}

export function patchingView(lab: LabController): HTMLElement {
  const clean = el("textarea", { "aria-label": "clean prompt", rows: 2, maxlength: MAX_TEXT, "data-testid": "clean-prompt" });
  const corrupted = el("textarea", { "aria-label": "corrupted prompt", rows: 2, maxlength: MAX_TEXT, "data-testid": "corrupted-prompt" });
  clean.value = lab.state.experiment.clean;
  corrupted.value = lab.state.experiment.corrupted;
  clean.addEventListener("input", () => lab.update({ clean: clean.value }));
  corrupted.addEventListener("input", () => lab.update({ corrupted: corrupted.value }));
  const metric = el("select", { "aria-label": "metric", "data-testid": "metric" }, ...METRICS.map((m) => el("option", { value: m }, m)));
  metric.addEventListener("change", () => lab.update({ metric: metric.value as (typeof METRICS)[number] }));
  const normalize = el("input", { type: "checkbox", "data-testid": "normalize" });
  normalize.addEventListener("change", () => lab.update({ normalize: normalize.checked }));
  const sweeps = SWEEP_CHOICES.map((sw) => {
    const box = el("input", { type: "checkbox", value: sw, "data-sweep": sw });
    box.addEventListener("change", () => lab.update({ sweeps: SWEEP_CHOICES.filter((x) => (x === sw ? box.checked : lab.state.experiment.sweeps.includes(x))) }));
    return { sw, box, label: el("label", { class: "inline" }, box, sw) };
  });
  const run = el("button", { "data-testid": "run-patch", onclick: () => void lab.runPatch() }, "Run patching");
  const cancel = el("button", { class: "secondary", "data-testid": "cancel-patch", onclick: () => lab.cancelPatch() }, "Cancel");
  const tokens = el("div");
  const warnings = el("div", { "data-testid": "patch-warnings" });
  const sweepRow = el("div", { class: "row" });

  const renderInputs = () => {
    const s = lab.state, e = s.experiment;
    if (document.activeElement !== clean && clean.value !== e.clean) clean.value = e.clean;
    if (document.activeElement !== corrupted && corrupted.value !== e.corrupted) corrupted.value = e.corrupted;
    metric.value = e.metric;
    normalize.checked = e.normalize;
    for (const { sw, box } of sweeps) box.checked = e.sweeps.includes(sw);
    // An attention-only model has no MLP (nor resid_mid) to patch: those boxes are not offered.
    replaceChildren(sweepRow, "patch:", ...sweeps.filter(({ sw }) => modelHasActivation(s.cfg, sw)).map(({ label }) => label));
    replaceChildren(tokens, el("div", { class: "muted" }, "clean"), tokenLine(lab, "clean"), el("div", { class: "muted" }, "corrupted"), tokenLine(lab, "corrupted"));
    const blocker = lab.patchBlocker();
    const d = s.difference;
    replaceChildren(warnings,
      d?.lengthMismatch ? el("div", { class: "notice", "data-testid": "length-warning" },
        `The prompts tokenize to different lengths (${s.clean?.ids.length} vs ${s.corrupted?.ids.length}); they first differ at position ${d.positions[0]}. Patching needs equal lengths.`) : null,
      d && !d.lengthMismatch && d.positions.length === 0 ? el("div", { class: "notice" }, "The prompts are identical: every patch has no effect.") : null);
    run.disabled = !!blocker || s.patch.status === "running";
    run.title = blocker ?? "";
    cancel.disabled = s.patch.status !== "running";
  };

  const dataset = datasetPanel(lab);
  lab.store.subscribe((_, c) => {
    if (c.has("experiment") || c.has("clean") || c.has("corrupted") || c.has("difference") || c.has("patch") || c.has("model") || c.has("cfg") || c.has("answer") || c.has("wrong")) renderInputs();
  });
  renderInputs();
  const { progress, status, stale, results } = patchResults(lab);
  return section("Activation patching",
    el("div", { class: "columns" },
      el("label", {}, "Clean prompt", clean),
      el("label", {}, "Corrupted prompt", corrupted)),
    tokens, warnings,
    el("div", { class: "row" }, answerField(lab, "answer", "answer"), answerField(lab, "wrong", "wrong"),
      el("label", { class: "inline" }, "metric", metric), el("label", { class: "inline" }, normalize, "normalise (patched − corrupted) / (clean − corrupted)")),
    sweepRow,
    el("div", { class: "row" }, run, cancel, methodControl(lab), dataset.toggle, status), sweepCodeButton(lab, "patching"), progress, estimateSection(lab), stale, results, dataset.panel);
}
