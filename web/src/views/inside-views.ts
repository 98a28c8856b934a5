// "Inside the model" (seed tutorial 1): residual-stream norms, logit lens, direct logit
// attribution per layer component and per head, head detectors. Views only; the numbers come
// from the engine (LabController.refreshInside).
import type { LabController } from "../app/lab-controller";
import { visibleToken } from "../analysis/token-display";
import { barChart, lineChart } from "./charts";
import { el, formatNumber, replaceChildren, section } from "./dom";
import { renderHeatmap } from "./heatmap";
import { attentionView } from "./attention-view";
import { MAX_ANSWER, type Experiment } from "../state/experiment";
import { changedInputs, type InsideInputs } from "../state/result-inputs";
import { markStale, staleBadge } from "./stale";
import { viewCodeButton } from "./tl-code-view";
import { trainingView } from "./training-view";

/** Which inputs each inside panel depends on (the detectors use random tokens, not the prompt). */
const PROMPT_KEYS: Array<keyof InsideInputs> = ["model", "processing", "prompt", "prependBos"];
const PAIR_KEYS: Array<keyof InsideInputs> = [...PROMPT_KEYS, "insideAnswer", "insideWrong"];
const DLA_KEYS: Array<keyof InsideInputs> = [...PAIR_KEYS, "position"];

/** Marks a panel's results stale when the inputs it depends on changed since they were computed. */
function followStale(lab: LabController, root: HTMLElement, badge: HTMLElement, keys: Array<keyof InsideInputs>): void {
  const render = () => {
    const inside = lab.state.inside;
    markStale(root, badge, inside ? changedInputs(inside.inputs, lab.state.experiment, keys) : [], "they are recomputed when this view is open");
  };
  lab.store.subscribe((_, c) => (c.has("inside") || c.has("experiment")) && render());
  render();
}

const quoted = (t: string) => `"${visibleToken(t)}"`;

/** The inside views' own answer pair: the top two predictions by default, editable, in the link. */
function pairPanel(lab: LabController): HTMLElement {
  const field = (key: "insideAnswer" | "insideWrong", label: string) => {
    const input = el("input", { type: "text", size: 12, maxlength: MAX_ANSWER, "aria-label": `inside views' ${label}`, "data-testid": `inside-${label}` });
    input.value = lab.state.experiment[key];
    input.addEventListener("input", () => lab.update({ [key]: input.value } as Partial<Experiment>));
    return { key, input, label: el("label", { class: "inline" }, label, input) };
  };
  const fields = [field("insideAnswer", "answer"), field("insideWrong", "wrong")];
  const summary = el("p", { "data-testid": "inside-pair" });
  const render = () => {
    const s = lab.state, pair = s.inside?.pair;
    for (const f of fields) if (document.activeElement !== f.input && f.input.value !== s.experiment[f.key]) f.input.value = s.experiment[f.key];
    fields[0].input.placeholder = pair?.source === "top-2" ? pair.answer : "top prediction";
    fields[1].input.placeholder = pair?.source === "top-2" ? pair.wrong : "second prediction";
    if (!pair) return replaceChildren(summary, "…");
    if (pair.error) return replaceChildren(summary, el("span", { class: "notice" }, `Answer pair: ${pair.error}.`));
    const position = s.inside!.inputs.position ?? s.inside!.strs.length - 1;
    replaceChildren(summary, `The logit lens and direct logit attribution measure the logit difference ${quoted(pair.answer)} − ${quoted(pair.wrong)}`,
      pair.source === "top-2" ? ` — the prompt's top two predictions at position ${position} (type an answer and a wrong token to choose others).` : " (your choice; clear both for the top two predictions).");
  };
  lab.store.subscribe((_, c) => (c.has("inside") || c.has("experiment")) && render());
  render();
  return section("Answer pair of the inside views", el("div", { class: "row" }, ...fields.map((f) => f.label)), summary);
}

function normsPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "norms" });
  const render = () => {
    const n = lab.state.inside?.norms;
    if (!n) return replaceChildren(root, el("p", { class: "muted" }, "…"));
    replaceChildren(root, lineChart("resid-norms", "‖resid_post‖ per layer", Array.from(n.perLayer, (_, l) => `L${l}`), n.perLayer, "norm"));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  const badge = staleBadge("norms-stale");
  followStale(lab, root, badge, PROMPT_KEYS);
  return section("Residual stream norm", badge, viewCodeButton(lab, "norms"), root);
}

function lensPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "lens" });
  const render = () => {
    const s = lab.state;
    const lens = s.inside?.lens;
    if (!lens || !s.inside) return replaceChildren(root, el("p", { class: "muted" }, "…"));
    const pair = s.inside.pair;
    const P = lens.positions.length, C = lens.labels.length, k = lens.topK;
    const position = Math.min(s.experiment.position ?? P - 1, P - 1);
    const cols = s.inside.strs.map((t, i) => `${i} ${visibleToken(t)}`);
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
        id: "logit-lens", title: hasDiff && pair ? `Logit lens: logit difference ${quoted(pair.answer)} − ${quoted(pair.wrong)}` : "Logit lens: probability of the top prediction",
        rowLabels: lens.labels, colLabels: cols, values, xLabel: "position", yLabel: "residual stream",
        scale: hasDiff ? "diverging" : "sequential", domain: hasDiff ? undefined : [0, 1],
        onCellClick: (_, col) => lab.update({ position: col }),
      }),
      el("h3", {}, `Top-${k} predictions of each layer at position ${position}`), top);
  };
  lab.store.subscribe((_, c) => (c.has("inside") || c.has("experiment")) && render());
  render();
  const badge = staleBadge("lens-stale");
  followStale(lab, root, badge, PAIR_KEYS);
  return section("Logit lens", badge, viewCodeButton(lab, "lens"), root);
}

function attributionPanel(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "dla" });
  const render = () => {
    const s = lab.state;
    const comps = s.inside?.components, heads = s.inside?.heads, pair = s.inside?.pair;
    if (!comps || !heads || !s.cfg || !pair) {
      return replaceChildren(root, el("p", { class: "muted" }, pair?.error ? "No answer pair to attribute (see above)." : "…"));
    }
    const [L, H] = heads.shape;
    const position = s.inside!.inputs.position ?? s.inside!.strs.length - 1;
    replaceChildren(root,
      el("p", { "data-testid": "dla-pair" }, `Logit difference ${quoted(pair.answer)} − ${quoted(pair.wrong)} at position ${position}: ${formatNumber(comps.totalLogitDiff, 3)} = components ${formatNumber(comps.totalLogitDiff - comps.biasTerm, 3)} + b_U ${formatNumber(comps.biasTerm, 3)}`),
      barChart("dla-components", "Direct logit attribution per component", comps.labels, comps.logitDiff, "logit diff"),
      renderHeatmap({
        id: "dla-heads", title: "Direct logit attribution per head", rowLabels: Array.from({ length: L }, (_, l) => `L${l}`),
        colLabels: Array.from({ length: H }, (_, h) => `H${h}`), values: heads.logitDiff, xLabel: "head", yLabel: "layer",
        scale: "diverging", onCellClick: (l, h) => lab.update({ layer: l, head: h }),
      }));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  const badge = staleBadge("dla-stale");
  followStale(lab, root, badge, DLA_KEYS);
  return section("Direct logit attribution", badge, viewCodeButton(lab, "dla"), root);
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
    const n = (d.tokens.length - 1) / 2;
    replaceChildren(root, map("detect-previous", "Previous-token score", d.previousToken),
      map("detect-duplicate", "Duplicate-token score", d.duplicateToken), map("detect-induction", "Induction score", d.induction),
      map("detect-previous-diagonal", "Previous-token score (diagonal)", d.previousTokenDiagonal),
      map("detect-induction-diagonal", "Induction score (diagonal)", d.inductionDiagonal),
      el("p", { class: "muted", "data-testid": "detector-definitions" },
        `First three: TransformerLens detect_head, error_measure "mul": attention on the detection pattern / all attention; ` +
        `no head's induction score passes N / (2N + 1) = ${formatNumber(n / (2 * n + 1), 3)} (N = ${n}), since only the second copy's rows have a target. ` +
        `Diagonal: the TransformerLens demos' score, pattern.diagonal(-k).mean() over the sequence, k = 1 (previous token) ` +
        `or N − 1 (induction); a clean head scores near 1.`));
  };
  lab.store.subscribe((_, c) => c.has("inside") && render());
  render();
  return section(`Head detectors (on a repeated random sequence)`, viewCodeButton(lab, "detectors"), root);
}

function attentionPanel(lab: LabController): HTMLElement {
  const root = attentionView(lab), badge = staleBadge("attention-stale");
  followStale(lab, root, badge, PROMPT_KEYS);
  return section("Attention patterns", badge, viewCodeButton(lab, "attention"), root);
}

export function insideView(lab: LabController): HTMLElement {
  return el("div", { class: "inside" }, pairPanel(lab),
    el("div", { class: "columns" }, normsPanel(lab), attentionPanel(lab)),
    lensPanel(lab), attributionPanel(lab), detectorsPanel(lab), trainingView(lab));
}
