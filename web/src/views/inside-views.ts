// "Inside the model" (seed tutorial 1): residual-stream norms, logit lens, direct logit
// attribution per layer component and per head, head detectors. Views only; the numbers come
// from the engine (LabController.refreshInside).
import type { LabController } from "../app/lab-controller";
import { visibleToken } from "../analysis/token-display";
import { barChart, lineChart } from "./charts";
import { el, formatNumber, replaceChildren, section } from "./dom";
import { renderHeatmap } from "./heatmap";
import { attentionView } from "./attention-view";

function normsPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "norms" });
  const render = () => {
    const n = lab.state.inside?.norms;
    if (!n) return replaceChildren(root, el("p", { class: "muted" }, "…"));
    replaceChildren(root, lineChart("resid-norms", "‖resid_post‖ per layer", Array.from(n.perLayer, (_, l) => `L${l}`), n.perLayer, "norm"));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  return section("Residual stream norm", root);
}

function lensPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "lens" });
  const render = () => {
    const s = lab.state;
    const lens = s.inside?.lens;
    if (!lens || !s.prompt) return replaceChildren(root, el("p", { class: "muted" }, "…"));
    const P = lens.positions.length, C = lens.labels.length, k = lens.topK;
    const position = Math.min(s.experiment.position ?? P - 1, P - 1);
    const cols = s.prompt.strs.map((t, i) => `${i} ${visibleToken(t)}`);
    const hasDiff = lens.logitDiff.length === C * P;
    // Without an answer pair, show the probability of each component's top prediction.
    const values = hasDiff ? lens.logitDiff : Float64Array.from({ length: C * P }, (_, i) => lens.topProbs[i * k]);
    const top = el("table", { class: "topk" }, el("thead", {}, el("tr", {}, el("th", {}, "component"), ...Array.from({ length: k }, (_, i) => el("th", {}, `#${i + 1}`)))),
      el("tbody", {}, ...lens.labels.map((label, c) => el("tr", {}, el("td", { class: "tok" }, label),
        ...Array.from({ length: k }, (_, i) => {
          const at = (c * P + position) * k + i;
          return el("td", { class: "tok", title: `id ${lens.topTokens[at]} · p = ${formatNumber(lens.topProbs[at], 4)}` }, visibleToken(lens.topStrings[at]));
        })))));
    replaceChildren(root,
      renderHeatmap({
        id: "logit-lens", title: hasDiff ? `Logit lens: logit difference ${s.answer?.text ?? ""} − ${s.wrong?.text ?? ""}` : "Logit lens: probability of the top prediction",
        rowLabels: lens.labels, colLabels: cols, values, xLabel: "position", yLabel: "residual stream",
        scale: hasDiff ? "diverging" : "sequential", domain: hasDiff ? undefined : [0, 1],
        onCellClick: (_, col) => lab.update({ position: col }),
      }),
      el("h3", {}, `Top-${k} predictions of each layer at position ${position}`), top);
  };
  lab.store.subscribe((_, c) => (c.has("inside") || c.has("experiment")) && render());
  render();
  return section("Logit lens", root);
}

function attributionPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "dla" });
  const render = () => {
    const s = lab.state;
    const comps = s.inside?.components, heads = s.inside?.heads;
    if (!comps || !heads || !s.cfg) {
      return replaceChildren(root, el("p", { class: "muted" }, "Set an answer and a wrong token (Patching tab) to attribute their logit difference."));
    }
    const [L, H] = heads.shape;
    replaceChildren(root,
      el("p", {}, `Logit difference ${formatNumber(comps.totalLogitDiff, 3)} = components ${formatNumber(comps.totalLogitDiff - comps.biasTerm, 3)} + b_U ${formatNumber(comps.biasTerm, 3)}`),
      barChart("dla-components", "Direct logit attribution per component", comps.labels, comps.logitDiff, "logit diff"),
      renderHeatmap({
        id: "dla-heads", title: "Direct logit attribution per head", rowLabels: Array.from({ length: L }, (_, l) => `L${l}`),
        colLabels: Array.from({ length: H }, (_, h) => `H${h}`), values: heads.logitDiff, xLabel: "head", yLabel: "layer",
        scale: "diverging", onCellClick: (l, h) => lab.update({ layer: l, head: h }),
      }));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  return section("Direct logit attribution", root);
}

function detectorsPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "detectors", class: "columns" });
  const render = () => {
    const d = lab.state.inside?.detectors;
    if (!d) return replaceChildren(root, el("p", { class: "muted" }, "…"));
    const [L, H] = d.shape;
    const rows = Array.from({ length: L }, (_, l) => `L${l}`), cols = Array.from({ length: H }, (_, h) => `H${h}`);
    const map = (id: string, title: string, values: Float64Array) => renderHeatmap({
      id, title, rowLabels: rows, colLabels: cols, values, xLabel: "head", yLabel: "layer", scale: "sequential", domain: [0, 1],
      onCellClick: (l, h) => lab.update({ layer: l, head: h }),
    });
    replaceChildren(root, map("detect-previous", "Previous-token score", d.previousToken),
      map("detect-duplicate", "Duplicate-token score", d.duplicateToken), map("detect-induction", "Induction score", d.induction));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  return section(`Head detectors (on a repeated random sequence)`, root);
}

export function insideView(lab: LabController): HTMLElement {
  return el("div", { class: "inside" },
    el("div", { class: "columns" }, normsPanel(lab), section("Attention patterns", attentionView(lab))),
    lensPanel(lab), attributionPanel(lab), detectorsPanel(lab));
}
