// <hooklab-experiment state="v=1&..."> for course pages, from one line of HTML:
//   <script src="https://LAB/hooklab-embed.js" async></script><hooklab-experiment state="v=1&…"></hooklab-experiment>
// An iframe of the lab in embed mode on the lab's own origin: the engine, its worker and the
// cached weights stay there (shared by every embed on the same site), and it works on pages that
// are not cross-origin isolated (the single-threaded build runs there). The frame reports its
// content height (web/src/embed/embed-height.ts); this element applies it, so the frame never
// cuts the lab off or leaves a gap.
//
// Built as a classic script (web/vite.config.ts, embedScript): module scripts from another
// origin need CORS headers, which LMS file areas and other static hosts do not send. So the
// lab's address comes from document.currentScript, not import.meta.
import { HEIGHT_MESSAGE, MAX_EMBED_HEIGHT, MIN_EMBED_HEIGHT } from "./embed-height";

const scriptUrl = (document.currentScript as HTMLScriptElement | null)?.src ?? location.href;
const LAB_BASE = new URL("./", scriptUrl).href;
const LAB_ORIGIN = new URL(LAB_BASE).origin;

class HooklabExperiment extends HTMLElement {
  static observedAttributes = ["state", "height", "width"];
  private frame?: HTMLIFrameElement;
  private readonly onMessage = (event: MessageEvent) => {
    // Only this element's own frame, on the lab's origin, may size it.
    if (!this.frame || event.origin !== LAB_ORIGIN || event.source !== this.frame.contentWindow) return;
    const data = event.data as { type?: unknown; height?: unknown } | null;
    if (data?.type !== HEIGHT_MESSAGE || typeof data.height !== "number" || !Number.isFinite(data.height)) return;
    const height = Math.min(MAX_EMBED_HEIGHT, Math.max(MIN_EMBED_HEIGHT, Math.ceil(data.height)));
    this.frame.style.height = `${height}px`;
  };

  connectedCallback(): void {
    window.addEventListener("message", this.onMessage);
    this.render();
  }

  disconnectedCallback(): void {
    window.removeEventListener("message", this.onMessage);
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
    frame.style.maxWidth = "100%";
    frame.style.height = `${Number(this.getAttribute("height")) || 560}px`;
    frame.style.border = "1px solid #ccc";
    frame.style.borderRadius = "6px";
    frame.style.display = "block";
    this.frame = frame;
    this.replaceChildren(frame);
  }
}

if (!customElements.get("hooklab-experiment")) customElements.define("hooklab-experiment", HooklabExperiment);
