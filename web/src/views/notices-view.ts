// Notices: what could not be restored from a link, errors from the engine. Text only.
import type { LabController } from "../app/lab-controller";
import { el, replaceChildren } from "./dom";

export function noticesView(lab: LabController): HTMLElement {
  const root = el("div", { class: "notices", role: "status", "aria-live": "polite" });
  const render = () => {
    const notices = lab.state.notices;
    replaceChildren(root, ...notices.map((n) => el("div", { class: `notice ${n.kind === "error" ? "error" : ""}`, "data-notice": n.kind }, n.text,
      n.action ? el("button", { class: "secondary", onclick: () => {
        lab.store.set({ notices: lab.state.notices.filter((other) => other !== n) });
        n.action!.run();
      } }, n.action.label) : null)),
      notices.length ? el("button", { class: "secondary", onclick: () => lab.dismissNotices() }, "Dismiss") : null);
  };
  lab.store.subscribe((_, changed) => changed.has("notices") && render());
  render();
  return root;
}
