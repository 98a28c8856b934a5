// The benchmark model: a GPT-2-small-shaped model with random weights (f32, ~500 MB),
// generated once into build/bench/ (models/tools/random-gpt2.mjs).
import { ensureRandomGpt2 } from "../models/tools/random-gpt2.mjs";

export function ensureGpt2SmallRandom({ dtype = "f32" } = {}) {
  return ensureRandomGpt2("small", { dtype });
}
