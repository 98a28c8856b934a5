// The numbers a lesson's questions and "your turn" steps read, computed from the loaded model
// with the engine's own calls (the same ones the lab's views use). Which number to compute is
// the lesson's choice from a closed table (lessons/table.ts); reading an answer out of the
// numbers (argmax, correlation, halves) is pure and lives in lessons/grade.ts.
import type { HookedTransformer, PathReceiver } from "../engine";
import { PATH_RECEIVER_INPUTS } from "../engine/generated/patching";
import { pathEffects, strongestSender, towardSource } from "../analysis/path-patching";
import { inductionFormationStep, type CheckpointScores } from "../analysis/training";
import { answerText, argmax, argmaxHead, halfLossDrop, pearson, type HeadRef } from "../lessons/grade";
import { ANSWERS, type AnswerName, type MetricName } from "../lessons/table";
import type { LessonInputs } from "../lessons/parse";

type Pair = [[number, number]];

function need(inputs: LessonInputs, key: keyof LessonInputs): string {
  const v = inputs[key];
  if (v === undefined) throw new Error(`the lesson sets no '${key}' for this model`);
  return v;
}

async function answerPair(model: HookedTransformer, inputs: LessonInputs): Promise<Pair> {
  return [[await model.toSingleToken(need(inputs, "answer")), await model.toSingleToken(need(inputs, "wrong"))]];
}

/** logits[-1, answer] - logits[-1, wrong] of one prompt. */
export async function logitDiff(model: HookedTransformer, prompt: string, pair: Pair): Promise<number> {
  const { logits } = await model.runWithHooks(prompt, { fwdHooks: [] });
  const vocab = logits.shape[logits.shape.length - 1], last = logits.data.length / vocab - 1;
  return logits.data[last * vocab + pair[0][0]] - logits.data[last * vocab + pair[0][1]];
}

async function answerRank(model: HookedTransformer, prompt: string, pair: Pair): Promise<number> {
  const { logits } = await model.runWithHooks(prompt, { fwdHooks: [] });
  const vocab = logits.shape[logits.shape.length - 1], base = (logits.data.length / vocab - 1) * vocab;
  const target = logits.data[base + pair[0][0]];
  let rank = 0;
  for (let v = 0; v < vocab; v++) if (logits.data[base + v] > target) rank++;
  return rank;
}

/** resid_pre patching values [layers, positions] (normalized: 1 = clean restored). */
async function residPrePatching(model: HookedTransformer, inputs: LessonInputs, method: "exact" | "atp"): Promise<{ values: Float64Array; shape: number[] }> {
  const request = { sweep: "resid_pre" as const, clean: need(inputs, "clean"), corrupted: need(inputs, "corrupted"), answers: await answerPair(model, inputs), normalize: true };
  if (method === "exact") return model.patch(request);
  return (await model.attribute({ ...request, method: "atp" })) as { values: Float64Array; shape: number[] };
}

/** The sender that moves the logit difference most toward the corrupted run's through `receivers` (path patching,
 * noising); null when no sender moves it. */
async function strongestPath(model: HookedTransformer, inputs: LessonInputs, receivers: PathReceiver[]): Promise<(HeadRef & { effect: number }) | null> {
  const result = await model.pathPatch({ clean: need(inputs, "clean"), corrupted: need(inputs, "corrupted"), answers: await answerPair(model, inputs),
    direction: "noising", receivers });
  return strongestSender(pathEffects(result), towardSource(result, "noising", false));
}

async function topPathHead(model: HookedTransformer, inputs: LessonInputs): Promise<HeadRef> {
  const top = await strongestPath(model, inputs, []);
  if (!top) throw new Error("no head lowers the logit difference through the logits on this model");
  return top;
}

/** The sender that changes the top path head most through its queries, keys or values. Which input carries
 * the signal depends on the model (queries for GPT-2 small's name movers, keys for hooklab-demo's top head). */
async function strongestDriver(model: HookedTransformer, inputs: LessonInputs): Promise<HeadRef> {
  const top = await topPathHead(model, inputs);
  let best: (HeadRef & { effect: number }) | null = null;
  for (const input of PATH_RECEIVER_INPUTS) {
    const driver = await strongestPath(model, inputs, [{ layer: top.layer, head: top.head, input }]);
    if (driver && (!best || Math.abs(driver.effect) > Math.abs(best.effect))) best = driver;
  }
  if (!best) throw new Error(`no head changes the logit difference through the queries, keys or values of L${top.layer}H${top.head}`);
  return best;
}

/** What some answers need besides the model: its trained ids, its training checkpoints' scores. */
export interface AnswerContext {
  tokenPool?: number[];
  trainingScores: () => Promise<CheckpointScores[]>;
}

/** The expected answer to a question on the loaded model, as the learner would type it. */
export async function computeAnswer(model: HookedTransformer, answer: AnswerName, inputs: LessonInputs, context: AnswerContext): Promise<string> {
  const tokenPool = context.tokenPool;
  const kind = ANSWERS[answer].kind;
  const prompt = () => need(inputs, "prompt");
  switch (answer) {
    case "token-count": return answerText(kind, (await model.toTokens(prompt())).length);
    case "next-token": {
      const p = await model.predictions(prompt(), { k: 1 });
      return answerText(kind, p.top[p.top.length - 1][0].str);
    }
    case "peak-norm-layer": return answerText(kind, argmax((await model.residualNorms(prompt())).perLayer));
    case "logit-diff": return answerText(kind, await logitDiff(model, need(inputs, "clean"), await answerPair(model, inputs)));
    case "corrupted-logit-diff": return answerText(kind, await logitDiff(model, need(inputs, "corrupted"), await answerPair(model, inputs)));
    case "top-patch-layer": {
      const { values, shape } = await residPrePatching(model, inputs, "exact");
      const positions = shape[1];
      return answerText(kind, argmax(Array.from({ length: shape[0] }, (_, l) => values[l * positions + positions - 1])));
    }
    case "top-dla-head": {
      const heads = await model.headAttribution(need(inputs, "clean"), await answerPair(model, inputs));
      return answerText(kind, argmaxHead(heads.logitDiff, heads.shape[1])!);
    }
    case "top-induction-head": {
      const scores = await model.detectHeads({ seqLen: Math.min(50, Math.floor((model.cfg.n_ctx - 1) / 2)), tokenPool });
      return answerText(kind, argmaxHead(scores.induction, scores.shape[1])!);
    }
    case "induction-loss-drop": return answerText(kind, halfLossDrop((await model.loss(prompt())).perToken));
    case "attribution-agreement": {
      const [exact, estimate] = [await residPrePatching(model, inputs, "exact"), await residPrePatching(model, inputs, "atp")];
      return answerText(kind, pearson(estimate.values, exact.values));
    }
    case "top-path-head": return answerText(kind, await topPathHead(model, inputs));
    case "top-path-head-driver": return answerText(kind, await strongestDriver(model, inputs));
    case "induction-formation-step": return answerText(kind, inductionFormationStep(await context.trainingScores())!);
  }
}

/** The value a "your turn" condition reads on the learner's edited inputs. */
export async function computeMetric(model: HookedTransformer, metric: MetricName, inputs: LessonInputs, edited: string): Promise<number> {
  if (metric === "token-count") return (await model.toTokens(edited)).length;
  const pair = await answerPair(model, inputs);
  return metric === "logit-diff" ? logitDiff(model, edited, pair) : answerRank(model, edited, pair);
}
