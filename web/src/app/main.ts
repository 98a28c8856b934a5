// The lab page: decode the experiment from the URL, lay out the panels, load the model, keep
// the URL in sync so the page can be shared at any moment.
import "../styles/lab.css";
import { decodeLocation, encodeExperiment } from "../state/url-state";
import { LabController } from "./lab-controller";
import { el, replaceChildren } from "../views/dom";
import { modelBar } from "../views/model-bar";
import { bundledModelShips } from "./model-choices";
import { noticesView } from "../views/notices-view";
import { promptView } from "../views/prompt-view";
import { predictionsView } from "../views/predictions-view";
import { insideView } from "../views/inside-views";
import { patchingView } from "../views/patching-view";
import { pathPatchingView } from "../views/path-patching-view";
import { shareView } from "../views/share-view";
import { generateView } from "../views/generate-view";
import { VIEWS, type ViewChoice } from "../state/experiment";
import { HookedTransformer } from "../engine";
import { LessonController } from "./lesson-controller";
import { lessonView, type BundledLesson } from "../views/lesson-view";
import { reportEmbedHeight } from "../embed/embed-height";

const params = new URLSearchParams(location.search);
const embed = params.get("embed") === "1";
const decoded = decodeLocation(location.hash, location.search);
const lab = new LabController(decoded.experiment, decoded.notices.map((text) => ({ kind: "warning", text })), {
  hubEndpoint: params.get("hub") ?? undefined,
  singleThreaded: embed,
  shipsFile: bundledModelShips,
});

// Lesson mode (#…&lesson=<url>&step=N): the lesson travels in the link beside the experiment.
const assetBase = new URL("./", location.href).href;
const lessons = new LessonController(lab, assetBase);
lab.fragmentExtras = () => lessons.fragment();
const bundledLessons = fetch(new URL("models/lessons/index.json", assetBase))
  .then((r) => (r.ok ? r.json() : [])).then((list: unknown) => (Array.isArray(list) ? list as BundledLesson[] : []));
const lessonPanel = lessonView(lab, lessons, bundledLessons, assetBase);
const hashParams = () => new URLSearchParams(location.hash.slice(1));
lessonPanel.hidden = !hashParams().get("lesson");
if (hashParams().get("lesson")) void lessons.open(hashParams().get("lesson")!, hashParams().get("step"));
const lessonsButton = el("button", { class: "secondary", "data-testid": "lessons-toggle", onclick: () => { lessonPanel.hidden = !lessonPanel.hidden; } }, "Lessons");

// Theme: the system's, unless the user picked one.
const storedTheme = localStorage.getItem("hooklab-theme");
document.documentElement.dataset.theme = storedTheme ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
const themeButton = el("button", { class: "secondary", "aria-label": "toggle dark theme", onclick: () => {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem("hooklab-theme", next);
} }, "◐ theme");

async function openLocalFiles(files: File[]): Promise<void> {
  const byName = (name: string) => files.find((f) => f.name === name);
  const config = byName("config.json"), weights = files.find((f) => f.name.endsWith(".safetensors"));
  if (!config || !weights) {
    lab.notify({ kind: "error", text: "Pick a model directory's config.json and model.safetensors (its tokenizer.json, or vocab.json and merges.txt, if it has its own tokenizer)." });
    return;
  }
  await lab.loadFiles({
    config, weights, tokenizer: byName("tokenizer.json"), vocab: byName("vocab.json"), merges: byName("merges.txt"), name: weights.name,
  });
}

const VIEW_LABELS: Record<ViewChoice, string> = { predict: "Tokens & predictions", inside: "Inside the model", patch: "Activation patching", generate: "Generate" };
const tabs = el("nav", { class: "tabs", role: "tablist", "aria-label": "views" });
const panels: Record<ViewChoice, HTMLElement> = {
  predict: el("div", { role: "tabpanel", "data-view": "predict" }, promptView(lab), predictionsView(lab)),
  inside: el("div", { role: "tabpanel", "data-view": "inside" }, insideView(lab)),
  patch: el("div", { role: "tabpanel", "data-view": "patch" }, patchingView(lab), pathPatchingView(lab)),
  generate: el("div", { role: "tabpanel", "data-view": "generate" }, generateView(lab)),
};
const main = el("main", { class: "lab" });

function renderTabs(): void {
  const view = lab.state.experiment.view;
  replaceChildren(tabs, ...VIEWS.map((v) => el("button", {
    role: "tab", "aria-selected": String(v === view), "data-tab": v, onclick: () => lab.update({ view: v }),
  }, VIEW_LABELS[v])));
  for (const v of VIEWS) panels[v].hidden = v !== view;
}

const embedBar = el("div", { class: "embed-bar" }, el("span", {}, "hooklab"),
  el("a", { href: location.href.replace("?embed=1", ""), target: "_blank", rel: "noopener" }, "open in hooklab ↗"));

replaceChildren(document.getElementById("app")!,
  el("header", { class: "lab" }, el("h1", {}, "hooklab"), modelBar(lab, (files) => void openLocalFiles(files)),
    el("span", { class: "spacer" }), lessonsButton, shareView(lab), themeButton),
  lessonPanel, tabs, embedBar, el("div", { style: "padding: 0 1rem" }, noticesView(lab)), main);
for (const v of VIEWS) main.append(panels[v]);
if (embed) {
  document.body.classList.add("embed");
  reportEmbedHeight(document.getElementById("app")!);
}

// Dropping a model directory's files anywhere on the page loads them.
window.addEventListener("dragover", (event) => {
  if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
});
window.addEventListener("drop", (event) => {
  const files = [...(event.dataTransfer?.files ?? [])];
  if (files.length === 0) return;
  event.preventDefault();
  void openLocalFiles(files);
});

// Keep the URL's fragment equal to the experiment, so copying the address bar shares it.
let urlTimer: ReturnType<typeof setTimeout> | undefined;
lab.store.subscribe((state, changed) => {
  if (changed.has("experiment")) {
    renderTabs();
    clearTimeout(urlTimer);
    urlTimer = setTimeout(() => history.replaceState(null, "", `${location.pathname}${location.search}#${encodeExperiment(state.experiment)}${lessons.fragment()}`), 300);
  }
});
lessons.store.subscribe((state, changed) => {
  if (changed.has("step") || changed.has("status")) history.replaceState(null, "", `${location.pathname}${location.search}#${encodeExperiment(lab.state.experiment)}${lessons.fragment()}`);
  if (state.status !== "closed") lessonPanel.hidden = false;
});
window.addEventListener("hashchange", () => {
  const next = decodeLocation(location.hash);
  const lesson = hashParams().get("lesson");
  if (lesson && lesson !== lessons.state.url) void lessons.open(lesson, hashParams().get("step"));
  else if (lesson) lessons.goTo(Number(hashParams().get("step") ?? 1) - 1);
  for (const text of next.notices) lab.notify({ kind: "warning", text });
  lab.update(next.experiment);
});
renderTabs();

// A shared patching experiment opens with its results, as it was shared. Only a page that
// opened on the patching view: a user who clicks that tab while the model loads gets no
// unasked-for exact sweep.
const openedOnPatching = lab.state.experiment.view === "patch";
void lab.loadModel().then(async () => {
  if (!openedOnPatching || lab.state.experiment.view !== "patch" || lab.state.model.phase !== "ready") return;
  await lab.runPatch();
  if (lab.state.experiment.dataset) await lab.attribution.runDataset();
});

// Tests and curious users can reach the engine from the console.
(window as unknown as { hooklabLab: unknown }).hooklabLab = { lab, lessons, HookedTransformer };
