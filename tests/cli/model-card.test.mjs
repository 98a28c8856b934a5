// The bundled demo model's card: every number it states (models/hooklab-demo/eval/results.json,
// quoted by models/hooklab-demo/README.md) recomputed by the CLI from the committed eval sets,
// and the default patching example's heatmap recomputed by `hooklab patch`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const cli = join(process.env.HOOKLAB_NATIVE_BUILD ?? join(root, "build/native"), "hooklab");
const model = join(root, "models/hooklab-demo");
const results = JSON.parse(readFileSync(join(model, "eval/results.json"), "utf8"));
const card = readFileSync(join(model, "README.md"), "utf8");
// The card rounds to 3 decimals; recomputation differs by float32 noise on top of that.
const ROUNDING = 2e-3;

function hooklab(...args) {
  const r = spawnSync(cli, args, { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `hooklab ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: recomputed ${actual}, card ${expected}`);
}

// One IOI prompt file recomputed by the CLI against its results.json entry and the card.
function checkIoiSet(file, card_ioi) {
  const out = hooklab("evaluate", "--model", model, "--ioi", join(model, "eval", file)).ioi;
  assert.equal(out.n, card_ioi.n);
  close(out.accuracy, card_ioi.accuracy, 0.5 / out.n, "accuracy");
  close(out.mean_logit_diff, card_ioi.mean_logit_diff, ROUNDING, "mean logit diff");
  close(out.median_logit_diff, card_ioi.median_logit_diff, ROUNDING, "median logit diff");
  close(out.min_logit_diff, card_ioi.min_logit_diff, ROUNDING, "min logit diff");
  assert.ok(card.includes(`${(100 * card_ioi.accuracy).toFixed(1)} %`), "the card states the accuracy");
  assert.ok(card.includes(card_ioi.mean_logit_diff.toFixed(2)), "the card states the mean logit difference");
}

test("IOI accuracy and logit difference on the held-out set", () => checkIoiSet("ioi_heldout.jsonl", results.ioi_heldout));

test("IOI on the second held-out set", () => checkIoiSet("ioi_fresh_templates.jsonl", results.ioi_fresh_templates));

test("IOI on the third held-out set (written after the model was chosen)", () =>
  checkIoiSet("ioi_third_templates.jsonl", results.ioi_third_templates));

test("the card's held-out accuracy meets the 90 % target it states", () => {
  for (const set of [results.ioi_heldout, results.ioi_fresh_templates, results.ioi_third_templates]) assert.ok(set.accuracy >= 0.9);
});

test("repeated-sequence losses and head scores", () => {
  const out = hooklab("evaluate", "--model", model, "--repeated", join(model, "eval/repeated_tokens.json")).repeated;
  const ind = results.induction;
  assert.equal(out.n_sequences, ind.n_sequences);
  close(out.loss_first_half, ind.loss_first_half, ROUNDING, "first-copy loss");
  close(out.loss_second_half, ind.loss_second_half, ROUNDING, "second-copy loss");
  for (const [key, ours] of [["induction_score", out.induction_score], ["previous_token_score", out.previous_token_score],
    ["duplicate_token_score", out.duplicate_token_score]]) {
    ind[key].flat().forEach((v, i) => close(ours[i], v, ROUNDING, `${key}[${i}]`));
  }
  assert.ok(card.includes(ind.loss_second_half.toFixed(2)), "the card states the second-copy loss");
});

test("the lab's default patching example", () => {
  const p = results.default_patching;
  const out = hooklab("patch", "--model", model, "--clean", "When Mary and John went to the store, John gave a drink to",
    "--corrupted", "When Mary and John went to the store, Mary gave a drink to", "--answer", " Mary", "--wrong", " John",
    "--act", "resid_pre", "--normalize");
  close(out.clean_metric, p.clean_logit_diff, ROUNDING, "clean logit diff");
  close(out.corrupted_metric, p.corrupted_logit_diff, ROUNDING, "corrupted logit diff");
  p.heatmap.flat().forEach((v, i) => close(out.values[i], v, ROUNDING, `heatmap[${i}]`));
});
