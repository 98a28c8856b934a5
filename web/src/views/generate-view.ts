// Generate: a prompt, TransformerLens's sampling controls, one steering vector (activation
// addition, or an unembedding / DLA direction) and head ablations; the unsteered and steered continuations stream in side by side as token chips
// with their probability, and clicking a chip shows that step's top-5. Every token string is
// model output rendered as text (dom.ts never parses HTML).
import type { LabController } from "../app/lab-controller";
import { GENERATE_COLUMNS, type GenerateColumn, type GenerateColumnName } from "../app/generate-controller";
import type { GenerateStep } from "../engine";
import { visibleToken } from "../analysis/token-display";
import {
  ABLATIONS, MAX_LAYERS, MAX_ANSWER, MAX_NEW_TOKENS, MAX_SAMPLE_TOP_K, MAX_SEED, MAX_STEER_COEF, MAX_TEMPERATURE, MAX_TEXT, MIN_TOP_P,
  STEER_HOOKS, modelHasActivation, parseHeadList, type Experiment,
} from "../state/experiment";
import { changedInputs } from "../state/result-inputs";
import { el, replaceChildren, section } from "./dom";
import { markStale, staleBadge } from "./stale";
import { viewCodeButton } from "./tl-code-view";

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
const STEER_BY_OPTIONS = [["activations", "two prompts (activation addition)"], ["unembed", "unembedding / DLA direction"]] as const;
/** What the steered column adds, in words, for the setting in force. */
const STEER_EXPLAINED: Record<Experiment["steerBy"], string> = {
  activations: "the steered one adds coefficient × (acts(to) − acts(from)) at the hook, over the prompt's first positions",
  unembed: "the steered one adds coefficient × the unit direction W_U[:, to] − W_U[:, from] (single tokens; leave from empty for W_U[:, to] alone, the DLA view's answer − wrong otherwise) at every position",
};

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

type ChoiceField = "steerHook" | "steerBy" | "ablation";

/** A select bound to one field of a closed set (experiment.ts), each option's label given. */
function choiceControl(lab: LabController, field: ChoiceField, label: string, options: ReadonlyArray<readonly [string, string]>,
  sync: Array<() => void>): HTMLElement {
  const select = el("select", { "data-testid": `gen-${field}`, "aria-label": label }, ...options.map(([v, text]) => el("option", { value: v }, text)));
  select.addEventListener("change", () => lab.update({ [field]: select.value } as Partial<Experiment>));
  sync.push(() => {
    // Hooks an attention-only model lacks (mlp_out, resid_mid) stay listed but cannot be chosen.
    for (const option of select.options) option.disabled = !modelHasActivation(lab.state.cfg, option.value);
    select.value = lab.state.experiment[field];
  });
  return el("label", { class: "inline" }, `${label} `, select);
}

/** The heads box ("1.3, 0.2"): a list the link can hold is stored, anything else reported on the box. */
function headsControl(lab: LabController, sync: Array<() => void>): HTMLElement {
  const input = el("input", { type: "text", spellcheck: false, placeholder: "e.g. 1.3, 0.2", "data-testid": "gen-ablateHeads",
    "aria-label": "heads to ablate (layer.head)" });
  input.addEventListener("change", () => {
    const read = parseHeadList(input.value);
    input.setCustomValidity("problem" in read ? read.problem : "");
    if ("problem" in read) input.reportValidity();
    else lab.update({ ablateHeads: read.heads });
  });
  sync.push(() => {
    const now = lab.state.experiment.ablateHeads.join(", ");
    if (input.validity.valid && parseHeadListText(input.value) !== now) input.value = now;
  });
  return el("label", { class: "inline" }, "ablate heads ", input);
}

const parseHeadListText = (text: string): string => {
  const read = parseHeadList(text);
  return "problem" in read ? text : read.heads.join(", ");
};

function topTable(step: GenerateStep, caption: string): HTMLTableElement {
  return el("table", { class: "topk", "data-testid": "gen-top5" },
    el("caption", { class: "muted" }, caption),
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "token"), el("th", {}, "id"), el("th", {}, "prob"), el("th", {}, "sampling prob"))),
    el("tbody", {}, ...step.top.map((t, i) => el("tr", { "data-token": t.token, class: t.token === step.token ? "chosen" : "" },
      el("td", {}, i + 1), el("td", { class: "tok" }, visibleToken(t.str)), el("td", {}, t.token),
      el("td", { "data-prob": t.prob }, percent(t.prob)), el("td", {}, percent(t.sampleProb))))));
}

/** A clicked token: its step's top-5, and that step opened in the Predict or Inside view. */
function stepDetail(lab: LabController, column: GenerateColumnName, index: number, step: GenerateStep): HTMLElement[] {
  const open = (view: "predict" | "inside", label: string) =>
    el("button", { class: "secondary", "data-testid": `gen-open-${view}`, onclick: () => lab.inspectGenerated(column, index, view) }, label);
  return [topTable(step, `${COLUMN_TITLES[column]}, step ${index}: the most likely tokens`),
    el("div", { class: "row" }, open("predict", "Predictions at this step"), open("inside", "Inside views at this step"),
      el("span", { class: "muted" }, "on the prompt and the tokens before this one (the plain model)"))];
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
  const steering = el("div", { class: "row" }, el("strong", {}, "Steering:"),
    choiceControl(lab, "steerBy", "by", STEER_BY_OPTIONS, sync), choiceControl(lab, "steerHook", "hook", STEER_HOOKS.map((h) => [h, h] as const), sync),
    ...STEER_NUMBER_CONTROLS.map((c) => numberControl(lab, c, sync)),
    textControl(lab, "steerTo", "add (to)", MAX_ANSWER, sync), textControl(lab, "steerFrom", "subtract (from)", MAX_ANSWER, sync));
  const ablation = el("div", { class: "row" }, el("strong", {}, "Ablation (steered column):"), headsControl(lab, sync),
    choiceControl(lab, "ablation", "kind", ABLATIONS.map((a) => [a, a === "zero" ? "zero" : "mean over the prompt"] as const), sync));
  const columns = el("div", { class: "columns", "data-testid": "gen-columns" });
  const explained = el("p", { class: "muted", "data-testid": "gen-explained" });
  const detail = el("div", { "data-testid": "gen-detail" });
  const badge = staleBadge("gen-stale");

  const render = () => {
    const s = lab.state;
    for (const f of sync) f();
    explained.textContent = `Both columns use the same seed; ${STEER_EXPLAINED[s.experiment.steerBy]}; ablated heads apply to the steered column.`;
    const g = s.generate;
    const ready = s.model.phase === "ready";
    generate.toggleAttribute("disabled", !ready);
    stop.toggleAttribute("disabled", !lab.generator.running);
    markStale(columns, badge, g.inputs ? changedInputs(g.inputs, s.experiment) : [], "press Generate");
    replaceChildren(columns, ...GENERATE_COLUMNS.map((name) => columnView(lab, name, g.columns[name])));
    const sel = g.selected;
    const step = sel ? g.columns[sel.column].steps[sel.index] : undefined;
    replaceChildren(detail, ...(step && sel ? stepDetail(lab, sel.column, sel.index, step)
      : [el("p", { class: "muted" }, ready ? "Click a generated token to see that step's top-5." : "Waiting for the model…")]));
  };
  lab.store.subscribe((_, changed) => (changed.has("generate") || changed.has("experiment") || changed.has("model")) && render());
  render();
  return section("Generate", badge, viewCodeButton(lab, "generate"), prompt, el("div", { class: "row" }, generate, stop), sampling, steering,
    ablation, explained,
    columns, detail);
}
