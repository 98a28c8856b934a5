// GPT-2 tokenizer helper for the reference: js-tiktoken's r50k_base (GPT-2's BPE).
// stdin (or argv[2]) is JSON:
//   ["text", ...]                 -> [[ids...], ...]   encode, special tokens allowed ("all"), no BOS added
//   {"decode": [[ids...], ...]}   -> ["text", ...]     decode each id list
import { getEncoding } from "js-tiktoken";
import { readFileSync } from "node:fs";

const input = JSON.parse(process.argv.length > 2 ? process.argv[2] : readFileSync(0, "utf8"));
const enc = getEncoding("r50k_base");
let out;
if (Array.isArray(input) && input.every((t) => typeof t === "string")) {
  out = input.map((t) => enc.encode(t, "all"));
} else if (input && Array.isArray(input.decode)) {
  out = input.decode.map((ids) => enc.decode(ids));
} else {
  console.error('tokenize.mjs: expected ["text", ...] or {"decode": [[ids]]}');
  process.exit(2);
}
process.stdout.write(JSON.stringify(out) + "\n");
