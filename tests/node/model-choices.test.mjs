// The lab's model list says which optional files each bundled model ships, so that the lab asks
// only those models for them (no 404 in a user's console). The list is kept by hand: this checks
// it against models/ and the vite config that serves those folders.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { importTypeScript } from "./import-typescript.mjs";

const root = new URL("../..", import.meta.url).pathname;
const { MODEL_CHOICES, BUNDLED_OPTIONAL_FILES, bundledModelShips } = await importTypeScript("tests/node/model-choices-entry.ts", "model-choices");
const bundled = MODEL_CHOICES.filter((m) => !m.id.includes("/"));

test("every bundled model in the list exists and is served", () => {
  assert.ok(bundled.length >= 2);
  const vite = readFileSync(join(root, "web/vite.config.ts"), "utf8");
  for (const m of bundled) {
    assert.ok(existsSync(join(root, "models", m.id, "config.json")), `models/${m.id}/config.json`);
    assert.ok(vite.includes(`"/models/${m.id}/"`), `web/vite.config.ts serves models/${m.id}/`);
  }
});

test("`ships` names exactly the optional files each bundled model has", () => {
  for (const m of bundled) {
    for (const file of BUNDLED_OPTIONAL_FILES) {
      const onDisk = existsSync(join(root, "models", m.id, file));
      assert.equal(bundledModelShips(m.id, file), onDisk, `${m.id}: ${file} is ${onDisk ? "" : "not "}in models/${m.id}/`);
    }
  }
});

test("a bundled id the list does not know is asked for every file", () => {
  for (const file of BUNDLED_OPTIONAL_FILES) assert.equal(bundledModelShips("a-course-model", file), true);
});
