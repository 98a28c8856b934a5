// Tiny DOM builder. Text always goes through textContent: nothing a user types, and nothing
// from a URL, is ever parsed as HTML.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      node.addEventListener(key.replace(/^on/, ""), value as EventListener);
    } else if (key === "class") {
      node.className = String(value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function clear(node: Element): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function replaceChildren(node: Element, ...children: Child[]): void {
  clear(node);
  append(node, ...children);
}

/** A labelled section with a heading (used by every panel). */
export function section(title: string, ...children: Child[]): HTMLElement {
  return el("section", { class: "panel", "aria-label": title }, el("h2", {}, title), ...children);
}

export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

/** Black or white, whichever contrasts more with `rgb(r, g, b)` (WCAG relative luminance), so
 *  text on a colour-scale background stays readable anywhere on the scale. */
export function readableTextOn(color: string): "#000" | "#fff" {
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? ["0", "0", "0"]).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with black (L + 0.05) / 0.05 against white 1.05 / (L + 0.05): equal at L ≈ 0.179.
  return luminance > 0.179 ? "#000" : "#fff";
}

/** Observable Plot labels its mark groups with aria-label on plain <g> elements, which ARIA
 *  prohibits (no role); the figure's caption and data table describe the chart instead. */
export function dropProhibitedAriaLabels(root: Element): void {
  root.querySelectorAll("g[aria-label]:not([role])").forEach((g) => g.removeAttribute("aria-label"));
}
