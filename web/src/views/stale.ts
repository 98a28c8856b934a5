// Out-of-date results: dimmed, with a badge that says which inputs changed and what brings the
// result up to date. The badge is a live status, so screen readers hear it too.
import { staleMessage } from "../state/result-inputs";
import { el, replaceChildren } from "./dom";

/**
 * Marks `results` stale (or current) and fills `badge` with why. `changed` lists the inputs
 * that differ from those the results were computed from; empty means current.
 */
export function markStale(results: HTMLElement, badge: HTMLElement, changed: readonly string[], remedy: string): void {
  const stale = changed.length > 0;
  results.classList.toggle("stale", stale);
  results.dataset.stale = String(stale);
  if (stale) results.setAttribute("aria-description", staleMessage(changed, remedy));
  else results.removeAttribute("aria-description");
  replaceChildren(badge, stale ? el("span", { class: "stale-badge" }, staleMessage(changed, remedy)) : null);
}

/** The badge element that markStale fills (placed outside the dimmed results). */
export function staleBadge(testId: string): HTMLElement {
  return el("div", { role: "status", "aria-live": "polite", "data-testid": testId });
}
