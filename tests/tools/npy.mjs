// Minimal .npy reader/comparer for the Node tests (float32/float64, C order).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const data = buf.subarray(start + headerLen);
  const copy = new Uint8Array(data).buffer;  // aligned copy
  const values = descr === "<f4" ? new Float32Array(copy) : descr === "<f8" ? Float64Array.from(new Float64Array(copy)) : null;
  if (!values) throw new Error(`${path}: unsupported dtype ${descr}`);
  return { shape, values };
}

// The project's tolerance rule: max |diff| <= rel * max(1, max |ref|), infinities must match.
export function compareArrays(actual, expected, rel = 1e-5) {
  let maxRef = 0;
  for (const v of expected) if (Number.isFinite(v)) maxRef = Math.max(maxRef, Math.abs(v));
  const tol = rel * Math.max(1, maxRef);
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return { ok: false, maxDiff: Infinity, tol, detail: `element ${i}: ${a} vs ${e}` };
      continue;
    }
    maxDiff = Math.max(maxDiff, Math.abs(a - e));
  }
  return { ok: maxDiff <= tol && actual.length === expected.length, maxDiff, tol };
}

// A reference fixture keeps only some vocabulary columns of the logits (the manifest's
// logit_columns, from tests/reference/hooked_gpt2.py); without the list it keeps all of them.
export function keptLogitColumns(logits, shape, columns) {
  if (!columns) return logits;
  const vocab = shape[shape.length - 1];
  const rows = logits.length / vocab;
  const kept = new Float32Array(rows * columns.length);
  for (let r = 0; r < rows; r++) columns.forEach((c, j) => (kept[r * columns.length + j] = logits[r * vocab + c]));
  return kept;
}

function readReferenceManifest(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  } catch {
    return {};
  }
}

// Compares every .npy in `referenceDir` with the same-named file in `actualDir`.
export function compareNpyDirs(actualDir, referenceDir, rel = 1e-5) {
  const rows = [];
  const columns = readReferenceManifest(referenceDir).logit_columns;
  for (const file of readdirSync(referenceDir).filter((f) => f.endsWith(".npy")).sort()) {
    const ref = readNpy(join(referenceDir, file));
    let act;
    try {
      act = readNpy(join(actualDir, file));
    } catch (e) {
      rows.push({ file, ok: false, detail: `missing: ${e.message}` });
      continue;
    }
    if (file === "logits.npy" && columns) {
      act = { shape: [...act.shape.slice(0, -1), columns.length], values: keptLogitColumns(act.values, act.shape, columns) };
    }
    if (act.shape.join() !== ref.shape.join()) {
      rows.push({ file, ok: false, detail: `shape [${act.shape}] vs [${ref.shape}]` });
      continue;
    }
    rows.push({ file, ...compareArrays(act.values, ref.values, rel) });
  }
  return rows;
}
