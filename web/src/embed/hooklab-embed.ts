// <hooklab-experiment state="v=1&..." height="560"> for course pages: an iframe of the lab in
// embed mode on the lab's own origin. The iframe keeps the engine, its worker and the cached
// weights on the lab's origin (shared by every embed on the same site) and works on pages that
// are not cross-origin isolated (the single-threaded build runs there).
const LAB_BASE = new URL(/* @vite-ignore */ "./", import.meta.url).href;

class HooklabExperiment extends HTMLElement {
  static observedAttributes = ["state", "height", "width"];

  connectedCallback(): void {
    this.render();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.render();
  }

  private render(): void {
    const state = this.getAttribute("state") ?? "";
    const frame = document.createElement("iframe");
    const url = new URL("index.html", LAB_BASE);
    url.search = "?embed=1";
    url.hash = state.startsWith("#") ? state.slice(1) : state;
    frame.src = url.href;
    frame.title = this.getAttribute("title") ?? "hooklab experiment";
    frame.loading = "lazy";
    frame.style.width = this.getAttribute("width") ?? "100%";
    frame.style.height = `${Number(this.getAttribute("height")) || 560}px`;
    frame.style.border = "1px solid #ccc";
    frame.style.borderRadius = "6px";
    this.replaceChildren(frame);
  }
}

if (!customElements.get("hooklab-experiment")) customElements.define("hooklab-experiment", HooklabExperiment);
export { HooklabExperiment };
