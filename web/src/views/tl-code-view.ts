// "Show as TransformerLens code": a button beside a view that opens a panel with the Python
// reproducing it (analysis/tl-code.ts) and a Copy button. The code is shown as text only.
import type { LabController } from "../app/lab-controller";
import { specFromExperiment, tlCode, type TlCodeSpec, type TlView } from "../analysis/tl-code";
import { SWEEP_CHOICES, type SweepChoice } from "../state/experiment";
import { el, replaceChildren } from "./dom";

export interface CodeChoice {
  label: string;
  spec: TlCodeSpec;
}

/** The code the panel offers now; several choices (e.g. one per patching sweep) get a picker. */
export function tlCodeButton(id: string, choices: () => CodeChoice[]): HTMLElement {
  const panel = el("div", { class: "tl-code", hidden: true, "data-testid": `tl-code-panel-${id}` });
  const button = el("button", { class: "secondary tl-code-toggle", "data-testid": `tl-code-${id}`, "aria-expanded": "false" },
    "Show as TransformerLens code");
  const render = (picked = 0) => {
    const list = choices();
    if (list.length === 0) return replaceChildren(panel, el("p", { class: "muted" }, "Nothing to show yet."));
    const choice = list[Math.min(picked, list.length - 1)];
    let code: string;
    try {
      code = tlCode(choice.spec);
    } catch (e) {
      return replaceChildren(panel, el("p", { class: "notice" }, (e as Error).message));
    }
    const pre = el("pre", { "data-testid": `tl-code-text-${id}` }, el("code", {}, code));
    const status = el("span", { class: "muted", role: "status" });
    const copy = el("button", { class: "secondary", "data-testid": `tl-code-copy-${id}`, onclick: () => {
      navigator.clipboard.writeText(code).then(() => (status.textContent = "Copied."), () => {
        getSelection()?.selectAllChildren(pre);
        status.textContent = "Selected: press Ctrl+C to copy.";
      });
    } }, "Copy");
    const picker = list.length > 1 ? el("select", { "aria-label": "which code" }, ...list.map((c, i) => el("option", { value: i }, c.label))) : null;
    if (picker) {
      picker.value = String(list.indexOf(choice));
      picker.addEventListener("change", () => render(Number(picker.value)));
    }
    replaceChildren(panel, el("div", { class: "row" }, picker, copy, status), pre);
  };
  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    button.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) render();
  });
  return el("div", { class: "tl-code-box" }, button, panel);
}

/** A view's code from the lab's current experiment (the inside views use their resolved pair). */
export function viewCodeButton(lab: LabController, view: TlView): HTMLElement {
  return tlCodeButton(view, () => {
    const pair = lab.state.inside?.pair;
    const resolved = pair && !pair.error ? { answer: pair.answer, wrong: pair.wrong } : undefined;
    return [{ label: view, spec: specFromExperiment(lab.state.experiment, view, { pair: resolved }) }];
  });
}

/** Patching or dataset code: one choice per selected sweep, with the experiment's method. */
export function sweepCodeButton(lab: LabController, view: "patching" | "dataset"): HTMLElement {
  return tlCodeButton(view, () => {
    const e = lab.state.experiment;
    const sweeps: SweepChoice[] = e.sweeps.length ? e.sweeps : [SWEEP_CHOICES[0]];
    return sweeps.map((sweep) => ({ label: `${sweep} (${e.method})`, spec: specFromExperiment(e, view, { sweep }) }));
  });
}
