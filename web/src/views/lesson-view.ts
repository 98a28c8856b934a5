// Lesson mode's panel: a picker (bundled lessons or a URL), then the open lesson one step at a
// time. Lesson text is untrusted Markdown and goes through sanitizedLessonHtml; everything else
// (titles, hints, error messages, sources) is set as text.
import type { LabController } from "../app/lab-controller";
import type { LessonController } from "../app/lesson-controller";
import type { Block, QuestionBlock, YourTurnBlock } from "../lessons/parse";
import { sanitizedLessonHtml } from "../lessons/markdown";
import { VIEWS, type ViewName } from "../lessons/table";
import { parseReceiverList, type ViewChoice } from "../state/experiment";
import { el, replaceChildren } from "./dom";

export interface BundledLesson { file: string; title: string }

/** Which lab tab shows each lesson view. */
const VIEW_TAB: Record<ViewName, ViewChoice> = {
  "tokens": "predict", "predictions": "predict", "residual-norms": "inside", "attention": "inside", "logit-lens": "inside",
  "dla": "inside", "head-detectors": "inside", "patching": "patch", "attribution": "patch", "training": "inside",
  "path-patching": "patch",
};

function markdown(text: string, inline = false): HTMLElement {
  const node = el(inline ? "span" : "div", { class: "lesson-text" });
  node.innerHTML = sanitizedLessonHtml(text);
  return node;
}

function viewBlock(lab: LabController, view: ViewName, params: Record<string, string>): HTMLElement {
  const show = () => {
    const patch: Record<string, unknown> = { view: VIEW_TAB[view] };
    if (params.layer !== undefined) patch.layer = Math.max(0, Math.min((lab.state.cfg?.n_layers ?? 1) - 1, Number(params.layer)));
    if (params.head !== undefined) patch.head = Number(params.head);
    if (params.k !== undefined) patch.topK = Math.max(1, Math.min(20, Number(params.k)));
    if (view === "attribution") patch.method = "atp";
    if (view === "path-patching") {
      const read = parseReceiverList(params.receivers ?? "logits");
      patch.pathReceivers = "problem" in read ? [] : read.receivers;
      patch.pathDirection = "noising";
      patch.metric = "logit_diff";  // what the lesson's questions grade
    }
    lab.update(patch);
    if (view === "patching" || view === "attribution") void lab.runPatch();
    if (view === "path-patching") void lab.path.run();
    if (view === "training") void lab.training.scoreAll().catch(() => undefined);  // the view shows the error
  };
  return el("div", { class: "lesson-view", "data-lesson-view": view },
    el("button", { class: "secondary", onclick: show }, `Show in the lab: ${VIEWS[view]}`));
}

function questionBlock(lessons: LessonController, q: QuestionBlock): HTMLElement {
  const result = lessons.state.grades[q.id];
  const input = el("input", { type: "text", "aria-label": `answer to ${q.id}`, "data-testid": `answer-${q.id}` });
  const shownHints = el("ol", { class: "lesson-hints" });
  const hint = el("button", { class: "secondary", disabled: q.hints.length === 0, onclick: () => {
    if (shownHints.children.length < q.hints.length) shownHints.append(el("li", {}, markdown(q.hints[shownHints.children.length], true)));
  } }, "Hint");
  const check = el("button", { "data-testid": `check-${q.id}`, onclick: () => void lessons.answer(q, input.value) }, "Check");
  return el("div", { class: "lesson-question", "data-question": q.id },
    markdown(q.ask), el("div", { class: "row" }, input, check, hint,
      lessons.state.done.includes(q.id) ? el("span", { class: "lesson-done" }, "✓ answered") : null),
    shownHints,
    result ? el("p", { class: result.correct ? "lesson-right" : "lesson-wrong", role: "status", "data-testid": `grade-${q.id}` }, result.message) : null,
    result?.correct && q.explain ? markdown(q.explain) : null);
}

function yourTurnBlock(lab: LabController, lessons: LessonController, y: YourTurnBlock): HTMLElement {
  const result = lessons.state.grades[y.id];
  const current = (lab.state.experiment as unknown as Record<string, string>)[y.edit] ?? "";
  const area = el("textarea", { rows: 2, "aria-label": `your ${y.edit}`, "data-testid": `edit-${y.id}` });
  area.value = current;
  const check = el("button", { "data-testid": `check-${y.id}`, onclick: () => {
    lab.update({ [y.edit]: area.value });
    void lessons.tryYourTurn(y, area.value);
  } }, "Check");
  return el("div", { class: "lesson-yourturn", "data-yourturn": y.id },
    el("strong", {}, "Your turn: "), markdown(y.task), area, el("div", { class: "row" }, check,
      y.hints.length ? el("details", {}, el("summary", {}, "Hints"), ...y.hints.map((h) => markdown(h))) : null),
    result ? el("p", { class: result.correct ? "lesson-right" : "lesson-wrong", role: "status", "data-testid": `grade-${y.id}` }, result.message) : null,
    result?.correct && y.explain ? markdown(y.explain) : null);
}

function block(lab: LabController, lessons: LessonController, b: Block): HTMLElement {
  switch (b.kind) {
    case "text": return markdown(b.markdown);
    case "view": return viewBlock(lab, b.view, b.params);
    case "question": return questionBlock(lessons, b);
    case "yourturn": return yourTurnBlock(lab, lessons, b);
    case "error": return el("div", { class: "lesson-error", role: "note" }, el("strong", {}, `Broken directive: ${b.message}`), el("pre", {}, b.source));
  }
}

function picker(lessons: LessonController, bundled: BundledLesson[], base: string): HTMLElement {
  const select = el("select", { "aria-label": "bundled lesson", "data-testid": "lesson-picker" },
    ...bundled.map((l) => el("option", { value: new URL(`models/lessons/${l.file}`, base).href }, l.title)));
  const url = el("input", { type: "url", placeholder: "https://…/lesson.md", "aria-label": "lesson URL", "data-testid": "lesson-url" });
  return el("div", { class: "row lesson-picker" },
    select, el("button", { "data-testid": "lesson-open", onclick: () => void lessons.open(select.value) }, "Open lesson"),
    url, el("button", { class: "secondary", "data-testid": "lesson-open-url", onclick: () => url.value && void lessons.open(url.value) }, "Open from URL"));
}

function stepView(lab: LabController, lessons: LessonController): HTMLElement[] {
  const { lesson, step } = lessons.state;
  if (!lesson) return [];
  const check = lessons.modelCheck();
  const current = lesson.steps[step];
  return [
    el("h2", { "data-testid": "lesson-title" }, lesson.title),
    check && !check.ok ? el("p", { class: "lesson-wrong", role: "alert", "data-testid": "lesson-model" }, check.message) : null,
    el("div", { class: "row" },
      el("button", { class: "secondary", disabled: step === 0, "data-testid": "lesson-prev", onclick: () => lessons.goTo(step - 1) }, "← Previous"),
      el("span", { "data-testid": "lesson-step" }, `Step ${step + 1} of ${lesson.steps.length}`),
      el("button", { class: "secondary", disabled: step === lesson.steps.length - 1, "data-testid": "lesson-next", onclick: () => lessons.goTo(step + 1) }, "Next →"),
      el("button", { class: "secondary", "data-testid": "lesson-close", onclick: () => lessons.close() }, "Close lesson")),
    el("h3", {}, current.title),
    ...current.blocks.map((b) => block(lab, lessons, b)),
  ].filter((n): n is HTMLElement => !!n);
}

/** The lesson panel; re-renders when the lesson state or the loaded model changes. */
export function lessonView(lab: LabController, lessons: LessonController, bundled: Promise<BundledLesson[]>, base: string): HTMLElement {
  const root = el("section", { class: "panel lesson", "aria-label": "lesson", "data-testid": "lesson-panel" });
  let list: BundledLesson[] = [];
  const render = () => {
    const s = lessons.state;
    replaceChildren(root, picker(lessons, list, base),
      s.status === "loading" ? el("p", { class: "muted" }, "Opening the lesson…") : null,
      s.status === "error" ? el("p", { class: "lesson-wrong", role: "alert", "data-testid": "lesson-error" }, s.error ?? "") : null,
      ...(s.status === "open" ? stepView(lab, lessons) : []));
  };
  void bundled.then((l) => { list = l; render(); }, () => render());
  lessons.store.subscribe(render);
  lab.store.subscribe((state, changed) => {
    if (changed.has("model") && lessons.state.status === "open") { render(); if (state.model.phase === "ready") lessons.applyInputs(); }
  });
  render();
  return root;
}
