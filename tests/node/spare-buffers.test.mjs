// The engine worker's spare result buffers (web/src/engine/spare-buffers.ts): which lengths it
// keeps, the byte budget, writing them one slice per idle task, handing each out once, and
// taking back buffers that never left the worker. The worker's use of it runs in Chromium
// (tests/browser/engine.spec.ts, "spare buffers").
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importTypeScript } from "./import-typescript.mjs";

let SpareBuffers;

before(async () => {
  ({ SpareBuffers } = await importTypeScript("web/src/engine/spare-buffers.ts", "spare-buffers"));
});

const MB = 2 ** 20;

/** A pool whose idle tasks run only when the test says so. */
function pool({ budgetBytes = 64 * MB, sliceBytes = MB, recentResults = 4 } = {}) {
  const tasks = [];
  const spares = new SpareBuffers({ budgetBytes, sliceBytes, recentResults, schedule: (t) => tasks.push(t) });
  const runTasks = (limit = Infinity) => {
    let n = 0;
    while (tasks.length > 0 && n < limit) {
      tasks.shift()();
      n++;
    }
    return n;
  };
  return { spares, runTasks, tasks };
}

test("a run's result lengths get spares, written one slice per idle task", async () => {
  const { spares, runTasks } = pool({ sliceBytes: MB });
  const logits = (3 * MB) / 4 + 5;  // 3 MB and 20 bytes: four slices
  const arena = MB / 4;
  spares.replenish([logits, arena]);
  assert.deepEqual(spares.stats(), { bytes: 4 * logits + 4 * arena, warmBytes: 0, taken: 0, missed: 0 });
  let idle = false;
  void spares.whenIdle().then(() => { idle = true; });
  assert.equal(runTasks(4), 4);       // the newest length (the arena) first, then three slices of the logits
  assert.equal(spares.stats().warmBytes, 4 * arena + 3 * MB);
  assert.equal(idle, false);
  runTasks();
  await Promise.resolve();
  assert.equal(idle, true);
  assert.equal(spares.stats().warmBytes, spares.stats().bytes);
  await spares.whenIdle();  // nothing left: resolves at once
});

test("each spare is handed out once, of exactly the length asked", () => {
  const { spares, runTasks } = pool();
  spares.replenish([1000, 2000]);
  runTasks();
  assert.equal(spares.take(1500), undefined);
  const a = spares.take(1000);
  assert.ok(a instanceof Float32Array);
  assert.equal(a.length, 1000);
  assert.equal(spares.take(1000), undefined);
  assert.equal(spares.take(2000).length, 2000);
  assert.deepEqual(spares.stats(), { bytes: 0, warmBytes: 0, taken: 2, missed: 2 });
});

test("the same length twice among the recent results keeps two spares of it", () => {
  const { spares, runTasks } = pool();
  spares.replenish([1000]);         // a forward's logits
  spares.replenish([1000, 4000]);   // run_with_cache: logits and arena
  runTasks();
  assert.equal(spares.stats().bytes, 4 * (1000 + 1000 + 4000));
  assert.ok(spares.take(1000) && spares.take(1000) && spares.take(4000));
  assert.equal(spares.take(1000), undefined);
});

test("lengths the recent results no longer have are dropped", () => {
  const { spares, runTasks } = pool({ recentResults: 2 });
  spares.replenish([1000]);
  spares.replenish([3000]);
  assert.equal(spares.stats().bytes, 4 * (1000 + 3000));
  spares.replenish([3000]);         // the 1000 left the two most recent results
  runTasks();
  assert.equal(spares.stats().bytes, 4 * 2 * 3000);
  assert.equal(spares.take(1000), undefined);
});

test("the budget bounds what is kept: no spare over half of it, none past the total", () => {
  const { spares } = pool({ budgetBytes: 10 * MB });
  spares.replenish([(6 * MB) / 4]);  // 6 MB > half of 10 MB
  assert.equal(spares.stats().bytes, 0);
  spares.replenish([(4 * MB) / 4, (4 * MB) / 4, (4 * MB) / 4]);  // three of 4 MB: two fit
  assert.equal(spares.stats().bytes, 8 * MB);
});

test("a buffer that never left the worker comes back as it is; a view into a larger one does not", () => {
  const { spares } = pool();
  const logits = new Float32Array(5000);
  spares.keep(logits);
  assert.equal(spares.stats().warmBytes, 4 * 5000);
  assert.equal(spares.take(5000), logits);
  spares.keep(new Float32Array(10000).subarray(0, 5000));
  assert.equal(spares.take(5000), undefined);
});

test("keep() adds nothing past what the recent results call for, and no shared memory", () => {
  const { spares } = pool();
  const first = new Float32Array(5000);
  spares.keep(first);
  spares.keep(new Float32Array(5000));  // the recent results now have 5000 twice: a second one is kept
  spares.keep(new Float32Array(new SharedArrayBuffer(4 * 5000)));
  assert.equal(spares.stats().bytes, 4 * 2 * 5000);
  assert.equal(spares.take(5000), first);
});

test("when the budget is short the newest lengths win; clear() forgets everything", () => {
  const { spares } = pool({ budgetBytes: 10 * MB });
  const [a, b, c] = [MB, MB + 1, MB + 2];  // about 4 MB each: two fit
  spares.replenish([a, b, c]);
  assert.equal(spares.stats().bytes, 4 * (b + c));
  assert.equal(spares.take(a), undefined);
  spares.clear();
  assert.equal(spares.stats().bytes, 0);
  spares.replenish([]);                   // nothing recent any more: nothing to prepare
  assert.equal(spares.stats().bytes, 0);
});

test("a spare taken while it is being written leaves the rest to be written", async () => {
  const { spares, runTasks } = pool({ sliceBytes: 4096 });
  spares.replenish([4096, 2048]);
  runTasks(1);                       // a first slice of the first spare
  assert.equal(spares.take(4096).length, 4096);
  runTasks();
  assert.equal(spares.stats().warmBytes, 4 * 2048);
  await spares.whenIdle();
});
