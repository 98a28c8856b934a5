// GPT-2 (r50k_base) tokenizer bridge for the Python data/eval scripts.
// Reads JSON Lines on stdin, each line a JSON string; writes one JSON array of
// token ids per line on stdout, in the same order (--pieces: token strings instead;
// --decode: input lines are id arrays, output the string of each id). We use js-tiktoken (the
// project's own dependency) so that the ids match what the lab's tokenizer
// produces, rather than re-implementing BPE in Python.
import { getEncoding } from "js-tiktoken";
import { createInterface } from "node:readline";

const enc = getEncoding("r50k_base");
const piecesMode = process.argv.includes("--pieces");
const decodeMode = process.argv.includes("--decode");
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
for await (const line of lines) {
  if (line.length === 0) continue;
  if (decodeMode) {  // --decode: each line is an array of ids; answer the string of each id
    out.push(JSON.stringify(JSON.parse(line).map((id) => enc.decode([id]))));
    continue;
  }
  const ids = enc.encode(JSON.parse(line), "all");
  // --pieces: the string of each token instead of its id (for plot labels)
  out.push(JSON.stringify(piecesMode ? ids.map((id) => enc.decode([id])) : ids));
  if (out.length >= 4096) { process.stdout.write(out.join("\n") + "\n"); out.length = 0; }
}
if (out.length) process.stdout.write(out.join("\n") + "\n");
