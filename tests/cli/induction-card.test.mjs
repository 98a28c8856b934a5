// The bundled induction teaching model's card (models/hooklab-induction/README.md): the issue's
// target (one previous-token head and one induction head >= 0.9 on the TransformerLens demos'
// diagonal scores, held-out repeated sequences) and every number the card states, recomputed by the
// CLI from the committed weights, checkpoints and held-out file; eval/heads.json (what the
// Chromium test compares the lab's detector maps with) must be what `hooklab heads` prints today.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ok } from "../tools/cli.mjs";

const root = new URL("../..", import.meta.url).pathname;
const model = join(root, "models/hooklab-induction");
const card = readFileSync(join(model, "README.md"), "utf8");
const record = JSON.parse(readFileSync(join(model, "training_loss.json"), "utf8"));
const best = (scores) => scores.reduce((b, v, i) => (v > scores[b] ? i : b), 0);
const head = (i, shape) => `${Math.floor(i / shape[1])}.${i % shape[1]}`;

test("held-out repeated sequences: a previous-token head and an induction head >= 0.9, as the card states", () => {
  const r = ok("evaluate", "--model", model, "--repeated", join(model, "eval/repeated_tokens.json")).repeated;
  const ind = best(r.induction_score), prev = best(r.previous_token_score);
  assert.ok(r.induction_score[ind] >= 0.9, `best induction score ${r.induction_score[ind]}`);
  assert.ok(r.previous_token_score[prev] >= 0.9, `best previous-token score ${r.previous_token_score[prev]}`);
  assert.equal(head(ind, r.shape).startsWith("1."), true, "the induction head sits in layer 1");
  assert.equal(head(prev, r.shape).startsWith("0."), true, "the previous-token head sits in layer 0");
  assert.ok(card.includes(`head ${head(ind, r.shape)}: **${r.induction_score[ind].toFixed(3)}**`), "the card states the induction score");
  assert.ok(card.includes(`head ${head(prev, r.shape)}: **${r.previous_token_score[prev].toFixed(3)}**`), "the card states the previous-token score");
  assert.ok(card.includes(`first copy **${r.loss_first_half.toFixed(3)}**`) && card.includes(`second copy **${r.loss_second_half.toFixed(3)}**`));
  // The first copy cannot be predicted: a model that learned to guess there sits near ln 255.
  assert.ok(Math.abs(r.loss_first_half - Math.log(255)) < 0.2, `first-copy loss ${r.loss_first_half}`);
});

test("eval/heads.json is today's `hooklab heads --seed 0`, and the card's table row for it", () => {
  const live = ok("heads", "--model", model, "--seed", "0");
  const saved = JSON.parse(readFileSync(join(model, "eval/heads.json"), "utf8"));
  assert.deepEqual(live.tokens, saved.tokens);
  for (const key of ["previous_token", "duplicate_token", "induction", "previous_token_diagonal", "induction_diagonal"]) {
    live[key].forEach((v, i) => assert.ok(Math.abs(v - saved[key][i]) < 1e-6, `${key}[${i}]`));
  }
  const i = best(live.induction_diagonal), p = best(live.previous_token_diagonal);
  assert.ok(card.includes(`| \`--seed 0\` | ${head(p, live.shape)}: ${live.previous_token_diagonal[p].toFixed(3)} | ${head(i, live.shape)}: ${live.induction_diagonal[i].toFixed(3)} |`));
});

test("the checkpoints show the heads forming: the card's table, and the formation step lesson 3b asks for", () => {
  const rows = [...record.checkpoints, { step: record.steps, path: "" }].map((c) => {
    const h = ok("heads", "--model", join(model, c.path), "--seed", "0");
    return { step: c.step, ind: Math.max(...h.induction_diagonal), prev: Math.max(...h.previous_token_diagonal) };
  });
  const cells = (key) => rows.map((r) => r[key].toFixed(2));
  const line = (label) => card.split("\n").find((l) => l.startsWith(`| ${label} (best) |`));
  assert.deepEqual(line("previous-token").split("|").slice(2, -1).map((s) => s.trim()), cells("prev"));
  assert.deepEqual(line("induction").split("|").slice(2, -1).map((s) => s.trim().split(" ")[0]), cells("ind"));
  const last = rows[rows.length - 1];
  const formed = rows.find((r) => r.ind >= last.ind / 2);
  assert.ok(formed.step > rows[0].step, "the first checkpoint has no induction head yet");
  assert.ok(card.includes(`first checkpoint at half the finished model's best induction score, ${formed.step}`));
});
