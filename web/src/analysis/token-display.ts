// How tokens are shown: whitespace made visible, BOS marked. Pure functions.

export const BOS_ID = 50256;

/** Visible form of a token string: spaces ␣, newlines ↵, tabs ⇥, other controls as \u escapes. */
export function visibleToken(s: string): string {
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === " ") out += "␣";
    else if (ch === "\n") out += "↵";
    else if (ch === "\r") out += "␍";
    else if (ch === "\t") out += "⇥";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out || "∅";
}

export interface TokenChip {
  position: number;
  id: number;
  text: string;
  visible: string;
  isBos: boolean;
}

export function tokenChips(ids: ArrayLike<number>, strs: string[], prependBos: boolean): TokenChip[] {
  return strs.map((text, position) => ({
    position,
    id: ids[position],
    text,
    visible: visibleToken(text),
    isBos: prependBos && position === 0 && ids[position] === BOS_ID,
  }));
}

/** Positions where two token sequences differ (and the length mismatch, if any). */
export function tokenDifferences(a: ArrayLike<number>, b: ArrayLike<number>): { positions: number[]; lengthMismatch: boolean } {
  const positions: number[] = [];
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) positions.push(i);
  return { positions, lengthMismatch: a.length !== b.length };
}

/**
 * Candidates for a string that is not one token: the same word with / without a leading space
 * and capitalised, which GPT-2 often has as single tokens.
 */
export function singleTokenCandidates(text: string): string[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const cap = trimmed[0].toUpperCase() + trimmed.slice(1);
  const low = trimmed[0].toLowerCase() + trimmed.slice(1);
  const variants = [` ${trimmed}`, trimmed, ` ${cap}`, cap, ` ${low}`, low];
  return [...new Set(variants)].filter((v) => v !== text);
}
