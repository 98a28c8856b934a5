// Running the native CLI from Node tests: `hooklab(...args)` returns the finished process (never
// killed by a signal), `ok(...args)` its JSON output, asserting exit 0.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const build = process.env.HOOKLAB_NATIVE_BUILD ?? join(root, "build/native");
export const cli = join(build, "hooklab");

export function hooklab(...args) {
  const r = spawnSync(cli, args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.signal, null, `hooklab ${args.join(" ")} was killed by ${r.signal}`);
  return r;
}

export function ok(...args) {
  const r = hooklab(...args);
  assert.equal(r.status, 0, `hooklab ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
