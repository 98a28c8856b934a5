// GPT-2-shaped models with random weights, generated once into build/bench/ by
// make_random_gpt2.py (numpy only): the benchmarks' GPT-2-small stand-in, and the GPT-2 medium
// and large shapes that the bigger-model browser test loads (these machines cannot download the
// real checkpoints; the shapes, file layout and f32 storage are the hub's).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

/** Hugging Face's GPT-2 sizes (n_ctx 1024, vocabulary 50257). */
export const GPT2_SHAPES = {
  small: { layers: 12, dModel: 768, heads: 12, seed: 2024 },
  medium: { layers: 24, dModel: 1024, heads: 16, seed: 2025 },
  large: { layers: 36, dModel: 1280, heads: 20, seed: 2026 },
};

/** The model directory build/bench/gpt2-<size>-random-<dtype>, generated if missing. */
export function ensureRandomGpt2(size, { dtype = "f32" } = {}) {
  const shape = GPT2_SHAPES[size];
  if (!shape) throw new Error(`unknown GPT-2 size ${size}`);
  const dir = join(root, `build/bench/gpt2-${size}-random-${dtype}`);
  if (!existsSync(join(dir, "model.safetensors"))) {
    console.error(`generating ${dir} (one time, up to a minute)...`);
    execFileSync("/usr/bin/python3", [join(root, "models/tools/make_random_gpt2.py"), "--out", dir,
      "--layers", String(shape.layers), "--d-model", String(shape.dModel), "--heads", String(shape.heads),
      "--n-ctx", "1024", "--dtype", dtype, "--seed", String(shape.seed)], { stdio: "inherit" });
  }
  return dir;
}
