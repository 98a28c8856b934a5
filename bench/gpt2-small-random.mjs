// The benchmark model: a GPT-2-small-shaped model with random weights (f32, ~500 MB),
// generated once into build/bench/ by models/tools/make_random_gpt2.py (numpy only).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export function ensureGpt2SmallRandom({ dtype = "f32" } = {}) {
  const dir = join(root, `build/bench/gpt2-small-random-${dtype}`);
  if (!existsSync(join(dir, "model.safetensors"))) {
    console.error(`generating ${dir} (one time, about a minute)...`);
    execFileSync("/usr/bin/python3", [join(root, "models/tools/make_random_gpt2.py"), "--out", dir, "--layers", "12",
      "--d-model", "768", "--heads", "12", "--n-ctx", "1024", "--dtype", dtype, "--seed", "2024"], { stdio: "inherit" });
  }
  return dir;
}
