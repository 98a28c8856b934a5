#!/usr/bin/env node
// Compares a `hooklab cache --out DIR` directory with a reference directory of .npy files
// (e.g. written by tests/reference/hooked_gpt2.py on a model the tests never saw):
//   node tests/tools/compare-npy-dirs.mjs ACTUAL_DIR REFERENCE_DIR [--rel 1e-5]
// Prints one line per tensor and exits 1 if any tensor is missing or out of tolerance.
import { compareNpyDirs } from "./npy.mjs";

const [actual, reference, flag, value] = process.argv.slice(2);
if (!actual || !reference) {
  console.error("usage: compare-npy-dirs.mjs ACTUAL_DIR REFERENCE_DIR [--rel 1e-5]");
  process.exit(2);
}
const rel = flag === "--rel" ? Number(value) : 1e-5;
const rows = compareNpyDirs(actual, reference, rel);
let failures = 0;
for (const r of rows) {
  if (!r.ok) failures++;
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.file.padEnd(44)} ${r.detail ?? `max|diff| ${r.maxDiff.toExponential(2)} tol ${r.tol.toExponential(2)}`}`);
}
console.log(`${rows.length - failures}/${rows.length} tensors within tolerance (rel ${rel})`);
process.exit(failures || rows.length === 0 ? 1 : 0);
