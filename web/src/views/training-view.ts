// "Training": for a bundled model that ships its training record (hooklab-induction), the loss
// curve with its checkpoints, and the head detectors at each checkpoint, scrubbed with a slider,
// to watch the previous-token and induction heads form (Olsson et al. 2022's phase change).
// A view only: TrainingController loads the checkpoints and runs the detectors.
import type { LabController } from "../app/lab-controller";
import { bestHead, type CheckpointScores } from "../analysis/training";
import { seriesChart } from "./charts";
import { el, formatNumber, replaceChildren, section } from "./dom";
import { renderHeatmap } from "./heatmap";

const headName = (b: { layer: number; head: number }) => `L${b.layer}H${b.head}`;

function bestSeries(scores: readonly CheckpointScores[]) {
  const of = (pick: (s: CheckpointScores) => Float64Array) => scores.map((s) => ({ x: s.step, y: bestHead(pick(s), s.shape[1]).score }));
  return [{ name: "best induction score (diagonal)", points: of((s) => s.inductionDiagonal) },
    { name: "best previous-token score (diagonal)", points: of((s) => s.previousTokenDiagonal) }];
}

function checkpointDetail(lab: LabController, s: CheckpointScores, last: boolean): HTMLElement {
  const [L, H] = s.shape;
  const rows = Array.from({ length: L }, (_, l) => `L${l}`), cols = Array.from({ length: H }, (_, h) => `H${h}`);
  const map = (id: string, title: string, values: Float64Array) => renderHeatmap({
    id, title, rowLabels: rows, colLabels: cols, values, xLabel: "head", yLabel: "layer", scale: "sequential", domain: [0, 1],
    onCellClick: (l, h) => lab.update({ layer: l, head: h }),
  });
  const induction = bestHead(s.inductionDiagonal, H), previous = bestHead(s.previousTokenDiagonal, H);
  return el("div", {},
    el("p", { "data-testid": "training-summary" }, `Step ${s.step}${last ? " (the finished model)" : ""}: best induction head ${headName(induction)} `,
      el("strong", {}, formatNumber(induction.score, 3)), `, best previous-token head ${headName(previous)} `, el("strong", {}, formatNumber(previous.score, 3)), "."),
    el("div", { class: "columns" }, map("training-induction", `Induction score (diagonal) at step ${s.step}`, s.inductionDiagonal),
      map("training-previous", `Previous-token score (diagonal) at step ${s.step}`, s.previousTokenDiagonal)));
}

function scrubber(lab: LabController, scores: readonly CheckpointScores[], selected: number): HTMLElement {
  const slider = el("input", { type: "range", min: 0, max: scores.length - 1, step: 1, "aria-label": "training checkpoint", "data-testid": "training-slider" });
  slider.value = String(selected);
  slider.addEventListener("input", () => lab.training.select(Number(slider.value)));
  return el("label", { class: "inline" }, "checkpoint ", slider, ` step ${scores[selected].step}`);
}

export function trainingView(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "training" });
  const score = el("button", { class: "secondary", "data-testid": "training-score", onclick: () => void lab.training.scoreAll().catch(() => undefined) },
    "Run the head detectors at every checkpoint");
  const panel = section("Training: the heads forming", root);
  const render = () => {
    const t = lab.state.training;
    panel.hidden = t.status === "none";
    if (t.status === "loading" || !t.record) return replaceChildren(root, t.status === "error" ? el("p", { class: "notice error" }, t.error ?? "") : el("p", { class: "muted" }, "…"));
    const { record, scores } = t;
    const steps = record.checkpoints.map((c) => c.step);
    const selected = t.selected !== undefined ? scores[t.selected] : undefined;
    const status = t.status === "scoring" ? `running the detectors: ${scores.length} of ${record.checkpoints.length + 1} models…`
      : t.status === "error" ? t.error ?? "" : "";
    replaceChildren(root,
      seriesChart("training-loss", "Training loss (checkpoints marked)", [{ name: "loss", points: record.curve.map((p) => ({ x: p.step, y: p.loss })) }],
        { x: "step", y: "loss" }, { at: steps, highlight: selected?.step }),
      el("div", { class: "row" }, t.status === "ready" || t.status === "error" ? score : null,
        el("span", { role: "status", "data-testid": "training-status", class: t.status === "error" ? "notice error" : "muted" }, status)),
      scores.length ? seriesChart("training-detectors", "Best head per detector at each checkpoint", bestSeries(scores),
        { x: "step", y: "score", yDomain: [0, 1] }, { at: steps, highlight: selected?.step }) : null,
      selected && t.status === "scored" ? scrubber(lab, scores, t.selected!) : null,
      selected ? checkpointDetail(lab, selected, t.selected === scores.length - 1 && t.status === "scored") : null);
  };
  lab.store.subscribe((_, c) => c.has("training") && render());
  render();
  return panel;
}
