// Loads a built hooklab wasm module in Node (tests, code generation, benchmarks).
//
// Emscripten 3.1.6's ES-module glue still reads `__dirname` and `require` when it detects
// Node, which ES modules do not have; they are provided here, and the .wasm bytes are passed
// in directly (its fetch() of a file path fails under Node 20).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export async function loadHooklabModule(variant = "st", buildDir = process.env.HOOKLAB_WASM_BUILD ?? join(root, "build/wasm")) {
  globalThis.__dirname ??= buildDir;
  globalThis.require ??= createRequire(import.meta.url);
  const glue = join(buildDir, `hooklab-${variant}.mjs`);
  const { default: create } = await import(glue);
  return create({
    wasmBinary: readFileSync(join(buildDir, `hooklab-${variant}.wasm`)),
    locateFile: (path) => join(buildDir, path),
    mainScriptUrlOrBlob: glue,
  });
}
