// Which worker errors end the engine (web/src/engine/fatal-error.ts): a real wasm trap, an
// Emscripten abort and a failed memory growth do, with a short message; ordinary errors
// (bad input the engine reports and survives) do not.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importTypeScript } from "./import-typescript.mjs";

let F;

before(async () => {
  F = await importTypeScript("tests/node/fatal-error-entry.ts", "fatal-error");
});

/** A real trap: a wasm function whose body is `unreachable`. */
function trap() {
  const bytes = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0,
    7, 5, 1, 1, 0x74, 0, 0, 0x0a, 5, 1, 3, 0, 0, 0x0b]);
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  try {
    exports.t();
  } catch (e) {
    return e;
  }
  throw new Error("the trap did not trap");
}

test("a wasm trap, an abort and a failed memory growth are fatal, with a short message", () => {
  const trapped = trap();
  assert.ok(trapped instanceof WebAssembly.RuntimeError);
  assert.match(F.fatalMessage(trapped), /^the engine crashed \(unreachable/);
  assert.match(F.fatalMessage(new Error("Aborted(OOM)")), /^the engine ran out of memory/);
  assert.match(F.fatalMessage(new Error("Aborted(native code called abort())")), /^the engine crashed/);
  let growth;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(10);
  } catch (e) {
    growth = e;
  }
  assert.ok(growth instanceof RangeError);
  assert.match(F.fatalMessage(growth), /^the engine ran out of memory/);
  assert.ok(F.fatalMessage(new Error(`Aborted(${"x".repeat(10_000)})`)).length < 300);
});

test("errors the engine survives are not fatal", () => {
  for (const e of [new Error("unknown hook name 'blocks.9.hook_z'"), new RangeError("position 9 is out of range"),
    new TypeError("x is not a function"), Object.assign(new Error("cancelled"), { name: "AbortError" })]) {
    assert.equal(F.fatalMessage(e), undefined, e.message);
  }
});
