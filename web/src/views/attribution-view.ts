// Attribution patching in the patching view: the method selector, the estimate heatmaps that
// follow every edit, estimate vs exact (scatter, correlations, the cells that disagree most),
// and the dataset panel (means over prompt pairs with their 95 % intervals). Rendering only:
// the numbers come from the store, their shaping from analysis/attribution.ts.
import type { LabController } from "../app/lab-controller";
import { IOI_TEMPLATE, describeCell, disagreements, intervalWidths, pairsFromTemplate, scatterPoints, sweepAxes, type PairTemplate } from "../analysis/attribution";
import type { PatchMethod, PatchResult, SweepAgreement } from "../engine";
import { MAX_DATASET, METHODS, SWEEP_CHOICES, SWEEP_TITLES, patchInputsKey, type SweepChoice } from "../state/experiment";
import { datasetShareable } from "../state/url-state";
import { scatterChart } from "./charts";
import { describeMetric } from "../analysis/patching-metric";
import { changedInputs } from "../state/result-inputs";
import { markStale, staleBadge } from "./stale";
import { smallDifferenceWarning } from "./metric-warning";
import { el, formatNumber, replaceChildren } from "./dom";
import { renderHeatmap } from "./heatmap";
import { sweepCodeButton } from "./tl-code-view";

const METHOD_LABELS: Record<PatchMethod, string> = { exact: "exact (Run)", atp: "AtP", "atp-star": "AtP*" };
/** The estimate method: exact computes only on Run; AtP and AtP* follow every edit. */
export function methodControl(lab: LabController): HTMLElement {
  const select = el("select", { "aria-label": "estimate method", "data-testid": "method" },
    ...METHODS.map((m) => el("option", { value: m }, METHOD_LABELS[m])));
  select.value = lab.state.experiment.method;
  select.addEventListener("change", () => lab.update({ method: select.value as PatchMethod }));
  lab.store.subscribe((s, c) => c.has("experiment") && (select.value = s.experiment.method));
  return el("label", { class: "inline", title: "AtP / AtP*: gradient estimates of every cell, recomputed as you edit" }, "estimate", select);
}

function sweepHeatmap(id: string, title: string, r: PatchResult, strTokens: string[], lab: LabController,
  extra: { values?: ArrayLike<number>; flagged?: number[]; cellDetail?: (i: number) => string; data?: Record<string, string>; sequential?: boolean; noClick?: boolean } = {}): HTMLElement {
  const axes = sweepAxes(r.shape, r.axes, strTokens);
  return renderHeatmap({
    id, title, rowLabels: axes.rows, colLabels: axes.cols, values: extra.values ?? r.values, xLabel: axes.xLabel, yLabel: "layer",
    scale: extra.sequential ? "sequential" : "diverging", flagged: extra.flagged, cellDetail: extra.cellDetail, data: extra.data,
    onCellClick: extra.noClick ? undefined : axes.byHead ? (l, h) => { lab.inspect(l, null); lab.update({ head: h }); } : (l, pos) => lab.inspect(l, pos),
  });
}

function agreementBlock(sweep: SweepChoice, method: PatchMethod, est: PatchResult, exact: PatchResult, a: SweepAgreement, strTokens: string[], flagged: number[]): HTMLElement {
  const axes = sweepAxes(est.shape, est.axes, strTokens);
  const points = scatterPoints(est.values, exact.values, axes.rows, axes.cols, flagged);
  const stats = `Pearson ${formatNumber(a.pearson, 3)} · Spearman ${formatNumber(a.spearman, 3)} · top-${a.topK} overlap ${Math.round(100 * a.topKOverlap)} % (${a.cells} cells)`;
  return el("div", { class: "agreement" },
    scatterChart(`compare-${sweep}`, `${SWEEP_TITLES[sweep]}: ${METHOD_LABELS[method]} vs exact`, points, "exact", `${METHOD_LABELS[method]} estimate`),
    el("p", { "data-testid": `agreement-${sweep}` }, stats),
    flagged.length ? el("div", { class: "muted" }, "Largest disagreements (outlined in the estimate):") : null,
    el("ul", { "data-testid": `disagreements-${sweep}` }, ...flagged.map((i) => el("li", {},
      `${describeCell(i, axes.rows, axes.cols)}: estimate ${formatNumber(est.values[i], 3)}, exact ${formatNumber(exact.values[i], 3)}`))));
}

function renderEstimate(lab: LabController, box: HTMLElement): void {
  const s = lab.state, e = s.experiment, est = s.estimate;
  if (e.method === "exact" || !est) return replaceChildren(box);
  const stale = est.status === "running" || est.key !== patchInputsKey(e);
  const status = est.status === "error" ? `No estimate: ${est.error}.`
    : stale ? "Updating the estimate…" : `${METHOD_LABELS[est.method]}: every cell from one backward pass; it follows your edits. Run computes the exact sweep to compare.`;
  const agreement = s.agreement?.key === est.key && s.agreement.method === est.method ? s.agreement : undefined;
  const metricLabel = describeMetric(e);
  const blocks = SWEEP_CHOICES.flatMap((sweep) => {
    const r = est.results[sweep];
    if (!r) return [];
    const exact = agreement?.bySweep[sweep] ? s.patch.results[sweep] : undefined;
    const flagged = exact ? disagreements(r.values, exact.values, 5) : [];
    const heatmap = sweepHeatmap(`estimate-${sweep}`, `${SWEEP_TITLES[sweep]} · ${METHOD_LABELS[est.method]} estimate · ${metricLabel}`, r, est.strTokens, lab,
      { flagged, data: { corrupted: est.corrupted, method: est.method, stale: String(stale) } });
    return [el("div", { class: "estimate-row" }, heatmap,
      exact ? agreementBlock(sweep, est.method, r, exact, agreement!.bySweep[sweep]!, est.strTokens, flagged) : null)];
  });
  // Until the estimate of the current inputs arrives, the previous one is dimmed, never shown as current.
  replaceChildren(box, el("h3", {}, "Attribution estimate"),
    el("p", { class: est.status === "error" ? "notice" : stale ? "stale-badge" : "muted", "data-testid": "estimate-status", role: "status" }, status),
    // Estimates follow the normalisation switch, so the raw metric needs no Run.
    stale ? null : smallDifferenceWarning(Object.values(est.results), e.normalize, () => lab.update({ normalize: false }),
      "estimate-small-difference"),
    el("div", { class: stale ? "stale" : "", "data-stale": String(stale) }, ...blocks));
}

export function estimateSection(lab: LabController): HTMLElement {
  const box = el("div", { class: "estimate-results", "data-testid": "estimate-results" });
  lab.store.subscribe((_, c) => {
    if (c.has("estimate") || c.has("agreement") || c.has("experiment") || c.has("cfg")) renderEstimate(lab, box);
  });
  renderEstimate(lab, box);
  return box;
}

function renderDatasetStatus(lab: LabController, parts: { note: HTMLElement; status: HTMLElement; cancel: HTMLElement; results: HTMLElement; stale: HTMLElement }): void {
  const { note, status, cancel, results, stale } = parts;
  const s = lab.state, e = s.experiment, d = s.dataset;
  replaceChildren(note, datasetShareable(e) ? null
    : `This dataset (${e.dataset.length} characters) is too large to share: links and embeds leave it out.`);
  replaceChildren(status, d.status === "running" ? `Running over the dataset… ${Math.round(100 * (d.progress ?? 0))}%`
    : d.status === "cancelled" ? "Cancelled: the sweeps that finished are shown."
    : d.status === "error" ? el("div", { class: "notice", "data-testid": "dataset-error" }, `Error: ${d.error}`) : null);
  cancel.hidden = d.status !== "running";
  const drawn = results.childElementCount > 0;
  markStale(results, stale, d.inputs && d.status !== "running" && drawn ? changedInputs(d.inputs, e) : [], "press Run on dataset to update");
}

function renderDatasetResults(lab: LabController, results: HTMLElement): void {
  const d = lab.state.dataset;
  const blocks = SWEEP_CHOICES.flatMap((sweep) => {
    const r = d.results[sweep];
    if (!r) return [];
    const ci = (i: number) => `95 % CI [${formatNumber(r.ciLow[i], 3)}, ${formatNumber(r.ciHigh[i], 3)}] over ${r.pairs} pairs`;
    // Each line may bring its own answer pair; the experiment's is the fallback.
    const metric = d.inputs ? `${describeMetric(d.inputs)} unless a line names its own answers` : "";
    const title = `${SWEEP_TITLES[sweep]} · mean over ${r.pairs} pairs (${METHOD_LABELS[d.method ?? "exact"]}) · ${metric}`;
    // Every pair has its own tokens: the columns are positions only.
    const positions = Array.from({ length: r.shape[1] }, () => "");
    return [el("div", { class: "estimate-row" },
      sweepHeatmap(`dataset-${sweep}`, title, r, positions, lab, { values: r.mean, cellDetail: ci, noClick: true }),
      sweepHeatmap(`dataset-ci-${sweep}`, "95 % interval width", r, positions, lab,
        { values: intervalWidths(r.ciLow, r.ciHigh), sequential: true, cellDetail: ci, noClick: true }))];
  });
  replaceChildren(results, ...blocks);
}

/** Paste JSONL prompt pairs; the chosen sweeps run over all of them (button, or a shared link). */
/** Fills the dataset from a template and a list of names (every ordered pair of two names). */
function templateForm(lab: LabController): HTMLElement {
  const field = (key: keyof PairTemplate, label: string, size: number) => {
    const input = el("input", { type: "text", size, "aria-label": `template ${label}`, "data-testid": `template-${key}` });
    input.value = IOI_TEMPLATE[key];
    return { key, input, label: el("label", { class: "inline" }, label, input) };
  };
  const fields = [field("clean", "clean", 48), field("corrupted", "corrupted", 48), field("answer", "answer", 6),
    field("wrong", "wrong", 6), field("names", "names", 40)];
  const message = el("span", { class: "muted", "data-testid": "template-status" });
  const generate = el("button", { class: "secondary", "data-testid": "template-generate", onclick: () => {
    const template = Object.fromEntries(fields.map((f) => [f.key, f.input.value])) as unknown as PairTemplate;
    const made = pairsFromTemplate(template);
    if ("error" in made) {
      message.textContent = made.error;
      return;
    }
    message.textContent = `${made.pairs} pairs`;
    lab.update({ dataset: made.jsonl });
  } }, "Generate pairs");
  return el("details", { "data-testid": "template-form" }, el("summary", {}, "From a template ({A}, {B} = two names)"),
    el("div", { class: "row" }, fields[0].label, fields[1].label),
    el("div", { class: "row" }, fields[2].label, fields[3].label, fields[4].label, generate, message));
}

export function datasetPanel(lab: LabController): { panel: HTMLElement; toggle: HTMLElement } {
  const input = el("textarea", { rows: 5, maxlength: MAX_DATASET, "aria-label": "dataset (JSON lines)", "data-testid": "dataset-input",
    placeholder: '{"clean": "…John gave a drink to", "corrupted": "…Mary gave a drink to", "answer": " Mary", "wrong": " John"}' });
  input.value = lab.state.experiment.dataset;
  input.addEventListener("input", () => lab.update({ dataset: input.value }));
  const run = el("button", { "data-testid": "run-dataset", onclick: () => void lab.attribution.runDataset() }, "Run on dataset");
  const note = el("div", { class: "muted", "data-testid": "dataset-share-note" });
  const status = el("div", { "data-testid": "dataset-status", role: "status" });
  const cancel = el("button", { class: "secondary", "data-testid": "cancel-dataset", hidden: true, onclick: () => lab.attribution.cancelDataset() }, "Cancel");
  const results = el("div", { "data-testid": "dataset-results" });
  const stale = staleBadge("dataset-stale");
  // Hidden unless asked for or restored from a link, so the patching view looks as before.
  const panel = el("div", { "data-testid": "dataset-panel", hidden: !lab.state.experiment.dataset },
    el("h3", {}, "Dataset of prompt pairs"),
    el("p", { class: "muted" }, "One JSON object per line; every prompt must have the same number of tokens. The chosen activations are patched on every pair with the method above; cells show the mean and its 95 % bootstrap interval."),
    templateForm(lab), input, el("div", { class: "row" }, run, cancel, note), sweepCodeButton(lab, "dataset"), status, stale, results);
  const toggle = el("button", { class: "secondary", "data-testid": "dataset-toggle", onclick: () => (panel.hidden = !panel.hidden) }, "Dataset…");
  const render = () => {
    if (document.activeElement !== input && input.value !== lab.state.experiment.dataset) input.value = lab.state.experiment.dataset;
    if (lab.state.experiment.dataset) panel.hidden = false;
    // Progress updates keep the same results object: the heatmaps are redrawn only when it changes.
    if (lab.state.dataset.results !== shownResults) renderDatasetResults(lab, results);
    shownResults = lab.state.dataset.results;
    renderDatasetStatus(lab, { note, status, cancel, results, stale });
  };
  let shownResults: unknown;
  lab.store.subscribe((_, c) => (c.has("dataset") || c.has("experiment")) && render());
  render();
  return { panel, toggle };
}
