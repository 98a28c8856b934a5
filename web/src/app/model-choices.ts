// The models the lab offers, and which optional files each bundled one ships. Pure data: the
// model bar renders it, main.ts tells the lab's controllers which files to ask for, and a Node
// test checks the list against models/.
import type { Experiment } from "../state/experiment";

/** Files a bundled model (models/<id>/) may ship beside its weights: its training record (the
 *  training view) and the token ids it was trained on (random sequences for the head detectors). */
export const BUNDLED_OPTIONAL_FILES = ["training_loss.json", "eval/trained_token_ids.json"] as const;
export type BundledFile = (typeof BUNDLED_OPTIONAL_FILES)[number];

// The induction model's starter experiment, in token ids (its vocabulary is GPT-2's first 256
// ids, single bytes). A, B: two random 8-id spans. Prompt A A shows the induction stripes; the
// patching pair is A A[0:7] (the model copies: the answer is A[7]) against B A[0:7] (nothing to
// copy), same length, so every box holds ids this model has.
const SPAN_A = [45, 201, 17, 98, 150, 3, 233, 76];
const SPAN_B = [129, 62, 188, 24, 11, 90, 140, 200];
const ids = (...spans: number[][]) => spans.flat().join(" ");
const INDUCTION_STARTER: Partial<Experiment> = {
  tokenInput: "ids", prompt: ids(SPAN_A, SPAN_A), position: null,
  clean: ids(SPAN_A, SPAN_A.slice(0, 7)), corrupted: ids(SPAN_B, SPAN_A.slice(0, 7)),
  answer: String(SPAN_A[7]), wrong: String(SPAN_B[7]), insideAnswer: "", insideWrong: "", genPrompt: ids(SPAN_A, SPAN_A.slice(0, 3)),
};

/** The lab's model list, with download sizes (f32 safetensors on the hub); `starter`: what picking
 *  the model also sets in the experiment;
 *  `ships`: the optional files a bundled model has (tests/node/model-choices.test.mjs checks them
 *  against models/). */
export const MODEL_CHOICES: ReadonlyArray<{ id: string; label: string; bytes: number; starter?: Partial<Experiment>;
  ships?: readonly BundledFile[] }> = [
  { id: "hooklab-demo", label: "hooklab demo (4 layers, bundled, offline)", bytes: 14_489_656,
    ships: ["eval/trained_token_ids.json"] },
  // Its 256-token vocabulary holds single bytes, not words: picking it switches every box to
  // token ids on repeated random spans, the sequences its induction behaviour is about.
  { id: "hooklab-induction", label: "hooklab induction (2 attention-only layers, bundled, offline)", bytes: 109_640,
    starter: INDUCTION_STARTER, ships: ["training_loss.json"] },
  { id: "openai-community/gpt2", label: "GPT-2 small (hub)", bytes: 548_105_171 },
  { id: "distilbert/distilgpt2", label: "DistilGPT-2 (hub)", bytes: 352_833_716 },
  { id: "openai-community/gpt2-medium", label: "GPT-2 medium (hub)", bytes: 1_519_982_802 },
  // (Its size: the hub file holds these tensors and 36 attention-mask buffers, about 3.25 GB.)
  // 3.1 GiB of weights in f32 would leave the 4 GiB wasm memory little room: picking it picks f16
  // weights too (1.6 GiB; the select can still switch back).
  { id: "openai-community/gpt2-large", label: "GPT-2 large (hub, f16 weights)", bytes: 3_247_155_848, starter: { weights: "f16" } },
];

/** Whether bundled model `model` ships `file`; a bundled id the list does not know is asked for it. */
export function bundledModelShips(model: string, file: BundledFile): boolean {
  const choice = MODEL_CHOICES.find((m) => m.id === model);
  return choice ? (choice.ships ?? []).includes(file) : true;
}
