// What the lesson tests import: the pure parser, grader and Markdown layer of web/src/lessons.
export * from "../../web/src/lessons/table";
export * from "../../web/src/lessons/parse";
export * from "../../web/src/lessons/grade";
export { lessonMarkdownToHtml, safeUrl } from "../../web/src/lessons/markdown";
export { parseTrainingRecord, inductionFormationStep, bestHead, TRAINING_LIMITS } from "../../web/src/analysis/training";
export { isPlainPath } from "../../web/src/engine/paths";
