// Share and embed: the experiment's URL (copy button) and snippets for course pages.
import type { LabController } from "../app/lab-controller";
import { el } from "./dom";

export function embedSnippets(shareUrl: string): { iframe: string; component: string } {
  const url = new URL(shareUrl);
  const embedUrl = new URL(url.href);
  embedUrl.search = "?embed=1";
  const base = new URL("./", url.href).href;
  const state = url.hash.slice(1);
  const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return {
    iframe: `<iframe src="${attr(embedUrl.href)}" width="100%" height="560" style="border:1px solid #ccc;border-radius:6px" title="hooklab experiment" loading="lazy"></iframe>`,
    // One line; the element sizes its frame to the lab's content.
    component: `<script src="${attr(base)}hooklab-embed.js" async></script><hooklab-experiment state="${attr(state)}"></hooklab-experiment>`,
  };
}

export function shareView(lab: LabController): HTMLElement {
  const status = el("span", { class: "muted", "aria-live": "polite", "data-testid": "share-status" });
  const snippet = el("textarea", { class: "embed-snippet", readonly: true, "aria-label": "embed snippet", "data-testid": "embed-snippet", hidden: true });
  const copy = async (text: string, what: string) => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = `${what} copied.`;
    } catch {
      status.textContent = `Copy failed; select the text and copy it.`;
    }
  };
  const share = el("button", { "data-testid": "share", onclick: () => {
    const url = lab.shareUrl();
    if (lab.state.experiment.model === "local") status.textContent = "Local model files cannot be shared; the link opens the demo model.";
    history.replaceState(null, "", url);
    void copy(url, "Link");
  } }, "Copy link");
  const embed = el("button", { class: "secondary", "data-testid": "embed", onclick: () => {
    const s = embedSnippets(lab.shareUrl());
    snippet.value = `${s.iframe}\n\n<!-- or, as a web component: -->\n${s.component}`;
    snippet.hidden = false;
    void copy(snippet.value, "Embed snippet");
  } }, "Embed");
  return el("div", { class: "row share" }, share, embed, status, snippet);
}
