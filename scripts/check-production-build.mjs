#!/usr/bin/env node
// Checks that the production build (web/dist from `npm run build:web`) holds the lab and nothing
// that only tests and benchmarks use: no engine harness page or script, no test models, and no
// benchmark probe or test control inside the lab's scripts and wasm modules.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const dist = resolve(new URL("..", import.meta.url).pathname, process.argv[2] ?? "web/dist");
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(relative(dist, path));
  }
};
if (!existsSync(join(dist, "index.html"))) {
  console.error(`${dist}/index.html is missing: run npm run build:web first`);
  process.exit(1);
}
walk(dist);
// Names that exist only in bench/ and web/src/engine/testing.ts; finding one in a shipped script
// or module means benchmark or test code was built into the product.
const TEST_ONLY_NAMES = ["measureSimdPeak", "measureGemm", "timeRuns", "simulateDeviceLoss", "benchModel"];
const leaks = files.filter((f) => /\.(js|mjs|wasm)$/.test(f)).flatMap((f) => {
  const text = readFileSync(join(dist, f)).toString("latin1");
  return TEST_ONLY_NAMES.filter((name) => text.includes(name)).map((name) => `${f}: contains ${name} (benchmark or test code)`);
});
const problems = [
  ...leaks,
  ...files.filter((f) => /(^|\/)harness[^/]*\.(html|js)$/.test(f)).map((f) => `${f}: the engine harness is for tests and benchmarks`),
  ...files.filter((f) => f.startsWith("models/testdata/")).map((f) => `${f}: a test model`),
  ...["index.html", "hooklab-embed.js"].filter((f) => !files.includes(f)).map((f) => `${f}: missing from the lab`),
];
if (problems.length) {
  console.error(`the production build in ${dist} is not the lab alone:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`production build: ${files.length} files, the lab only (no harness, no test models, no benchmark probes or test controls)`);
