// Inputs and statistics shared by the browser benchmarks.

/** Deterministic token ids in the middle of the vocabulary, BOS first. */
export function tokensFor(T) {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const tokens = Array.from({ length: T }, () => 1000 + Math.floor(rand() * 40000));
  tokens[0] = 50256;
  return tokens;
}

export const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
