// Reads the lab's prompt and answer boxes as tokens, as text or as token ids (the experiment's
// tokenInput), so every panel tokenizes the same way.
import type { HookedTransformer } from "../engine";
import { parseTokenIds, type TokenInput } from "../state/token-ids";

function ids(model: HookedTransformer, text: string): number[] {
  const read = parseTokenIds(text, model.cfg.d_vocab);
  if ("problem" in read) throw new Error(read.problem);
  return read.ids;
}

/** A prompt's tokens; with prependBos the model's BOS first, as to_tokens does for text. */
export async function promptTokens(model: HookedTransformer, mode: TokenInput, text: string, prependBos = true): Promise<Int32Array> {
  if (mode === "text") return model.toTokens(text, { prependBos });
  const body = ids(model, text);
  // The engine knows the model's BOS (config bos_token_id, else GPT-2's <|endoftext|>).
  const bos = prependBos ? Array.from(await model.toTokens("", { prependBos: true })) : [];
  return Int32Array.from([...bos, ...body]);
}

/** One answer token: its text must be a single token, or exactly one id. */
export async function answerToken(model: HookedTransformer, mode: TokenInput, text: string): Promise<number> {
  if (mode === "text") return model.toSingleToken(text);
  const read = ids(model, text);
  if (read.length !== 1) throw new Error(`an answer is one token id; "${text.slice(0, 40)}" holds ${read.length}`);
  return read[0];
}
