// Generate: a prompt, TransformerLens's sampling controls and one steering vector (activation
// addition); the unsteered and steered continuations stream in side by side as token chips
// with their probability, and clicking a chip shows that step's top-5. Every token string is
// model output rendered as text (dom.ts never parses HTML).
import type { LabController } from "../app/lab-controller";
import { GENERATE_COLUMNS, type GenerateColumn, type GenerateColumnName } from "../app/generate-controller";
import type { GeneratedToken } from "../engine";
import { visibleToken } from "../analysis/token-display";
import {
  MAX_LAYERS, MAX_ANSWER, MAX_NEW_TOKENS, MAX_SAMPLE_TOP_K, MAX_SEED, MAX_STEER_COEF, MAX_TEMPERATURE, MAX_TEXT, MIN_TOP_P, STEER_HOOKS,
  type Experiment,
} from "../state/experiment";
import { changedInputs } from "../state/result-inputs";
import { el, replaceChildren, section } from "./dom";
import { markStale, staleBadge } from "./stale";

type NumberField = "maxNewTokens" | "temperature" | "genTopK" | "topP" | "seed" | "steerLayer" | "steerCoef";
type TextField = "genPrompt" | "steerFrom" | "steerTo";

/** Each number control's bounds are the share link's (experiment.ts), so whatever it writes restores. */
const NUMBER_CONTROLS: Array<{ field: NumberField; label: string; min: number; max: number; step: string }> = [
  { field: "maxNewTokens", label: "max new tokens", min: 1, max: MAX_NEW_TOKENS, step: "1" },
  { field: "temperature", label: "temperature (0 = greedy)", min: 0, max: MAX_TEMPERATURE, step: "any" },
  { field: "genTopK", label: "top-k (0 = all)", min: 0, max: MAX_SAMPLE_TOP_K, step: "1" },
  { field: "topP", label: "top-p", min: MIN_TOP_P, max: 1, step: "any" },
  { field: "seed", label: "seed", min: 0, max: MAX_SEED, step: "1" },
];
const STEER_NUMBER_CONTROLS: typeof NUMBER_CONTROLS = [
  { field: "steerLayer", label: "layer", min: 0, max: MAX_LAYERS - 1, step: "1" },
  { field: "steerCoef", label: "coefficient", min: -MAX_STEER_COEF, max: MAX_STEER_COEF, step: "any" },
];
const COLUMN_TITLES: Record<GenerateColumnName, string> = { unsteered: "Unsteered", steered: "Steered" };

function percent(p: number): string {
  return `${(100 * p).toFixed(p >= 0.1 ? 0 : 1)}%`;
}

/** A number input bound to one field: an out-of-range value is reported on the input, never stored. */
function numberControl(lab: LabController, c: (typeof NUMBER_CONTROLS)[number], sync: Array<() => void>): HTMLElement {
  const input = el("input", { type: "number", min: c.min, max: c.max, step: c.step, "data-testid": `gen-${c.field}`, "aria-label": c.label });
  input.addEventListener("change", () => {
    const value = Number(input.value);
    if (input.value.trim() === "" || !input.checkValidity() || !Number.isFinite(value)) {
      input.reportValidity();
      return;
    }
    lab.update({ [c.field]: value + 0 } as Partial<Experiment>);  // + 0: a typed -0 is 0
  });
  sync.push(() => {
    if (Number(input.value) !== lab.state.experiment[c.field] || input.value === "") input.value = String(lab.state.experiment[c.field]);
  });
  return el("label", { class: "inline" }, c.label, " ", input);
}

function textControl(lab: LabController, field: TextField, label: string, max: number, sync: Array<() => void>): HTMLElement {
  const input = field === "genPrompt"
    ? el("textarea", { rows: 2, maxlength: max, spellcheck: false, "data-testid": "gen-prompt", "aria-label": label })
    : el("input", { type: "text", maxlength: max, spellcheck: false, "data-testid": `gen-${field}`, "aria-label": label });
  input.addEventListener("input", () => lab.update({ [field]: input.value } as Partial<Experiment>));
  sync.push(() => {
    if (input.value !== lab.state.experiment[field]) input.value = lab.state.experiment[field];
  });
  return field === "genPrompt" ? input : el("label", { class: "inline" }, label, " ", input);
}

function hookControl(lab: LabController, sync: Array<() => void>): HTMLElement {
  const select = el("select", { "data-testid": "gen-steerHook", "aria-label": "steering hook" },
    ...STEER_HOOKS.map((h) => el("option", { value: h }, h)));
  select.addEventListener("change", () => lab.update({ steerHook: select.value as Experiment["steerHook"] }));
  sync.push(() => (select.value = lab.state.experiment.steerHook));
  return el("label", { class: "inline" }, "hook ", select);
}

function topTable(step: GeneratedToken & { top: GeneratedToken[] }, caption: string): HTMLTableElement {
  return el("table", { class: "topk", "data-testid": "gen-top5" },
    el("caption", { class: "muted" }, caption),
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "token"), el("th", {}, "id"), el("th", {}, "prob"), el("th", {}, "sampling prob"))),
    el("tbody", {}, ...step.top.map((t, i) => el("tr", { "data-token": t.token, class: t.token === step.token ? "chosen" : "" },
      el("td", {}, i + 1), el("td", { class: "tok" }, visibleToken(t.str)), el("td", {}, t.token),
      el("td", { "data-prob": t.prob }, percent(t.prob)), el("td", {}, percent(t.sampleProb))))));
}

function columnView(lab: LabController, name: GenerateColumnName, column: GenerateColumn): HTMLElement {
  const selected = lab.state.generate.selected;
  const chips = column.steps.map((step, i) => el("button", {
    class: "token", "data-index": i, "data-id": step.token, "data-prob": step.prob,
    "aria-pressed": String(selected?.column === name && selected.index === i),
    title: `step ${i} · id ${step.token} · p = ${step.prob.toPrecision(3)}`, onclick: () => lab.generator.select(name, i),
  }, el("span", { class: "text" }, visibleToken(step.str)), el("span", { class: "id" }, percent(step.prob))));
  const status = column.status === "running" ? `generating… ${column.steps.length} / ${lab.state.experiment.maxNewTokens}`
    : column.status === "cancelled" ? `stopped after ${column.steps.length} tokens`
    : column.status === "done" ? `${column.steps.length} tokens` : "";
  return el("div", { class: "gen-column", "data-column": name, "data-status": column.status },
    el("h3", {}, COLUMN_TITLES[name]),
    el("div", { class: "tokens", role: "group", "data-testid": `gen-tokens-${name}`, "aria-label": `${name} continuation` }, ...chips),
    column.text !== undefined ? el("p", { class: "gen-text", "data-testid": `gen-text-${name}` }, column.text) : null,
    column.error ? el("p", { class: "error", role: "alert", "data-testid": `gen-error-${name}` }, column.error) : null,
    el("p", { class: "muted", "data-testid": `gen-status-${name}` }, status));
}

export function generateView(lab: LabController): HTMLElement {
  const sync: Array<() => void> = [];
  const prompt = textControl(lab, "genPrompt", "generation prompt", MAX_TEXT, sync);
  const generate = el("button", { "data-testid": "gen-run", onclick: () => void lab.generator.run() }, "Generate");
  const stop = el("button", { class: "secondary", "data-testid": "gen-stop", onclick: () => lab.generator.stop() }, "Stop");
  const sampling = el("div", { class: "row" }, ...NUMBER_CONTROLS.map((c) => numberControl(lab, c, sync)));
  const steering = el("div", { class: "row" }, el("strong", {}, "Steering (activation addition):"), hookControl(lab, sync),
    ...STEER_NUMBER_CONTROLS.map((c) => numberControl(lab, c, sync)),
    textControl(lab, "steerTo", "add (to)", MAX_ANSWER, sync), textControl(lab, "steerFrom", "subtract (from)", MAX_ANSWER, sync));
  const columns = el("div", { class: "columns", "data-testid": "gen-columns" });
  const detail = el("div", { "data-testid": "gen-detail" });
  const badge = staleBadge("gen-stale");

  const render = () => {
    const s = lab.state;
    for (const f of sync) f();
    const g = s.generate;
    const ready = s.model.phase === "ready";
    generate.toggleAttribute("disabled", !ready);
    stop.toggleAttribute("disabled", !lab.generator.running);
    markStale(columns, badge, g.inputs ? changedInputs(g.inputs, s.experiment) : [], "press Generate");
    replaceChildren(columns, ...GENERATE_COLUMNS.map((name) => columnView(lab, name, g.columns[name])));
    const sel = g.selected;
    const step = sel ? g.columns[sel.column].steps[sel.index] : undefined;
    replaceChildren(detail, step ? topTable(step, `${COLUMN_TITLES[sel!.column]}, step ${sel!.index}: the most likely tokens`)
      : el("p", { class: "muted" }, ready ? "Click a generated token to see that step's top-5." : "Waiting for the model…"));
  };
  lab.store.subscribe((_, changed) => (changed.has("generate") || changed.has("experiment") || changed.has("model")) && render());
  render();
  return section("Generate", badge, prompt, el("div", { class: "row" }, generate, stop), sampling, steering,
    el("p", { class: "muted" }, "Both columns use the same seed; the steered one adds coefficient × (acts(to) − acts(from)) at the hook, over the prompt's first positions."),
    columns, detail);
}
