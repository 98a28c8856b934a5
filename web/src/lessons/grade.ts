// Grading and model adaptation, pure: which inputs and expected answers a lesson uses on the
// loaded model, how an answer is read from the model's numbers, and whether the learner's
// answer or edited prompt passes. The lab computes the numbers (lesson-runner.ts); this file
// decides, so the rules are testable without a model.
import { ANSWERS, INPUTS, MODEL_ALIASES, isOneOf, type AnswerKind, type Comparator } from "./table";
import type { Lesson, LessonInputs, QuestionBlock } from "./parse";

/** The lesson's name for the loaded model (its id, or an alias such as "gpt2" for openai-community/gpt2). */
export function worksOn(lesson: Lesson, modelName: string): { ok: true; name: string } | { ok: false; message: string } {
  const name = lesson.models.find((m) => m === modelName || (MODEL_ALIASES[m] ?? []).includes(modelName));
  if (name) return { ok: true, name };
  return { ok: false, message: `This lesson works on ${lesson.models.join(", ")}; the loaded model is ${modelName || "none"}. Load one of those models to answer its questions.` };
}

/** The lesson's inputs with the loaded model's overrides applied. */
export function inputsFor(lesson: Lesson, modelName: string): LessonInputs {
  const merged: LessonInputs = { ...lesson.inputs };
  for (const [key, value] of Object.entries(lesson.overrides[modelName] ?? {})) {
    if (isOneOf(INPUTS, key)) merged[key] = value;
  }
  return merged;
}

/** A fixed expected answer: the model's override (`<question id>: value`), else the question's own `expect:`. */
export function fixedExpectation(lesson: Lesson, modelName: string, q: QuestionBlock): string | undefined {
  return lesson.overrides[modelName]?.[q.id] ?? q.expect;
}

export interface HeadRef { layer: number; head: number }

/** "1.3", "L1H3", "1 3", "1,3" -> layer 1 head 3. */
export function parseHead(text: string): HeadRef | null {
  const m = /^\s*L?\s*(\d{1,3})\s*(?:[.,:\s]|H)\s*H?\s*(\d{1,3})\s*$/i.exec(text);
  return m ? { layer: Number(m[1]), head: Number(m[2]) } : null;
}

export function formatHead(h: HeadRef): string { return `L${h.layer}H${h.head}`; }

/** Index of the largest value (first on ties); -1 for an empty or all-NaN array. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]) && (best < 0 || values[i] > values[best])) best = i;
  return best;
}

/** The [layers, heads] cell with the largest value, as a head. */
export function argmaxHead(values: ArrayLike<number>, heads: number): HeadRef | null {
  const i = argmax(values);
  return i < 0 || heads <= 0 ? null : { layer: Math.floor(i / heads), head: i % heads };
}

/** Pearson correlation; NaN when either side has no variance. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i] / n; mb += b[i] / n; }
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) ** 2; sbb += (b[i] - mb) ** 2; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

export interface Grade { correct: boolean; message: string }

/** Compare the learner's answer with the expected one (formatted as answerText gives it). */
export function grade(kind: AnswerKind, expected: string, given: string, tolerance: number): Grade {
  const g = given.trim();
  if (!g) return { correct: false, message: "Type an answer first." };
  if (kind === "token") {
    const ok = g === expected.trim();
    return { correct: ok, message: ok ? "Correct." : "Not that token: look at the view again." };
  }
  if (kind === "head") {
    const want = parseHead(expected), got = parseHead(g);
    if (!got) return { correct: false, message: "Write a head as layer.head, e.g. 1.3 or L1H3." };
    const ok = !!want && want.layer === got.layer && want.head === got.head;
    return { correct: ok, message: ok ? "Correct." : `Not ${formatHead(got)}.` };
  }
  const want = Number(expected), got = Number(g);
  if (!Number.isFinite(got)) return { correct: false, message: kind === "layer" ? "Write a layer number, e.g. 2." : "Write a number, e.g. 1.25." };
  if (kind === "layer" && !Number.isInteger(got)) return { correct: false, message: "A layer is a whole number." };
  // The slack absorbs decimal round-off (1.4 vs 1.5 is 0.10000000000000009 apart), nothing more.
  const ok = Math.abs(got - want) <= tolerance + 1e-9 * Math.max(1, Math.abs(want));
  return { correct: ok, message: ok ? "Correct." : kind === "number" && tolerance > 0 ? `Not within ±${tolerance} of the model's value.` : `Not layer ${got}.` };
}

/** The expected answer as the learner would type it. */
export function answerText(kind: AnswerKind, value: number | string | HeadRef): string {
  if (kind === "head") return formatHead(value as HeadRef);
  if (kind === "number" && typeof value === "number") return String(Math.round(value * 1e6) / 1e6);
  return String(value);
}

export function answerKind(q: QuestionBlock): AnswerKind { return ANSWERS[q.answer].kind; }

export function conditionHolds(value: number, comparator: Comparator, threshold: number): boolean {
  if (!Number.isFinite(value)) return false;
  switch (comparator) {
    case "<": return value < threshold;
    case "<=": return value <= threshold;
    case ">": return value > threshold;
    case ">=": return value >= threshold;
    case "==": return value === threshold;
  }
}

/** Step number from a link (1-based in the URL), clamped into the lesson. */
export function clampStep(raw: string | null | undefined, steps: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, steps) - 1 : 0;
}

/**
 * Mean next-token loss on the first half of a repeated sequence minus that on the second half
 * (loss.perToken has one entry per predicted token; an odd middle entry counts in neither).
 */
export function halfLossDrop(perToken: ArrayLike<number>): number {
  const half = Math.floor(perToken.length / 2);
  if (half === 0) return NaN;
  let first = 0, second = 0;
  for (let i = 0; i < half; i++) { first += perToken[i] / half; second += perToken[perToken.length - half + i] / half; }
  return first - second;
}
