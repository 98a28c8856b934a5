// Lesson mode: opens a bundled lesson or one from a URL, steps through it, computes each
// question's expected answer on the loaded model and grades the learner's answers. Progress is
// kept per lesson in localStorage; the lesson and step travel in the link (#…&lesson=<url>&step=N).
// Opening a lesson never touches the experiment except the inputs the lesson itself sets.
import { parseLesson, type Lesson, type QuestionBlock, type YourTurnBlock } from "../lessons/parse";
import { answerKind, clampStep, conditionHolds, fixedExpectation, grade, inputsFor, worksOn, type Grade } from "../lessons/grade";
import { LIMITS } from "../lessons/table";
import { computeAnswer, computeMetric } from "./lesson-answers";
import type { LabController } from "./lab-controller";
import { Store } from "./store";

export interface LessonState {
  status: "closed" | "loading" | "open" | "error";
  url?: string;
  lesson?: Lesson;
  step: number;
  error?: string;
  /** Grades by question / your-turn id (this session). */
  grades: Record<string, Grade & { expected?: string }>;
  /** Ids answered right (kept in localStorage). */
  done: string[];
}

const PROGRESS_KEY = "hooklab.lessons.progress";

/** Fetch with a size limit and a timeout; every failure is one short sentence. */
export async function fetchLessonText(url: string, base: string): Promise<string> {
  let target: URL;
  try { target = new URL(url, base); } catch { throw new Error(`'${url.slice(0, 80)}' is not a URL`); }
  if (!/^https?:$/.test(target.protocol)) throw new Error("a lesson URL starts with http: or https:");
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LIMITS.maxFetchMs);
  try {
    const response = await fetch(target, { signal: abort.signal, mode: "cors", credentials: "omit" });
    if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`.trim());
    const length = Number(response.headers.get("content-length") ?? 0);
    if (length > LIMITS.maxChars * 4) throw new Error(`the file is ${length} bytes; a lesson is at most ${LIMITS.maxChars} characters`);
    const text = await response.text();
    if (text.length > LIMITS.maxChars) throw new Error(`the file is ${text.length} characters; a lesson is at most ${LIMITS.maxChars}`);
    return text;
  } catch (e) {
    if ((e as Error).name === "AbortError") throw new Error(`no answer within ${LIMITS.maxFetchMs / 1000} s`, { cause: e });
    if (e instanceof TypeError) throw new Error("the file could not be fetched (network error, or the server does not allow CORS)", { cause: e });
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export class LessonController {
  readonly store = new Store<LessonState>({ status: "closed", step: 0, grades: {}, done: [] });

  constructor(private readonly lab: LabController, private readonly base: string) {}

  get state(): Readonly<LessonState> { return this.store.get(); }

  /** The link's part for the lesson ("" when none is open). */
  fragment(): string {
    const s = this.state;
    return s.url && s.status !== "closed" ? `&${new URLSearchParams({ lesson: s.url, step: String(s.step + 1) })}` : "";
  }

  async open(url: string, step?: string | null): Promise<void> {
    this.store.set({ status: "loading", url, error: undefined, lesson: undefined, grades: {} });
    try {
      const parsed = parseLesson(await fetchLessonText(url, this.base));
      if (!parsed.ok) throw new Error(parsed.error);
      const lesson = parsed.lesson;
      this.store.set({ status: "open", lesson, step: clampStep(step, lesson.steps.length), done: this.loadProgress(url) });
      this.applyInputs();
    } catch (e) {
      this.store.set({ status: "error", error: `Could not open the lesson ${url.slice(0, 120)}: ${(e as Error).message}` });
    }
  }

  close(): void { this.store.set({ status: "closed", url: undefined, lesson: undefined, error: undefined }); }

  goTo(step: number): void {
    const lesson = this.state.lesson;
    if (!lesson) return;
    this.store.set({ step: Math.max(0, Math.min(lesson.steps.length - 1, step)) });
  }

  /** The loaded model's check: the lesson's name for it, or the message that it is not one. */
  modelCheck(): ReturnType<typeof worksOn> | undefined {
    return this.state.lesson ? worksOn(this.state.lesson, this.lab.state.experiment.model) : undefined;
  }

  /** The lesson's inputs for the loaded model, put into the experiment (only those it sets). */
  applyInputs(): void {
    const check = this.modelCheck();
    if (!check?.ok) return;
    const inputs = inputsFor(this.state.lesson!, check.name);
    const patch = Object.fromEntries(Object.entries(inputs).filter(([k, v]) => (this.lab.state.experiment as unknown as Record<string, unknown>)[k] !== v));
    if (Object.keys(patch).length) this.lab.update(patch);
  }

  async answer(q: QuestionBlock, given: string): Promise<void> {
    await this.check(q.id, async (model, name) => {
      const expected = fixedExpectation(this.state.lesson!, name, q)
        ?? await computeAnswer(model, q.answer, inputsFor(this.state.lesson!, name),
          { tokenPool: await this.lab.tokenPool(), trainingScores: () => this.lab.training.scoreAll() });
      return { ...grade(answerKind(q), expected, given, q.tolerance), expected };
    });
  }

  async tryYourTurn(y: YourTurnBlock, edited: string): Promise<void> {
    await this.check(y.id, async (model, name) => {
      const value = await computeMetric(model, y.metric, inputsFor(this.state.lesson!, name), edited);
      const ok = conditionHolds(value, y.comparator, y.threshold);
      return { correct: ok, message: `${y.metric} = ${Math.round(value * 1000) / 1000}: ${ok ? "done!" : `not yet ${y.comparator} ${y.threshold}`}` };
    });
  }

  private async check(id: string, work: (model: NonNullable<LabController["loadedModel"]>, name: string) => Promise<Grade & { expected?: string }>): Promise<void> {
    const model = this.lab.loadedModel, check = this.modelCheck();
    let result: Grade & { expected?: string };
    if (!check?.ok) result = { correct: false, message: check?.message ?? "No lesson is open." };
    else if (!model) result = { correct: false, message: "The model is still loading; try again when it is ready." };
    else {
      try { result = await work(model, check.name); } catch (e) { result = { correct: false, message: `Could not compute the answer: ${(e as Error).message}` }; }
    }
    this.store.set({ grades: { ...this.state.grades, [id]: result } });
    if (result.correct && !this.state.done.includes(id)) {
      this.store.set({ done: [...this.state.done, id] });
      this.saveProgress();
    }
  }

  private loadProgress(url: string): string[] {
    try {
      const all = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? "{}") as Record<string, unknown>;
      const list = all[url];
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string").slice(0, LIMITS.maxDirectives) : [];
    } catch { return []; }
  }

  private saveProgress(): void {
    try {
      const all = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? "{}") as Record<string, unknown>;
      all[this.state.url!] = this.state.done;
      localStorage.setItem(PROGRESS_KEY, JSON.stringify(all));
    } catch { /* storage full or blocked: progress stays for this session */ }
  }
}
