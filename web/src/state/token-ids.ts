// Token-id input: in the lab's "token ids" mode a prompt box holds ids ("12 7 3 9") instead of
// text, for toy models whose tokens are not words (modular arithmetic, sorting, the induction
// model's random tokens). Pure parsing and formatting; the engine checks ids against the model.

export const TOKEN_INPUTS = ["text", "ids"] as const;
export type TokenInput = (typeof TOKEN_INPUTS)[number];

/** Separators the lab accepts between ids: spaces, commas, brackets (a pasted Python list). */
const SEPARATORS = /[\s,[\]]+/;
const ID = /^\d{1,9}$/;

/** A short, safe quotation of a piece of untrusted text. */
function quote(piece: string): string {
  return `"${piece.length > 20 ? `${piece.slice(0, 20)}…` : piece}"`;
}

/**
 * The ids of a prompt box in ids mode, each checked against the vocabulary; the first problem
 * otherwise, naming the piece and its position. Never throws.
 */
export function parseTokenIds(text: string, vocabSize: number): { ids: number[] } | { problem: string } {
  const pieces = text.split(SEPARATORS).filter((p) => p !== "");
  const ids: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (!ID.test(piece)) return { problem: `${quote(piece)} (item ${index + 1}) is not a token id: write whole numbers, e.g. 12 7 3 9` };
    const id = Number(piece);
    if (id >= vocabSize) return { problem: `token id ${id} (item ${index + 1}) is out of range for this model (0–${vocabSize - 1})` };
    ids.push(id);
  }
  return { ids };
}

/** The text the ids mode shows for a list of ids (parseTokenIds reads it back exactly). */
export function formatTokenIds(ids: ArrayLike<number>): string {
  return Array.from(ids).join(" ");
}
