// The closed sets of the lesson format, in one place: which directives a lesson may use, which
// lab views a `view` directive may show, which answers a `question` computes from the loaded
// model and which metrics a `yourturn` condition reads. The parser, the grader, the renderer and
// the README's format reference all read these tables.

/** Block directives (`:::name args` ... `:::`). */
export const DIRECTIVES = ["view", "question", "yourturn"] as const;
export type DirectiveName = (typeof DIRECTIVES)[number];

/** The lab views a lesson can show live (each the lab's own view, fed by the lesson's inputs). */
export const VIEWS = {
  "tokens": "the prompt split into tokens",
  "predictions": "top-k next-token predictions at every position",
  "residual-norms": "residual-stream norm per layer (run_with_cache)",
  "attention": "attention patterns of one layer",
  "logit-lens": "logit lens over layers",
  "dla": "direct logit attribution per head",
  "head-detectors": "previous-token, duplicate-token and induction scores per head",
  "patching": "activation patching of the residual stream, clean vs corrupted",
  "attribution": "attribution patching next to exact patching",
  "path-patching": "path patching: each sender head's effect through chosen receivers (param receivers: logits or e.g. 2.0:q)",
  "training": "the training loss and the head detectors at each training checkpoint (models that ship them)",
} as const;
export type ViewName = keyof typeof VIEWS;

/** What kind of value an answer is, which decides the input the learner gets and how it is graded. */
export type AnswerKind = "token" | "layer" | "head" | "number";

/** Answers a question computes from the loaded model; `uses` is the lesson input it reads. */
export const ANSWERS = {
  "token-count": { kind: "number", uses: "prompt", about: "number of tokens in the prompt (with BOS)" },
  "next-token": { kind: "token", uses: "prompt", about: "the model's most likely next token after the prompt" },
  "peak-norm-layer": { kind: "layer", uses: "prompt", about: "layer whose residual stream (resid_post) has the largest norm" },
  "logit-diff": { kind: "number", uses: "clean", about: "logit(answer) - logit(wrong) on the clean prompt" },
  "corrupted-logit-diff": { kind: "number", uses: "corrupted", about: "logit(answer) - logit(wrong) on the corrupted prompt" },
  "top-patch-layer": { kind: "layer", uses: "clean", about: "layer where patching resid_pre at the last position restores most" },
  "top-dla-head": { kind: "head", uses: "clean", about: "head with the largest direct logit attribution to answer - wrong" },
  "top-induction-head": { kind: "head", uses: "prompt", about: "head with the largest induction score on repeated random tokens" },
  "induction-loss-drop": { kind: "number", uses: "prompt", about: "mean loss on the first half minus mean loss on the second half of a repeated sequence" },
  "attribution-agreement": { kind: "number", uses: "clean", about: "correlation of attribution patching with exact patching over resid_pre cells" },
  "top-path-head": { kind: "head", uses: "clean", about: "head whose path to the logits (every other head frozen) carries most of the logit difference (path patching, noising: the largest drop)" },
  "top-path-head-driver": { kind: "head", uses: "clean", about: "head that most changes the logit difference through the queries, keys or values of the top-path-head (path patching to its q, k and v)" },
  "induction-formation-step": { kind: "number", uses: "prompt", about: "training step of the first checkpoint whose best induction score reaches half the finished model's" },
} as const satisfies Record<string, { kind: AnswerKind; uses: InputName; about: string }>;
export type AnswerName = keyof typeof ANSWERS;

/** Metrics a `yourturn` condition can read on the learner's edited input. */
export const METRICS = {
  "logit-diff": "logit(answer) - logit(wrong) at the last position",
  "answer-rank": "rank of the answer among next-token predictions (0 = top)",
  "token-count": "number of tokens (with BOS)",
} as const;
export type MetricName = keyof typeof METRICS;

export const COMPARATORS = ["<", "<=", ">", ">=", "=="] as const;
export type Comparator = (typeof COMPARATORS)[number];

/** Inputs a lesson sets in the lab (front matter and per-model overrides). */
export const INPUTS = ["prompt", "clean", "corrupted", "answer", "wrong"] as const;
export type InputName = (typeof INPUTS)[number];

/** Bounds on an untrusted lesson file, checked before anything else is built from it. */
export const LIMITS = {
  maxChars: 200_000,
  maxSteps: 40,
  maxDirectives: 120,
  maxHints: 5,
  maxModels: 8,
  maxFieldChars: 2_000,
  maxFetchMs: 10_000,
} as const;

export function isOneOf<T extends string>(set: readonly T[] | Record<T, unknown>, v: string): v is T {
  return Array.isArray(set) ? (set as readonly string[]).includes(v) : Object.prototype.hasOwnProperty.call(set, v);
}

/** Short names a lesson's `models:` may use for models the lab loads under a longer id. */
export const MODEL_ALIASES: Record<string, readonly string[]> = {
  "gpt2": ["gpt2", "openai-community/gpt2"],
};
