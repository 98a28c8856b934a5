// Prompt and its tokens: chips with position and id, BOS marked, whitespace visible; clicking a
// chip selects the position the predictions and lens show.
import type { LabController } from "../app/lab-controller";
import { tokenChips } from "../analysis/token-display";
import { el, replaceChildren, section } from "./dom";
import { MAX_TEXT } from "../state/experiment";
import { viewCodeButton } from "./tl-code-view";
import type { TokenInput } from "../state/token-ids";

export function promptView(lab: LabController): HTMLElement {
  const textarea = el("textarea", { "aria-label": "prompt", rows: 3, maxlength: MAX_TEXT, spellcheck: false, "data-testid": "prompt" });
  textarea.value = lab.state.experiment.prompt;
  textarea.addEventListener("input", () => lab.update({ prompt: textarea.value, position: null }));
  const bos = el("input", { type: "checkbox", "data-testid": "prepend-bos" });
  bos.checked = lab.state.experiment.prependBos;
  bos.addEventListener("change", () => lab.update({ prependBos: bos.checked, position: null }));
  // Token ids instead of text, for toy models whose tokens are not words (the answer and
  // generation boxes follow the same setting).
  const inputMode = el("select", { "aria-label": "read the prompt boxes as", "data-testid": "token-input" },
    el("option", { value: "text" }, "text"), el("option", { value: "ids" }, "token ids"));
  inputMode.addEventListener("change", () => void lab.setTokenInput(inputMode.value as TokenInput));
  const chips = el("div", { class: "tokens", role: "group", "data-testid": "tokens", "aria-label": "tokens" });
  const summary = el("div", { class: "muted" });

  const render = () => {
    const s = lab.state;
    if (textarea.value !== s.experiment.prompt) textarea.value = s.experiment.prompt;
    bos.checked = s.experiment.prependBos;
    inputMode.value = s.experiment.tokenInput;
    textarea.placeholder = s.experiment.tokenInput === "ids" ? "token ids, e.g. 12 7 3 9" : "";
    if (!s.prompt) {
      replaceChildren(chips);
      return;
    }
    const selected = s.experiment.position ?? s.prompt.ids.length - 1;
    replaceChildren(chips, ...tokenChips(s.prompt.ids, s.prompt.strs, s.experiment.prependBos).map((t) =>
      el("button", {
        class: `token ${t.isBos ? "bos" : ""}`, "data-position": t.position, "data-id": t.id,
        "aria-pressed": String(t.position === selected), title: `position ${t.position} · id ${t.id}${t.isBos ? " · BOS" : ""}`,
        "aria-label": `token ${t.position}: ${t.visible}, id ${t.id}`,
        onclick: () => lab.update({ position: t.position }),
      }, el("span", { class: "pos" }, t.position), el("span", { class: "text" }, t.visible), el("span", { class: "id" }, t.id))));
    const n = s.prompt.ids.length;
    summary.textContent = `${n} tokens${s.cfg && n > s.cfg.n_ctx ? ` — more than n_ctx = ${s.cfg.n_ctx}` : ""}`;
  };
  lab.store.subscribe((_, changed) => (changed.has("prompt") || changed.has("experiment")) && render());
  render();
  return section("Prompt", viewCodeButton(lab, "tokens"),
    textarea,
    el("div", { class: "row" }, el("label", { class: "inline" }, bos, "prepend BOS (<|endoftext|>)"),
      el("label", { class: "inline" }, "input as ", inputMode), summary),
    chips);
}
