// What the lesson tests import: the pure parser, grader and Markdown layer of web/src/lessons.
export * from "../../web/src/lessons/table";
export * from "../../web/src/lessons/parse";
export * from "../../web/src/lessons/grade";
export { lessonMarkdownToHtml, safeUrl } from "../../web/src/lessons/markdown";
export { parseTrainingRecord, inductionFormationStep, bestHead, TRAINING_LIMITS } from "../../web/src/analysis/training";
export { isPlainPath } from "../../web/src/engine/paths";
export { receiversLabel, towardSource } from "../../web/src/analysis/path-patching";
import { pathEffects, strongestSender } from "../../web/src/analysis/path-patching";
/** Effects as a plain array and the strongest sender, for assertions. */
export function pathEffectsFor(result: { values: number[]; shape: number[]; receivingMetric: number }, direction: "drop" | "raise" = "drop") {
  const e = pathEffects(result);
  return { effects: Array.from(e.effects), strongest: strongestSender(e, direction) };
}
