// A cache's way from the engine worker to the page (web/src/engine/cache-wire.ts): the entries
// cross as JSON text and come back equal, a frozen plan's text is written once, and an unfrozen
// one is never remembered (it could change under the memo). The whole way, worker to page,
// runs in Chromium (tests/browser/engine.spec.ts, run_with_cache against the fixtures).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importTypeScript } from "./import-typescript.mjs";

let toWireCache, fromWireCache;

before(async () => {
  ({ toWireCache, fromWireCache } = await importTypeScript("web/src/engine/cache-wire.ts", "cache-wire"));
});

const entries = () => [
  { name: "hook_embed", shape: [1, 3, 4], offset: 0 },
  { name: "blocks.0.attn.hook_pattern", shape: [1, 2, 3, 3], offset: 16 },
  { name: 'a "quoted\\ name\u0001', shape: [1, 3, 1], offset: 48 },
];
const deepFreeze = (v) => { if (v && typeof v === "object") { Object.values(v).forEach(deepFreeze); Object.freeze(v); } return v; };

test("entries cross as text and come back equal; the arena is the same buffer", () => {
  const arena = new Float32Array(64);
  const wire = toWireCache({ arena, entries: entries() });
  assert.equal(typeof wire.entriesJson, "string");
  assert.equal(wire.arena, arena);
  const back = fromWireCache(structuredClone(wire));
  assert.deepEqual(back.entries, entries());
  assert.deepEqual(Array.from(back.arena), Array.from(arena));
});

test("a frozen plan's text is reused; an unfrozen one is written again after a change", () => {
  const frozen = deepFreeze(entries());
  const a = toWireCache({ arena: new Float32Array(64), entries: frozen });
  const b = toWireCache({ arena: new Float32Array(64), entries: frozen });
  assert.equal(b.entriesJson, a.entriesJson);
  const open = entries();
  const before = toWireCache({ arena: new Float32Array(64), entries: open }).entriesJson;
  open[0].shape[1] = 5;
  const after = toWireCache({ arena: new Float32Array(64), entries: open }).entriesJson;
  assert.notEqual(after, before);
  assert.deepEqual(fromWireCache({ arena: new Float32Array(64), entriesJson: after }).entries[0].shape, [1, 5, 4]);
});
