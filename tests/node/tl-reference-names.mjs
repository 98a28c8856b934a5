// The TransformerLens API names the lab's generated code may use. They come from the parity spec
// (../shared/reference/transformerlens.md), which lives beside the repository, not in it; so the
// names are also committed (tests/fixtures/transformerlens-names.json) and the tl-code test runs on
// any clone. Where the spec is present the test checks that the committed list still equals it.
// Regenerate:  node tests/node/tl-reference-names.mjs --write
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
export const COMMITTED_NAMES = join(root, "tests/fixtures/transformerlens-names.json");
export const REFERENCE_FILE = [process.env.HOOKLAB_TL_REFERENCE, join(root, "../shared/reference/transformerlens.md"),
  "/work/shared/reference/transformerlens.md"].find((p) => p && existsSync(p));

/**
 * The reference's API names: every identifier inside a backtick span. The file abbreviates
 * siblings as `get_act_patch_attn_head_q_by_pos` / `_k_by_pos`: a span that starts with "_"
 * replaces as many trailing "_" segments of the full name before it on the same line.
 */
export function referenceNames(reference) {
  const names = new Set();
  for (const line of reference.split("\n")) {
    let previous;
    for (const [, span] of line.matchAll(/`([^`]+)`/g)) {
      if (/^_[A-Za-z0-9_]+$/.test(span) && previous) {
        const tail = span.slice(1).split("_");
        names.add([...previous.split("_").slice(0, -tail.length), ...tail].join("_"));
        continue;
      }
      const ids = [...span.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)].map((m) => m[0]);
      for (const id of ids) names.add(id);
      previous = ids[0] ?? previous;
    }
  }
  return names;
}

/** The names from the spec when it is present, sorted. */
export function namesFromReference() {
  return REFERENCE_FILE ? [...referenceNames(readFileSync(REFERENCE_FILE, "utf8"))].sort() : undefined;
}

export function committedNames() {
  return new Set(JSON.parse(readFileSync(COMMITTED_NAMES, "utf8")).names);
}

if (process.argv[1] === new URL(import.meta.url).pathname && process.argv.includes("--write")) {
  const names = namesFromReference();
  if (!names) throw new Error("the TransformerLens spec was not found (set HOOKLAB_TL_REFERENCE)");
  writeFileSync(COMMITTED_NAMES, `${JSON.stringify({ source: "shared/reference/transformerlens.md", names }, null, 1)}\n`);
  console.log(`${names.length} names written to ${COMMITTED_NAMES}`);
}
