// Attention patterns (seed tutorial 1 / CircuitsVis AttentionHeads): every head of a layer as a
// small heatmap, one head enlarged with token labels, and hovering a token colours the prompt
// by where that token attends.
import { interpolateViridis, rgb } from "d3";
import type { LabController } from "../app/lab-controller";
import { visibleToken } from "../analysis/token-display";
import { el, formatNumber, replaceChildren } from "./dom";
import { renderHeatmap } from "./heatmap";

function headCanvas(pattern: Float32Array, positions: number, pixel: number): HTMLCanvasElement {
  const canvas = el("canvas", { width: positions, height: positions, style: `width:${positions * pixel}px;height:${positions * pixel}px` });
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(positions, positions);
  for (let i = 0; i < positions * positions; i++) {
    const c = rgb(interpolateViridis(pattern[i]));
    image.data.set([c.r, c.g, c.b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

export function attentionView(lab: LabController): HTMLElement {
  const root = el("div", { "data-testid": "attention" });
  const render = () => {
    const s = lab.state;
    const inside = s.inside;
    if (!inside?.patterns || !s.cfg) {
      replaceChildren(root, el("p", { class: "muted" }, "Computing attention patterns…"));
      return;
    }
    // The patterns' own tokens: the prompt may have changed since (the view is then marked stale).
    const P = inside.strs.length, H = s.cfg.n_heads;
    const layer = Math.min(s.experiment.layer, s.cfg.n_layers - 1);
    const head = s.experiment.head;
    const pattern = inside.patterns[layer];
    const layerSelect = el("select", { "aria-label": "layer", "data-testid": "attention-layer" },
      ...Array.from({ length: s.cfg.n_layers }, (_, l) => el("option", { value: l, selected: l === layer }, `layer ${l}`)));
    layerSelect.addEventListener("change", () => lab.update({ layer: Number(layerSelect.value) }));
    const pixel = Math.max(2, Math.min(8, Math.floor(96 / P)));
    const grid = el("div", { class: "grid-heads", role: "group", "aria-label": `heads of layer ${layer}` },
      ...Array.from({ length: H }, (_, h) => el("figure", {
        tabindex: 0, role: "button", "aria-pressed": String(h === head), "data-head": h, "aria-label": `L${layer}H${h}`,
        onclick: () => lab.update({ head: h === head ? null : h }),
        onkeydown: (e: Event) => {
          if ((e as KeyboardEvent).key === "Enter") lab.update({ head: h === head ? null : h });
        },
      }, headCanvas(pattern.subarray(h * P * P, (h + 1) * P * P), P, pixel), el("figcaption", {}, `L${layer}H${h}`))));

    const strs = inside.strs.map(visibleToken);
    let detail: HTMLElement = el("p", { class: "muted" }, "Click a head to enlarge it.");
    if (head !== null && head < H) {
      const values = pattern.subarray(head * P * P, (head + 1) * P * P);
      const strip = el("div", { class: "tokens", "aria-label": "hover a token to see where it attends" });
      const paint = (dest: number | null) => {
        strip.querySelectorAll<HTMLElement>("[data-position]").forEach((span) => {
          const src = Number(span.dataset.position);
          const w = dest === null ? 0 : values[dest * P + src];
          span.style.background = dest === null ? "" : interpolateViridis(w);
          span.style.color = dest !== null && w < 0.6 ? "#fff" : "";
          span.title = dest === null ? "" : `attention from ${dest} to ${src}: ${formatNumber(w, 4)}`;
        });
      };
      strs.forEach((t, i) => {
        const span = el("span", { class: "token", "data-position": i, tabindex: 0 }, t);
        span.addEventListener("mouseenter", () => paint(i));
        span.addEventListener("focus", () => paint(i));
        span.addEventListener("mouseleave", () => paint(null));
        strip.append(span);
      });
      const labels = strs.map((t, i) => `${i} ${t}`);
      detail = el("div", {},
        renderHeatmap({
          id: `attention-L${layer}H${head}`, title: `L${layer}H${head}: destination × source`, rowLabels: labels, colLabels: labels,
          values, xLabel: "source (key)", yLabel: "destination (query)", scale: "sequential", domain: [0, 1],
          cellSize: Math.max(10, Math.min(26, Math.floor(520 / P))),
        }),
        el("h3", {}, "Where does each token attend? (hover)"), strip);
    }
    replaceChildren(root, el("div", { class: "row" }, layerSelect, el("span", { class: "muted" }, `${H} heads, ${P} tokens`)), grid, detail);
  };
  lab.store.subscribe((_, changed) => (changed.has("inside") || changed.has("experiment")) && render());
  render();
  return root;
}
