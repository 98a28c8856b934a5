// Path patching (the IOI paper's tool for separating a circuit's paths): the receivers box
// (the logits, or heads' q / k / v), direction, Run with progress and cancel, and a layer x head
// map of each sender's effect through those receivers only. Clicking a head makes its queries
// the receivers and runs again: the paper's step from name movers to the heads that steer them.
import type { LabController } from "../app/lab-controller";
import { pathEffects, receiversLabel, strongestSender, towardSource } from "../analysis/path-patching";
import { describeMetric } from "../analysis/patching-metric";
import { PATCH_DIRECTIONS } from "../engine";
import { parseReceiverList } from "../state/experiment";
import { changedInputs } from "../state/result-inputs";
import { el, formatNumber, replaceChildren, section } from "./dom";
import { renderHeatmap } from "./heatmap";
import { markStale, staleBadge } from "./stale";
import { viewCodeButton } from "./tl-code-view";

function receiversField(lab: LabController): { field: HTMLElement; render: () => void } {
  const input = el("input", { type: "text", size: 24, "aria-label": "path patching receivers", "data-testid": "path-receivers",
    placeholder: "logits, or e.g. 3.0:q, 3.1:q" });
  const problem = el("span", { class: "notice", role: "status", "data-testid": "path-receivers-problem" });
  const say = (text: string) => {
    problem.textContent = text;
    problem.hidden = text === "";  // an empty notice would still draw its box
  };
  say("");
  input.addEventListener("change", () => {
    const read = parseReceiverList(input.value);
    if ("problem" in read) return say(`${read.problem}.`);
    say("");
    lab.update({ pathReceivers: read.receivers });
  });
  const render = () => {
    if (document.activeElement !== input) input.value = lab.state.experiment.pathReceivers.join(", ") || "logits";
  };
  return { field: el("label", { class: "inline" }, "receivers", input, problem), render };
}

function directionField(lab: LabController): { field: HTMLElement; render: () => void } {
  const select = el("select", { "aria-label": "path patching direction", "data-testid": "path-direction" },
    ...PATCH_DIRECTIONS.map((d) => el("option", { value: d }, d)));
  select.addEventListener("change", () => lab.update({ pathDirection: select.value as (typeof PATCH_DIRECTIONS)[number] }));
  return { field: el("label", { class: "inline" }, "direction", select), render: () => (select.value = lab.state.experiment.pathDirection) };
}

function resultBlock(lab: LabController): HTMLElement | null {
  const { result, inputs } = lab.state.path;
  if (!result || !inputs) return null;
  const effects = pathEffects(result);
  const strongest = strongestSender(effects, towardSource(result, inputs.pathDirection, inputs.normalize));
  const rows = Array.from({ length: effects.layers }, (_, l) => `L${l}`);
  const cols = Array.from({ length: effects.heads }, (_, h) => `H${h}`);
  const run = inputs.pathDirection === "noising" ? "clean" : "corrupted";
  return el("div", { "data-testid": "path-result", "data-receivers": result.receivers.join(",") },
    renderHeatmap({
      id: "path-patching", title: `Sender heads → ${receiversLabel(result.receivers)} · change of ${describeMetric(inputs)} from the ${run} run`,
      rowLabels: rows, colLabels: cols, values: effects.effects, xLabel: "sender head", yLabel: "sender layer", scale: "diverging",
      onCellClick: (l, h) => {
        if (l === 0) return lab.notify({ kind: "warning", text: `No head can reach the queries of L0H${h}: nothing runs before layer 0.` });
        lab.update({ pathReceivers: [`${l}.${h}:q`] });
        void lab.path.run();
      },
    }),
    el("p", { class: "muted" }, `${run} run ${formatNumber(result.receivingMetric, 3)} · ${result.cellsComputed} of ${result.values.length} senders run `
      + "(a sender at or after the last receiver's layer cannot reach it) · click a head to make its queries the receivers"),
    el("p", { "data-testid": "path-strongest" }, strongest
      ? `Strongest path: L${strongest.layer}H${strongest.head} → ${receiversLabel(result.receivers)} (${formatNumber(strongest.effect, 3)}).`
      : "No sender moves the metric toward the source run through these receivers."));
}

export function pathPatchingView(lab: LabController): HTMLElement {
  const receivers = receiversField(lab), direction = directionField(lab);
  const run = el("button", { "data-testid": "run-path", onclick: () => void lab.path.run() }, "Run path patching");
  const cancel = el("button", { class: "secondary", "data-testid": "cancel-path", onclick: () => lab.path.cancel() }, "Cancel");
  const progress = el("progress", { class: "progress", max: 1, value: 0, "aria-label": "path patching progress", "data-testid": "path-progress" });
  const status = el("div", { class: "muted", "data-testid": "path-status" });
  const results = el("div", { "data-testid": "path-results" });
  const stale = staleBadge("path-stale");
  const render = () => {
    const p = lab.state.path;
    receivers.render();
    direction.render();
    progress.value = p.progress;
    const blocker = lab.patchBlocker({ needsSweeps: false });
    run.disabled = !!blocker || p.status === "running";
    run.title = blocker ?? "";
    cancel.disabled = p.status !== "running";
    status.textContent = p.status === "running" ? `Path patching… ${Math.round(100 * p.progress)}%`
      : p.status === "cancelled" ? "Cancelled." : p.status === "error" ? `Error: ${p.error}` : "";
    replaceChildren(results, p.status === "error" ? null : resultBlock(lab));
    markStale(results, stale, p.inputs && p.status === "done" ? changedInputs(p.inputs, lab.state.experiment) : [], "press Run path patching to update");
  };
  lab.store.subscribe((_, c) => (c.has("path") || c.has("experiment") || c.has("answer") || c.has("difference") || c.has("model")) && render());
  render();
  return section("Path patching",
    el("p", { class: "muted" }, "Each sender head's effect on the metric through the receivers only: every other head is frozen, "
      + "so the change reaches the receivers (the logits, or heads' queries, keys or values) only through the residual stream and the MLPs."),
    el("div", { class: "row" }, receivers.field, direction.field, run, cancel, status), viewCodeButton(lab, "path"), progress, stale, results);
}
