// Predictions: the top-k next tokens at the selected position, and the prompt coloured by how
// likely each actual next token was (CircuitsVis's TokenLogProbs); hovering a token shows the
// model's top-k there.
import { interpolateRdBu } from "d3";
import type { LabController } from "../app/lab-controller";
import type { TopKEntry } from "../engine";
import { visibleToken } from "../analysis/token-display";
import { el, formatNumber, readableTextOn, replaceChildren, section } from "./dom";
import { changedInputs } from "../state/result-inputs";
import { markStale, staleBadge } from "./stale";
import { viewCodeButton } from "./tl-code-view";

function topKTable(entries: TopKEntry[], caption: string): HTMLTableElement {
  return el("table", { class: "topk", "data-testid": "topk-table" },
    el("caption", { class: "muted" }, caption),
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "token"), el("th", {}, "id"), el("th", {}, "prob"), el("th", {}, "logit"))),
    el("tbody", {}, ...entries.map((e, i) => el("tr", { "data-token": e.token },
      el("td", {}, i + 1), el("td", { class: "tok" }, visibleToken(e.str)), el("td", {}, e.token),
      el("td", { "data-prob": e.prob }, `${(100 * e.prob).toFixed(2)}%`), el("td", { "data-logit": e.logit }, formatNumber(e.logit, 3))))));
}

/** Colour for log p: red when unlikely, blue when likely (RdBu, colour-blind safe). */
export function logProbColor(logProb: number): string {
  const t = Math.max(0, Math.min(1, 1 + logProb / 10));  // log p in [-10, 0] -> [0, 1]
  return interpolateRdBu(0.15 + 0.7 * t);
}

export function predictionsView(lab: LabController): HTMLElement {
  const table = el("div", { "data-testid": "predictions" });
  const text = el("div", { class: "logprob-text", "data-testid": "logprob-text", "aria-label": "prompt coloured by next-token log-probability" });
  const hover = el("div", { class: "hover-topk" });
  const loss = el("p", { class: "muted", "data-testid": "loss" });
  const badge = staleBadge("predictions-stale");
  const results = el("div", { class: "columns" });

  const render = () => {
    const s = lab.state;
    const p = s.predictions;
    // Predictions follow the prompt within a moment; until then the previous ones are marked.
    markStale(results, badge, p && s.prompt ? changedInputs({ prompt: s.prompt.text, prependBos: s.prompt.prependBos }, s.experiment) : [],
      "updating");
    if (!p || !s.prompt) {
      replaceChildren(table, el("p", { class: "muted" }, s.model.phase === "ready" ? "Type a prompt." : "Waiting for the model…"));
      replaceChildren(text);
      loss.textContent = "";
      return;
    }
    loss.textContent = `Mean next-token loss ${formatNumber(p.loss, 4)} over ${s.prompt.ids.length - 1} predictions.`;
    const n = s.prompt.ids.length;
    const position = Math.min(s.experiment.position ?? n - 1, n - 1);
    replaceChildren(table, topKTable(p.top[position],
      `Most likely next tokens after position ${position} (${visibleToken(s.prompt.strs[position])})`));
    replaceChildren(text, ...s.prompt.strs.map((str, i) => {
      // Token i is coloured by how likely it was given the tokens before it.
      const lp = i > 0 ? p.nextLogProb[i - 1] : undefined;
      const span = el("span", {
        "data-position": i, tabindex: 0,
        title: lp === undefined ? "first token" : `log p = ${formatNumber(lp, 3)} · rank ${p.nextRank[i - 1]}`,
        style: lp === undefined ? "" : `background:${logProbColor(lp)};color:${readableTextOn(logProbColor(lp))}`,
      }, str);
      const show = () => replaceChildren(hover, topKTable(p.top[i].slice(0, 5), `top-5 after position ${i}`));
      span.addEventListener("mouseenter", show);
      span.addEventListener("focus", show);
      return span;
    }));
  };
  lab.store.subscribe((_, changed) => (changed.has("predictions") || changed.has("experiment") || changed.has("model")) && render());
  render();
  results.append(table, el("div", {}, el("h3", {}, "Per-token log-probability"), text, loss, hover));
  return section("Predictions", badge, viewCodeButton(lab, "predictions"), results);
}
