#!/usr/bin/env python3
"""Regenerates the random test models and every reference fixture, deterministically.

  /usr/bin/python3 tests/reference/make_fixtures.py [--skip-selfcheck] [--only-forward | --only-gradients |
                                                    --only-generation | --only-attn-only |
                                                    --only-path-patching]

Writes models/testdata/tiny-{a,b,c}/, tests/fixtures/manifest.json + tests/fixtures/<case id>/,
tests/fixtures/patching/manifest.json + tests/fixtures/patching/<case id>.json,
tests/fixtures/gradients/manifest.json + tests/fixtures/gradients/<case id>/,
tests/fixtures/attribution/manifest.json + tests/fixtures/attribution/<case id>.json.
--only-gradients regenerates only the last two (reading the existing models and the patching manifest;
nothing else is written) after the gradient self-check. tests/fixtures/generation/manifest.json (greedy,
steered and sampled continuations, tests/reference/generation.py) is written by every full run;
--only-generation writes just it. tests/fixtures/path-patching/ (tests/reference/path_patching.py, read from
the patching manifest) is written by every full run after the patching fixtures; --only-path-patching writes
just it.
Formats: tests/reference/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
if os.path.isdir(OPENBLAS) and OPENBLAS not in os.environ.get("LD_LIBRARY_PATH", "") \
        and not os.environ.get("HOOKLAB_NO_REEXEC"):
    # Debian's torch is ~10x faster on OpenBLAS; the loader only reads LD_LIBRARY_PATH at start.
    # One thread: these ops are tiny, and on a busy 2-core machine a second OpenMP/OpenBLAS thread
    # made each patched forward ~10x slower (spin/wake-up contention).
    env = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS + ":" + os.environ.get("LD_LIBRARY_PATH", ""),
               HOOKLAB_NO_REEXEC="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "models", "tools"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import analysis  # noqa: E402
import attribution  # noqa: E402
import generation  # noqa: E402
import gradients  # noqa: E402
import patching  # noqa: E402
import path_patching  # noqa: E402
import selfcheck  # noqa: E402
from hooked_gpt2 import BOS, HookedGPT2, decode, dump_json, run_case, tokenize  # noqa: E402
from make_random_gpt2 import cli_command, write_model  # noqa: E402
from make_test_models import sha256  # noqa: E402
from safetensors_io import read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)
GENERATED_BY = "tests/reference/make_fixtures.py (independent PyTorch reference, tests/reference/hooked_gpt2.py)"

MODELS = {
    "tiny-a": dict(layers=2, d_model=32, heads=4, d_mlp=None, n_ctx=64, dtype="f32", seed=1,
                   prefix="", untied_lm_head=False, mask_buffers=True, eps=1e-5),
    "tiny-b": dict(layers=3, d_model=24, heads=3, d_mlp=80, n_ctx=32, dtype="f16", seed=2,
                   prefix="transformer.", untied_lm_head=True, mask_buffers=False, eps=1e-5),
    "tiny-c": dict(layers=1, d_model=20, heads=2, d_mlp=36, n_ctx=12, dtype="bf16", seed=3,
                   prefix="", untied_lm_head=False, mask_buffers=False, eps=1e-3),
}

# key -> (text, prepend_bos). Short on purpose: logits [1, P, 50257] f32 dominate the fixture size.
PROMPTS = {
    "hello": ("Hello world!", True),
    "mary": ("When Mary and John went", True),
    "unicode": ("naïve café 😀 東京", False),
    "full-ctx": ("The cat sat on the mat while the dog slept quietly", True),  # 12 tokens = tiny-c n_ctx
}

FORWARD_CASES = []
for _m in ("tiny-a", "tiny-b"):
    for _p in ("hello", "mary", "unicode"):
        for _proc in ("default", "none"):
            _ar = (_m, _p, _proc) in (("tiny-a", "mary", "default"), ("tiny-b", "unicode", "none"))
            FORWARD_CASES.append(dict(id=f"{_m}-{_p}-{_proc}", model=_m, prompt=_p, processing=_proc, attn_result=_ar))
FORWARD_CASES.append(dict(id="tiny-c-full-ctx-default", model="tiny-c", prompt="full-ctx", processing="default",
                          attn_result=False))

IOI_A = ("When Mary and John went to the store, John gave a drink to",
         "When Mary and John went to the store, Mary gave a drink to")
IOI_B = ("After John and Mary went to the park, Mary gave a ball to",
         "After John and Mary went to the park, John gave a ball to")
PATCH_CASES = [
    dict(id="tiny-a-ioi-denoising", model="tiny-a", clean=IOI_A[0], corrupted=IOI_A[1], direction="denoising",
         pairs=[(" Mary", " John")], analysis=True, detector_seq_len=20, detector_seed=11),
    dict(id="tiny-b-ioi-denoising", model="tiny-b", clean=IOI_B[0], corrupted=IOI_B[1], direction="denoising",
         pairs=[(" John", " Mary"), (" him", " her")], analysis=True,
         detector_seq_len=15, detector_seed=12),
    dict(id="tiny-b-ioi-noising", model="tiny-b", clean=IOI_B[0], corrupted=IOI_B[1], direction="noising",
         pairs=[(" John", " Mary"), (" him", " her")], analysis=False),
    dict(id="tiny-c-short-denoising", model="tiny-c", clean="The cat", corrupted="The dog", direction="denoising",
         pairs=[(" sat", " ran")], analysis=True, detector_seq_len=5, detector_seed=13),
]


# --------------------------------------------------------------------------------------------

def rel(p: str) -> str:
    return os.path.relpath(p, REPO)


def one_token(text: str, tok_cache: dict) -> int:
    t = tok_cache[text]
    if len(t) != 1:
        raise SystemExit(f"{text!r} is {len(t)} tokens, expected exactly one")
    return t[0]


def f64_errors(model_dir: str, processing: str, attn_result: bool, tokens, cache32, logits32) -> dict:
    """Max |f32 reference - f64 reference| per hook (finite entries; -inf must coincide)."""
    m64 = HookedGPT2.from_dir(model_dir, processing, use_attn_result=attn_result, dtype=torch.float64)
    logits64, cache64 = m64.run_with_cache(list(tokens))
    out = {}
    for name in m64.hook_names() + ["logits"]:
        a = (logits32 if name == "logits" else cache32[name]).double()
        b = logits64 if name == "logits" else cache64[name]
        fa, fb = torch.isfinite(a), torch.isfinite(b)
        if not torch.equal(fa, fb) or not torch.equal(a[~fa], b[~fb]):
            raise SystemExit(f"{model_dir}: non-finite entries of {name} differ between f32 and f64")
        out[name] = (a[fa] - b[fb]).abs().max().item() if fa.any() else 0.0
    return out


# --------------------------------------------------------------------------------------------

def make_models() -> dict:
    info = {}
    for name, spec in MODELS.items():
        out = os.path.join(REPO, "models", "testdata", name)
        if os.path.isdir(out):
            shutil.rmtree(out)
        cmd = cli_command(rel(out), spec["layers"], spec["d_model"], spec["heads"], spec["d_mlp"], spec["n_ctx"],
                          50257, spec["dtype"], spec["seed"], spec["prefix"], spec["untied_lm_head"],
                          spec["mask_buffers"], spec["eps"])
        cfg_path, st_path = write_model(out, spec["layers"], spec["d_model"], spec["heads"], spec["d_mlp"],
                                        spec["n_ctx"], 50257, spec["dtype"], spec["seed"], spec["prefix"],
                                        spec["untied_lm_head"], spec["mask_buffers"], spec["eps"], command=cmd)
        info[name] = {"dir": rel(out), "command": cmd,
                      "sha256": {"config.json": sha256(cfg_path), "model.safetensors": sha256(st_path)},
                      "n_layers": spec["layers"], "d_model": spec["d_model"], "n_heads": spec["heads"],
                      "d_head": spec["d_model"] // spec["heads"],
                      "d_mlp": spec["d_mlp"] if spec["d_mlp"] is not None else 4 * spec["d_model"],
                      "n_ctx": spec["n_ctx"], "d_vocab": 50257, "eps": spec["eps"], "dtype": spec["dtype"],
                      "prefix": spec["prefix"], "tied": not spec["untied_lm_head"],
                      "mask_buffers": spec["mask_buffers"]}
    return info


def make_forward(models: dict, tok: dict, stats: dict) -> list:
    fix = os.path.join(REPO, "tests", "fixtures")
    cases = []
    for c in FORWARD_CASES:
        text, bos = PROMPTS[c["prompt"]]
        tokens = ([BOS] if bos else []) + tok[text]
        mdir = os.path.join(REPO, models[c["model"]]["dir"])
        if c["prompt"] == "full-ctx" and len(tokens) != models[c["model"]]["n_ctx"]:
            raise SystemExit(f"full-ctx prompt is {len(tokens)} tokens, expected n_ctx")
        model = HookedGPT2.from_dir(mdir, c["processing"], use_attn_result=c["attn_result"])
        out = os.path.join(fix, c["id"])
        extra = {"id": c["id"], "model": models[c["model"]]["dir"], "prompt": text, "prepend_bos": bos}
        man = run_case(model, tokens, out, extra)
        logits, cache = model.run_with_cache(tokens)
        errs = f64_errors(mdir, c["processing"], c["attn_result"], tokens, cache, logits)
        for h in man["hooks"]:
            h["f64_max_abs_diff"] = errs[h["name"]]
        man["logits_f64_max_abs_diff"] = errs["logits"]
        dump_json(man, os.path.join(out, "manifest.json"))
        stats["max_f64_diff"][c["id"]] = max(errs.values())
        for l in range(model.cfg.n_layers):
            rows = cache[("pattern", l)][0, :, 1:].max(-1).values
            stats["pattern"].setdefault(c["model"], []).append(rows)
        cases.append({"id": c["id"], "model": models[c["model"]]["dir"], "prompt": text, "prepend_bos": bos,
                      "tokens": tokens, "processing": c["processing"], "attn_result": c["attn_result"],
                      "dir": rel(out), "loss": man["loss"], "loss_per_token": man["loss_per_token"]})
        print(f"  forward {c['id']:28s} P={len(tokens):2d} loss {man['loss']:.6f} "
              f"max|f32-f64| {stats['max_f64_diff'][c['id']]:.1e}", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY, "models": models,
               "npy": "float32 '<f4', C order, TL shapes with batch dim 1; hook files are <hook name>.npy",
               "cases": cases}, os.path.join(fix, "manifest.json"))
    return cases


def _metric_dict(vec) -> dict:
    v = [float(x) for x in vec]
    return {"logit_diff": v[0], "prob": v[1], "logprob": v[2], "rank": int(v[3]), "rank_margin": v[4]}


def _split_metrics(t: torch.Tensor) -> dict:
    out = {}
    for i, n in enumerate(patching.METRIC_NAMES):
        x = t[..., i]
        out[n] = x.to(torch.int64).tolist() if n == "rank" else x.tolist()
    return out


def check_patch_identities(case_id: str, res: dict, run_tokens, src_tokens, base_run, base_src) -> None:
    """Exact identities every sweep must satisfy (fail loudly):
       * a patch at a position before the first differing token is a no-op (causality): the value
         equals the unpatched run's metric bit for bit (resid/attn/mlp [L,P] sweeps, by-pos head sweeps,
         pattern by dest_pos);
       * resid_pre at layer 0 and every position: if the tokens differ only at positions D, patching
         one position of D when |D| == 1 gives the source run's metric (to 1e-5 relative);
       * the *_every results equal the stacked individual sweeps."""
    first = next(i for i, (a, b) in enumerate(zip(run_tokens, src_tokens)) if a != b)
    diff = [i for i, (a, b) in enumerate(zip(run_tokens, src_tokens)) if a != b]
    b = torch.tensor([base_run[n] for n in patching.METRIC_NAMES], dtype=torch.float32)
    for name in ("get_act_patch_resid_pre", "get_act_patch_resid_mid", "get_act_patch_attn_out",
                 "get_act_patch_mlp_out"):
        t = res[name]
        if not torch.equal(t[:, :first], b.expand_as(t[:, :first])):
            raise SystemExit(f"{case_id}: {name} at positions < {first} is not a no-op")
    for name in ("get_act_patch_attn_head_out_by_pos", "get_act_patch_attn_head_q_by_pos",
                 "get_act_patch_attn_head_k_by_pos", "get_act_patch_attn_head_v_by_pos"):
        t = res[name]
        if not torch.equal(t[:, :first], b.expand_as(t[:, :first])):
            raise SystemExit(f"{case_id}: {name} at positions < {first} is not a no-op")
    t = res["get_act_patch_attn_head_pattern_by_pos"]
    if not torch.equal(t[:, :, :first], b.expand_as(t[:, :, :first])):
        raise SystemExit(f"{case_id}: pattern_by_pos at dest < {first} is not a no-op")
    if len(diff) == 1:
        s = torch.tensor([base_src[n] for n in patching.METRIC_NAMES], dtype=torch.float32)
        got = res["get_act_patch_resid_pre"][0, diff[0]]
        if not ((got - s).abs() <= 1e-5 * s.abs().clamp(min=1.0)).all():
            raise SystemExit(f"{case_id}: resid_pre L0 patch at the only differing position != source metric "
                             f"({got.tolist()} vs {s.tolist()})")
    st = torch.stack([res["get_act_patch_resid_pre"], res["get_act_patch_attn_out"], res["get_act_patch_mlp_out"]])
    if not torch.equal(st, res["get_act_patch_block_every"]):
        raise SystemExit(f"{case_id}: block_every != stacked sweeps")
    st = torch.stack([res[f"get_act_patch_attn_head_{n}_all_pos"] for n in ("out", "q", "k", "v", "pattern")])
    if not torch.equal(st, res["get_act_patch_attn_head_all_pos_every"]):
        raise SystemExit(f"{case_id}: attn_head_all_pos_every != stacked sweeps")
    st = torch.stack([res[f"get_act_patch_attn_head_{n}_by_pos"] for n in ("out", "q", "k", "v")]
                     + [res["get_act_patch_attn_head_pattern_by_pos"].transpose(1, 2)])
    if not torch.equal(st, res["get_act_patch_attn_head_by_pos_every"]):
        raise SystemExit(f"{case_id}: attn_head_by_pos_every != stacked sweeps")


def make_patching(models: dict, tok: dict, stats: dict) -> list:
    pdir = os.path.join(REPO, "tests", "fixtures", "patching")
    os.makedirs(pdir, exist_ok=True)
    entries = []
    for c in PATCH_CASES:
        t0 = time.time()
        mdir = os.path.join(REPO, models[c["model"]]["dir"])
        model = HookedGPT2.from_dir(mdir, "default")
        clean = [BOS] + tok[c["clean"]]
        corrupted = [BOS] + tok[c["corrupted"]]
        if len(clean) != len(corrupted):
            raise SystemExit(f"{c['id']}: clean and corrupted differ in length")
        pos = len(clean) - 1
        clean_logits, clean_cache = model.run_with_cache(clean)
        corr_logits, corr_cache = model.run_with_cache(corrupted)
        # The models are random, so " Mary" vs " John" carries no signal and sits mid-vocabulary
        # (prob ~1e-5, rank ~10^4, where float32 noise can flip the rank). The first pair is the
        # model's own choice: answer = argmax of the clean logits at pos, wrong = argmax of the
        # corrupted logits at pos other than answer; the named text pairs follow and are averaged.
        answer = int(clean_logits[0, pos].argmax())
        corr_order = corr_logits[0, pos].argsort(descending=True)[:2].tolist()
        wrong = corr_order[0] if corr_order[0] != answer else corr_order[1]
        pairs = [(answer, wrong)] + [(one_token(a, tok), one_token(w, tok)) for a, w in c["pairs"]]
        answer_text, wrong_text = decode([[answer], [wrong]])
        pairs_text = [[answer_text, wrong_text]] + [[a, w] for a, w in c["pairs"]]
        metric = patching.make_metric(pos, pairs, answer)
        base = {"clean": _metric_dict(metric(clean_logits)), "corrupted": _metric_dict(metric(corr_logits))}
        if c["direction"] == "denoising":
            run_tokens, src_cache, run_name, src_name = corrupted, clean_cache, "corrupted", "clean"
        else:
            run_tokens, src_cache, run_name, src_name = clean, corr_cache, "clean", "corrupted"
        res, sweeps, n_fwd = {}, {}, 0
        for name, (fn, act, axes) in patching.SWEEPS.items():
            t = fn(model, run_tokens, src_cache, metric)
            res[name] = t
            n_fwd += int(np.prod(t.shape[:-1]))
            entry = {"activation": act, "axes": list(axes), "shape": list(t.shape[:-1]), "values": _split_metrics(t)}
            if name == "get_act_patch_block_every":
                entry["patch_types"] = ["resid_pre", "attn_out", "mlp_out"]
            elif name.endswith("_every"):
                entry["patch_types"] = ["z", "q", "k", "v", "pattern"]
            sweeps[name] = entry
        check_patch_identities(c["id"], res, run_tokens, corrupted if run_tokens is clean else clean,
                               base[run_name], base[src_name])
        doc = {"id": c["id"], "model": models[c["model"]]["dir"], "processing": "default", "attn_result": False,
               "direction": c["direction"], "prepend_bos": True,
               "clean": {"prompt": c["clean"], "tokens": clean},
               "corrupted": {"prompt": c["corrupted"], "tokens": corrupted},
               "patched_run": run_name, "patch_source": src_name,
               "metric": {"names": list(patching.METRIC_NAMES), "batch": 0, "pos": pos,
                          "pairs": [list(p) for p in pairs],
                          "pairs_text": pairs_text,
                          "answer": answer, "answer_text": answer_text,
                          "choice": "pairs[0] = (argmax clean logits[pos], argmax corrupted logits[pos] "
                                    "other than it); answer = pairs[0][0]"},
               "baseline": base, "sweeps": sweeps}
        if c["analysis"]:
            an = {"prompt": "clean", "tokens": clean, "pos": pos, "pairs": [list(p) for p in pairs],
                  "logit_lens": analysis.logit_lens(model, clean_cache, pairs),
                  "dla": analysis.dla(model, clean_cache, pairs, clean_logits),
                  "head_dla": analysis.head_dla(model, clean_cache, pairs),
                  "resid_norms": analysis.resid_norms(model, clean_cache)}
            rep, seq = analysis.repeated_tokens(c["detector_seed"], c["detector_seq_len"])
            det = analysis.head_detector_scores(model, rep, c["detector_seq_len"])
            an["head_detectors"] = {"seed": c["detector_seed"], "seq_len": c["detector_seq_len"],
                                    "token_range": [1000, 10000], "tokens": rep, **det}
            doc["analysis"] = an
        path = os.path.join(pdir, c["id"] + ".json")
        dump_json(doc, path)
        entries.append({"id": c["id"], "model": doc["model"], "direction": c["direction"], "file": rel(path),
                        "clean_tokens": clean, "corrupted_tokens": corrupted, "metric": doc["metric"],
                        "baseline": base, "sweeps": list(sweeps), "has_analysis": bool(c["analysis"])})
        stats["patch_forwards"] += n_fwd
        print(f"  patching {c['id']:26s} P={len(clean):2d} {n_fwd:5d} forwards {time.time() - t0:5.1f}s "
              f"clean ld {base['clean']['logit_diff']:+.4f} corrupted ld {base['corrupted']['logit_diff']:+.4f}",
              flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY,
               "metric_definitions": {
                   "logit_diff": "mean over pairs [a, w] of logits[batch, pos, a] - logits[batch, pos, w]",
                   "prob": "softmax(logits[batch, pos])[answer]",
                   "logprob": "log_softmax(logits[batch, pos])[answer]",
                   "rank": "count of v with logits[batch, pos, v] > logits[batch, pos, answer] (0 = top)",
                   "rank_margin": "auxiliary: min over v != answer of |logits[batch, pos, v] - logits[batch, pos, answer]|;"
                                  " compare rank exactly only where your logit error is below it",
                   "normalised": "(patched - baseline[patched_run]) / (baseline[patch_source] - baseline[patched_run])"
                                 " is left to the consumer"},
               "cases": entries}, os.path.join(pdir, "manifest.json"))
    return entries


# --------------------------------------------------------------------------------------------
# Gradient and attribution fixtures (float64 reference, gradients.py / attribution.py)
# --------------------------------------------------------------------------------------------

GRAD_PROMPTS = {
    "mary": "When Mary and John went to the store",
    "fox": "The quick brown fox jumps over the lazy dog",
    "hello": "Hello world, this is a test",
    "cat": "The cat sat on the mat",
    "cat5": "The cat sat on",
}

# metric "pairs": list of (text, text) pairs, or "top2" = [[argmax, second] of the unhooked f64 logits at pos]
GRAD_CASES = [
    dict(id="a-loss-default", model="tiny-a", processing="default", attn_result=False, prompt="mary",
         metric=dict(kind="loss")),
    dict(id="a-loss-none-result", model="tiny-a", processing="none", attn_result=True, prompt="fox",
         metric=dict(kind="loss")),
    dict(id="a-token-loss-pos3", model="tiny-a", processing="default", attn_result=False, prompt="fox",
         metric=dict(kind="token_loss", position=3)),
    dict(id="a-logit-diff-2pairs", model="tiny-a", processing="default", attn_result=True, prompt="mary",
         metric=dict(kind="logit_diff", position=-1, pairs=[(" Mary", " John"), (" him", " her")])),
    dict(id="a-prob-neg2-none", model="tiny-a", processing="none", attn_result=False, prompt="hello",
         metric=dict(kind="prob", position=-2, pairs="top2")),
    dict(id="a-fwd-zero-z-head1", model="tiny-a", processing="default", attn_result=False, prompt="mary",
         metric=dict(kind="logit_diff", position=-1, pairs="top2"),
         fwd_hooks=[{"name": "blocks.0.attn.hook_z", "action": "zero", "heads": [1]}]),
    dict(id="a-bwd-scale-resid-mid", model="tiny-a", processing="default", attn_result=False, prompt="hello",
         metric=dict(kind="logprob", position=-1, pairs="top2"),
         bwd_hooks=[{"name": "blocks.1.hook_resid_mid", "action": "scale", "factor": 0.5}]),
    dict(id="b-logprob-last", model="tiny-b", processing="default", attn_result=False, prompt="mary",
         metric=dict(kind="logprob", position=-1, pairs="top2")),
    dict(id="b-loss-none", model="tiny-b", processing="none", attn_result=False, prompt="hello",
         metric=dict(kind="loss")),
    dict(id="b-linear-v-pos4", model="tiny-b", processing="none", attn_result=True, prompt="fox",
         metric=dict(kind="linear", position=4, weights="V")),
    dict(id="b-bwd-zero-pattern-head0", model="tiny-b", processing="default", attn_result=False, prompt="fox",
         metric=dict(kind="logit_diff", position=-3, pairs=[(" Mary", " John")]),
         bwd_hooks=[{"name": "blocks.0.attn.hook_pattern", "action": "zero", "heads": [0]}]),
    dict(id="b-hooks-positions", model="tiny-b", processing="default", attn_result=False, prompt="cat",
         metric=dict(kind="token_loss", position=-2),
         fwd_hooks=[{"name": "blocks.1.attn.hook_v", "action": "zero", "heads": [2], "positions": [1, 3]}],
         bwd_hooks=[{"name": "blocks.0.mlp.hook_post", "action": "scale", "positions": [2, 4], "factor": -2.0},
                    {"name": "blocks.2.attn.hook_q", "action": "zero", "heads": [1], "positions": [5]}]),
    dict(id="c-linear-pv", model="tiny-c", processing="default", attn_result=False, prompt="cat5",
         metric=dict(kind="linear", weights="PV")),
    dict(id="c-token-loss-none", model="tiny-c", processing="none", attn_result=False, prompt="cat",
         metric=dict(kind="token_loss", position=-3)),
    dict(id="c-logit-diff-pos2-result", model="tiny-c", processing="default", attn_result=True, prompt="cat",
         metric=dict(kind="logit_diff", position=2, pairs="top2")),
]
LINEAR_SEED = 20240
LINEAR_NONZERO = 256  # non-zero weights per row (the rest 0: modest metric values, compressible files)


def _linear_weights(case_index: int, shape) -> np.ndarray:
    """Seeded linear-metric weights, float32, [V] or [P, V]: each row has LINEAR_NONZERO entries drawn
    N(0, 1) at distinct random vocabulary ids (numpy default_rng(LINEAR_SEED + case index)), zero elsewhere."""
    rng = np.random.default_rng(LINEAR_SEED + case_index)
    w = np.zeros((1,) + tuple(shape) if len(shape) == 1 else tuple(shape), dtype=np.float32)
    for p in range(w.shape[0]):
        cols = rng.choice(w.shape[1], LINEAR_NONZERO, replace=False)
        w[p, cols] = rng.standard_normal(LINEAR_NONZERO).astype(np.float32)
    return w.reshape(shape)


def model_dirs() -> dict:
    """{name: {"dir": ...}} without (re)writing the models (for --only-gradients)."""
    out = {}
    for name in MODELS:
        d = os.path.join(REPO, "models", "testdata", name)
        if not os.path.isfile(os.path.join(d, "model.safetensors")):
            raise SystemExit(f"{rel(d)} is missing: run make_fixtures.py without --only-gradients first")
        out[name] = {"dir": rel(d)}
    return out


def gradient_selfcheck(tok: dict) -> dict:
    """Finite differences vs autograd on two small models (float64), backward-hook identities."""
    toks = [BOS] + tok[GRAD_PROMPTS["mary"]]
    r = {"tiny-a/default/attn_result": gradients.check_gradients_fd(
             os.path.join(REPO, "models", "testdata", "tiny-a"), toks, "default", True),
         "tiny-b/none": gradients.check_gradients_fd(
             os.path.join(REPO, "models", "testdata", "tiny-b"), toks, "none", False)}
    return {k: max(v.values()) for k, v in r.items()}


def make_gradients(models: dict, tok: dict) -> list:
    gdir = os.path.join(REPO, "tests", "fixtures", "gradients")
    if os.path.isdir(gdir):
        shutil.rmtree(gdir)
    os.makedirs(gdir)
    cases = []
    for i, c in enumerate(GRAD_CASES):
        mdir = os.path.join(REPO, models[c["model"]]["dir"])
        model = HookedGPT2.from_dir(mdir, c["processing"], use_attn_result=c["attn_result"], dtype=torch.float64)
        tokens = [BOS] + tok[GRAD_PROMPTS[c["prompt"]]]
        P = len(tokens)
        if not 5 <= P <= min(15, model.cfg.n_ctx):
            raise SystemExit(f"{c['id']}: {P} tokens")
        out = os.path.join(gdir, c["id"])
        os.makedirs(out)
        m = dict(c["metric"])
        spec = {"kind": m["kind"], "position": m.get("position")}
        weights = None
        if m.get("pairs") == "top2":
            pos = spec["position"] if spec["position"] >= 0 else P + spec["position"]
            top = model(tokens)[0, pos].topk(2).indices.tolist()
            spec["pairs"] = [[int(top[0]), int(top[1])]]
        elif m.get("pairs") is not None:
            spec["pairs"] = [[one_token(a, tok), one_token(w, tok)] for a, w in m["pairs"]]
        if m["kind"] == "linear":
            shape = (model.cfg.d_vocab,) if m["weights"] == "V" else (P, model.cfg.d_vocab)
            wts = _linear_weights(i, shape)
            wpath = os.path.join(out, "linear_weights.npy")
            np.save(wpath, wts)
            spec["weights_file"] = rel(wpath)
            spec["weights_shape"] = list(shape)
            weights = wts.astype(np.float64)
        cases.append(write_gradient_case(model, c, models[c["model"]]["dir"], GRAD_PROMPTS[c["prompt"]], tokens,
                                         spec, weights, out))
    dump_json({"version": 1, "generated_by": GENERATED_BY,
               **GRADIENT_MANIFEST_NOTES,
               "cases": cases}, os.path.join(gdir, "manifest.json"))
    return cases


def write_gradient_case(model: HookedGPT2, c: dict, model_dir: str, prompt: str, tokens, spec: dict, weights,
                        out: str) -> dict:
    """Every hook point's gradient of one case as <out>/<hook>_grad.npy; -> its manifest entry."""
    metric = gradients.metric_from_spec(spec, tokens, weights)
    fwd = [gradients.hook_from_spec(h, "fwd") for h in c.get("fwd_hooks", [])]
    bwd = [gradients.hook_from_spec(h, "bwd") for h in c.get("bwd_hooks", [])]
    _, value, grads = gradients.run_with_cache_bwd(model, tokens, metric, fwd, bwd)
    if list(grads) != model.hook_names():
        raise SystemExit(f"{c['id']}: gradients missing for some hook points")
    gmax = {}
    for name, g in grads.items():
        np.save(os.path.join(out, name + "_grad.npy"), np.ascontiguousarray(g.numpy().astype("<f4")))
        gmax[name] = float(g.abs().max().item())
    print(f"  gradients {c['id']:26s} P={len(tokens):2d} {spec['kind']:10s} value {value:+.6f} "
          f"{len(grads)} grads", flush=True)
    return {"id": c["id"], "model": model_dir, "processing": c["processing"], "use_attn_result": c["attn_result"],
            "prompt": prompt, "tokens": tokens, "metric": spec, "fwd_hooks": c.get("fwd_hooks", []),
            "bwd_hooks": c.get("bwd_hooks", []), "metric_value": value, "dir": rel(out), "grad_max_abs": gmax}


GRADIENT_MANIFEST_NOTES = {
    "dtype": "computed in float64 (weights upcast file dtype -> f32 -> f64); stored as float32 '<f4' "
             ".npy, C order, TL shapes with batch dim 1; <case dir>/<hook name>_grad.npy for every "
             "hook point that fires, in the order of grad_max_abs (firing order)",
    "semantics": "grads[name] = d metric / d (activation at that hook point after every forward "
                 "hook on it), TransformerLens run_with_cache(incl_bwd=True); the stored gradient "
                 "is taken after the backward hooks at that point, and that modified gradient flows "
                 "upstream. ln1 hooks fire once per block, so ln1.hook_normalized's gradient sums "
                 "the q, k and v paths. hook_pattern gradients are non-zero above the diagonal; "
                 "hook_attn_scores gradients are 0 at masked entries",
    "hook_format": {
        "fields": "{name, action: zero|scale, heads?: [int], positions?: [int], factor?: float}; "
                  "forward hooks use only zero, backward hooks zero and scale (gradient entries "
                  "times factor); the selection is heads x positions, an absent list = all",
        "axes": "[B,P,H,X] (q,k,v,z,result): positions axis 1, heads axis 2; [B,H,Q,K] "
                "(attn_scores, pattern): heads axis 1, positions the query axis 2; [B,P,X] "
                "(everything else): positions axis 1, no heads",
        "order": "several hooks on one point apply in list order; forward hooks on a point apply "
                 "before the cache/gradient recorder, backward hooks before the gradient is stored"},
    "metric_definitions": gradients.METRIC_DEFINITIONS}


ATTR_METRICS = ("logit_diff", "prob", "logprob")


def _flat(t: torch.Tensor) -> dict:
    return {"shape": list(t.shape), "values": [float(x) for x in t.reshape(-1).tolist()]}


def fresh_fixture_dir(name: str) -> str:
    """tests/fixtures/<name>, emptied: a regenerated set never keeps a stale case."""
    path = os.path.join(REPO, "tests", "fixtures", name)
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


def patching_manifest() -> dict:
    with open(os.path.join(REPO, "tests", "fixtures", "patching", "manifest.json")) as f:
        return json.load(f)


def make_attribution(models: dict) -> dict:
    adir = fresh_fixture_dir("attribution")
    pman = patching_manifest()
    entries, checks = [], {"linear_site_max_err": 0.0, "star_one_sided_max_err": 0.0,
                           "star_central_max_err": 0.0, "unchanged_zero_cells": 0}
    for pc in pman["cases"]:
        t0 = time.time()
        model = HookedGPT2.from_dir(os.path.join(REPO, pc["model"]), "default", dtype=torch.float64)
        clean, corrupted = pc["clean_tokens"], pc["corrupted_tokens"]
        if pc["direction"] == "denoising":
            recv, src, recv_name, src_name = corrupted, clean, "corrupted", "clean"
        else:
            recv, src, recv_name, src_name = clean, corrupted, "clean", "corrupted"
        pm = pc["metric"]
        pos, pairs = pm["pos"], pm["pairs"]
        if pm["answer"] != pairs[0][0]:
            raise SystemExit(f"{pc['id']}: answer != pairs[0][0]")
        metric_doc = dict(pm)
        metric_doc["names"] = list(ATTR_METRICS)
        base = {"clean": {}, "corrupted": {}}
        atp, atp_star = {}, {}
        for mk in ATTR_METRICS:
            for run_name, toks in (("clean", clean), ("corrupted", corrupted)):
                base[run_name][mk] = float(gradients.make_metric(mk, toks, pos, pairs)(model(toks)).item())
            metric = gradients.make_metric(mk, recv, pos, pairs)
            res = attribution.attribute(model, recv, src, metric)
            tag = f"{pc['id']}/{mk}"
            if res["metric_receiving"] != base[recv_name][mk] or res["metric_source"] != base[src_name][mk]:
                raise SystemExit(f"{tag}: metric of the gradient run differs from the plain forward")
            w = attribution.check_star_first_order(model, res, tag=tag)
            checks["star_one_sided_max_err"] = max(checks["star_one_sided_max_err"], w["one_sided"])
            checks["star_central_max_err"] = max(checks["star_central_max_err"], w["central"])
            checks["unchanged_zero_cells"] += attribution.check_unchanged_slices_zero(res, recv, src, tag)
            attribution.check_every_and_equal(res, tag)
            atp[mk] = {n: _flat(t) for n, t in res["atp"].items()}
            atp_star[mk] = {n: _flat(res["atp_star"][n]) for n in attribution.QK_SWEEPS}
        for n in attribution.SWEEP_NAMES:  # patch_types / axes for the reader
            for d in [atp[mk][n] for mk in ATTR_METRICS] + ([atp_star[mk][n] for mk in ATTR_METRICS]
                                                             if n in attribution.QK_SWEEPS else []):
                d["axes"] = list(patching.SWEEPS[n][2])
                if n == "get_act_patch_block_every":
                    d["patch_types"] = ["resid_pre", "attn_out", "mlp_out"]
                elif n.endswith("_every"):
                    d["patch_types"] = ["z", "q", "k", "v", "pattern"]
        lw = np.random.default_rng(LINEAR_SEED).standard_normal(model.cfg.d_vocab)
        checks["linear_site_max_err"] = max(checks["linear_site_max_err"], attribution.check_linear_site_exact(
            model, recv, src, gradients.make_metric("linear", recv, pos, weights=lw), pc["id"]))
        doc = {"id": pc["id"], "model": pc["model"], "processing": "default", "attn_result": False,
               "dtype": "float64", "direction": pc["direction"],
               "receiving_run": recv_name, "patch_source": src_name,
               "clean_tokens": clean, "corrupted_tokens": corrupted,
               "metric": metric_doc, "baseline": base,
               "atp": atp, "atp_star": atp_star,
               "atp_star_sweeps": list(attribution.QK_SWEEPS),
               "atp_star_note": "sweeps not listed in atp_star_sweeps are equal to atp (AtP* changes only q and k "
                                "cells; inside the *_every sweeps the z, v and pattern slices equal atp)"}
        path = os.path.join(adir, pc["id"] + ".json")
        dump_json(doc, path)
        entries.append({"id": pc["id"], "model": pc["model"], "direction": pc["direction"], "file": rel(path),
                        "receiving_run": recv_name, "patch_source": src_name,
                        "clean_tokens": clean, "corrupted_tokens": corrupted, "metric": metric_doc,
                        "baseline": base, "sweeps": list(attribution.SWEEP_NAMES),
                        "atp_star_sweeps": list(attribution.QK_SWEEPS)})
        print(f"  attribution {pc['id']:24s} {time.time() - t0:5.1f}s", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY,
               "dtype": "float64 reference; values are JSON float64",
               "metric_definitions": {
                   "logit_diff": "mean over pairs [a, w] of logits[0, pos, a] - logits[0, pos, w]",
                   "prob": "softmax(logits[0, pos])[answer]  (answer = pairs[0][0])",
                   "logprob": "log_softmax(logits[0, pos])[answer]"},
               "definitions": {
                   "receiving_run": "denoising: corrupted (clean values patched in); noising: clean",
                   "atp": "raw estimate per cell = sum over the cell's slice of (a_source - a_receiving) * "
                          "dM/da on the receiving run (not added to the baseline, not normalised)",
                   "atp_star": "AtP* QK fix (Kramar et al. 2024), no GradDrop: q / k cells recompute the "
                               "head's pattern exactly (float64) with the source's q (k) slice substituted, "
                               "estimate = sum over the head's [P, P] of (pattern_patched - pattern_receiving) "
                               "* dM/dpattern (receiving run); all other cells equal atp",
                   "cells": "same sweeps, slices, shapes and axis orders as the exact sweeps in "
                            "tests/fixtures/patching; values are flattened in C order",
                   "estimated_patched_metric": "baseline[receiving_run][metric] + value"},
               "checks": checks,
               "cases": entries}, os.path.join(adir, "manifest.json"))
    return checks


# --------------------------------------------------------------------------------------------
# Path-patching fixtures (float64 reference, path_patching.py)
# --------------------------------------------------------------------------------------------

PATH_SEMANTICS = (
    "Path patching (Wang et al. 2022; ARENA get_path_patch_head_to_final_resid_post / "
    "get_path_patch_head_to_heads), float64, default processing. Receiving run = clean tokens for "
    "noising, corrupted for denoising; source run = the other. For each sender head (ls, hs), cell "
    "index ls * n_heads + hs: step A runs the receiving tokens with every head's z (blocks.{l}.attn.hook_z, "
    "all layers, all positions) set to its receiving-run value except the sender's, set to its source-run "
    "value; MLPs and LayerNorms are recomputed. receivers == []: the cell is the metric of step A's "
    "logits. Otherwise step A records each receiver's blocks.{layer}.attn.hook_{input}[:, :, head, :] "
    "and step B runs the receiving tokens again with only those slices set to the recorded values; the "
    "cell is the metric of step B. Senders at or after the last receiver's layer are computed too and "
    "equal the receiving run's metric. Metrics at batch 0, position pos: logit_diff = mean over pairs "
    "[a, w] of logits[pos, a] - logits[pos, w]; logprob = log_softmax(logits[pos])[answer], "
    "answer = pairs[0][0]. values are flattened in C order over [layer, head].")


def path_receiver_sets(L: int, H: int) -> list:
    """(id suffix, receivers) per patching case. With one layer every receiver sits in layer 0, which no
    sender can reach (every cell would equal the baseline and test nothing), so only "final" is made."""
    sets = [("path-final", [])]
    if L >= 2:
        sets.append(("path-q-last", [{"layer": L - 1, "head": 0, "input": "q"},
                                     {"layer": L - 1, "head": H - 1, "input": "q"}]))
        sets.append(("path-kv-mixed", [{"layer": 1, "head": 0, "input": "v"},
                                       {"layer": L - 1, "head": 1 % H, "input": "k"}]))
    return sets


def check_path_patching(cid: str, model, pc: dict, receivers: list, values: dict, receiving: dict) -> dict:
    """The generator's identities (SystemExit on failure): (a) final receivers, last-layer sender ==
    activation patching of that head's z over all positions; (b) a sender at or after the last
    receiver's layer == the receiving metric; (c) some cell moves by > 1e-6 (else the case tests
    nothing). Returns the largest errors of (a) and (b)."""
    L, H = model.cfg.n_layers, model.cfg.n_heads
    metric = path_patching.make_metric(pc["metric"]["pos"], pc["metric"]["pairs"], pc["metric"]["answer"])
    err = {"a": 0.0, "b": 0.0}
    for m in path_patching.METRICS:
        if not receivers:
            for h in range(H):
                ref = path_patching.act_patch_head_out_all_pos(model, pc["clean_tokens"], pc["corrupted_tokens"],
                                                               pc["direction"], L - 1, h, metric)[m]
                err["a"] = max(err["a"], abs(values[m][L - 1, h].item() - ref))
        else:
            top = max(r["layer"] for r in receivers)
            err["b"] = max(err["b"], (values[m][top:] - receiving[m]).abs().max().item())
        if not ((values[m] - receiving[m]).abs() > 1e-6).any():
            raise SystemExit(f"{cid}/{m}: no sender moves the metric by more than 1e-6; pick other receivers")
    if err["a"] > 1e-9 or err["b"] > 1e-9:
        raise SystemExit(f"{cid}: path-patching identity violated: {err}")
    return err


def make_path_patching() -> dict:
    """tests/fixtures/path-patching: one file per (patching case x receiver set), from the patching
    manifest's models, tokens, metric and direction."""
    ddir = fresh_fixture_dir("path-patching")
    pman = patching_manifest()
    entries, errs = [], {"a": 0.0, "b": 0.0}
    for pc in pman["cases"]:
        model = HookedGPT2.from_dir(os.path.join(REPO, pc["model"]), "default", dtype=torch.float64)
        pm = pc["metric"]
        if pm["answer"] != pm["pairs"][0][0]:
            raise SystemExit(f"{pc['id']}: answer != pairs[0][0]")
        metric = path_patching.make_metric(pm["pos"], pm["pairs"], pm["answer"])
        base = {"clean": metric(model(pc["clean_tokens"])), "corrupted": metric(model(pc["corrupted_tokens"]))}
        L, H = model.cfg.n_layers, model.cfg.n_heads
        for suffix, receivers in path_receiver_sets(L, H):
            t0 = time.time()
            cid = f"{pc['id']}-{suffix}"
            res = path_patching.path_patch(model, pc["clean_tokens"], pc["corrupted_tokens"], pc["direction"],
                                           receivers, metric)
            if res["receiving"] != base["clean" if pc["direction"] == "noising" else "corrupted"]:
                raise SystemExit(f"{cid}: the cached receiving run's metric differs from the plain forward")
            e = check_path_patching(cid, model, pc, receivers, res["values"], res["receiving"])
            errs = {k: max(errs[k], e[k]) for k in errs}
            doc = {"id": cid, "model": pc["model"], "processing": "default", "direction": pc["direction"],
                   "clean_tokens": pc["clean_tokens"], "corrupted_tokens": pc["corrupted_tokens"],
                   "pos": pm["pos"], "pairs": pm["pairs"], "answer": pm["answer"], "receivers": receivers,
                   "shape": [L, H], "axes": ["layer", "head"], "baseline": base,
                   "values": {m: [float(x) for x in res["values"][m].reshape(-1).tolist()]
                              for m in path_patching.METRICS}}
            path = os.path.join(ddir, cid + ".json")
            dump_json(doc, path)
            entries.append({"id": cid, "file": rel(path)})
            print(f"  path-patching {cid:40s} {time.time() - t0:5.2f}s", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY + " --only-path-patching, tests/reference/path_patching.py",
               "semantics": PATH_SEMANTICS, "cases": entries}, os.path.join(ddir, "manifest.json"))
    return errs


# Generation cases: full float64 forwards per step (generation.py). Steering: activation addition at
# resid_pre of the middle layer, " Love" - " Hate", front-aligned on the prompt.
GEN_STEER = dict(hook="resid_pre", layer=1, coefficient=8.0, to=" Love", frm=" Hate", positions="prompt")
GEN_UNEMBED_COEF = 6.0
GENERATION_CASES = [
    dict(id="a-greedy", model="tiny-a", processing="default", prompt="When Mary and John went", n=10, T=0.0),
    dict(id="b-greedy-none", model="tiny-b", processing="none", prompt="The quick brown fox", n=8, T=0.0),
    dict(id="a-steered-greedy", model="tiny-a", processing="default", prompt="I think that you are", n=10, T=0.0,
         steer=GEN_STEER),
    dict(id="a-sample-top-k", model="tiny-a", processing="default", prompt="The cat sat", n=12, T=0.8, top_k=40,
         seed=7),
    dict(id="b-sample-top-p-freq", model="tiny-b", processing="default", prompt="Hello world", n=12, T=1.2,
         top_p=0.9, freq=0.5, seed=11),
    dict(id="c-sample-plain", model="tiny-c", processing="default", prompt="The cat", n=8, T=1.0, seed=3),
    dict(id="a-steered-sample", model="tiny-a", processing="default", prompt="I think that you are", n=10, T=0.7,
         seed=5, steer=GEN_STEER),
    # The lab's steering by a direction from the analysis views: the unit DLA direction " Paris" - " London"
    # (W_U columns) at resid_mid of layer 0, added at every position.
    dict(id="a-unembed-steered-greedy", model="tiny-a", processing="default", prompt="I think that you are", n=10,
         T=0.0, steer=dict(hook="resid_mid", layer=0, coefficient=GEN_UNEMBED_COEF, to=" Paris", frm=" London",
                           positions="all", by="unembed")),
    dict(id="b-unembed-steered-sample", model="tiny-b", processing="none", prompt="Hello world", n=8, T=0.9, seed=9,
         steer=dict(hook="resid_post", layer=1, coefficient=GEN_UNEMBED_COEF, to=" cat", frm="", positions="all",
                    by="unembed")),
]


def generation_steering(model: HookedGPT2, st: dict, prompt: list, tok: dict):
    """The fixture's steering hook and its description: activation addition, or (by="unembed") a unit
    direction of W_U columns added at every position."""
    name = f"blocks.{st['layer']}.hook_{st['hook']}"
    doc = {"hook": st["hook"], "layer": st["layer"], "name": name, "coefficient": st["coefficient"], "to": st["to"],
           "from": st["frm"], "positions": st["positions"], "by": st.get("by", "activations")}
    if doc["by"] == "unembed":
        frm = one_token(st["frm"], tok) if st["frm"] else None
        d = generation.unembedding_direction(model, one_token(st["to"], tok), frm)
        doc.update(rows=1, direction_head=[float(x) for x in d[:4]])
        return [(name, generation.direction_hook(d, st["coefficient"]))], doc
    vec = generation.steering_vector(model, name, [BOS] + tok[st["to"]], [BOS] + tok[st["frm"]], one_token(" ", tok))
    doc.update(rows=int(vec.shape[0]), row_norms=[float(x) for x in vec.norm(dim=-1)])
    return [(name, generation.steering_hook(vec, st["coefficient"], len(prompt), st["positions"]))], doc


def make_generation(models: dict, tok: dict) -> None:
    gdir = os.path.join(REPO, "tests", "fixtures", "generation")
    os.makedirs(gdir, exist_ok=True)
    cases = []
    for c in GENERATION_CASES:
        t0 = time.time()
        mdir = os.path.join(REPO, models[c["model"]]["dir"])
        model = HookedGPT2.from_dir(mdir, c["processing"], dtype=torch.float64)
        prompt = [BOS] + tok[c["prompt"]]
        sampling = dict(temperature=c["T"], top_k=c.get("top_k", 0), top_p=c.get("top_p", 1.0),
                        freq_penalty=c.get("freq", 0.0), seed=c.get("seed", 0))
        hooks, steer_doc = [], None
        if "steer" in c:
            hooks, steer_doc = generation_steering(model, c["steer"], prompt, tok)
        out = generation.generate(model, prompt, c["n"], fwd_hooks=hooks, **sampling)
        doc = {"id": c["id"], "model": models[c["model"]]["dir"], "processing": c["processing"], "prompt": c["prompt"],
               "prompt_tokens": prompt, "max_new_tokens": c["n"], "sampling": sampling, "steering": steer_doc,
               "tokens": out["tokens"], "steps": out["steps"], "min_margin": min(s["margin"] for s in out["steps"])}
        if steer_doc is not None:
            doc["unsteered_tokens"] = generation.generate(model, prompt, c["n"], **sampling)["tokens"]
        cases.append(doc)
        print(f"  generation {c['id']:22s} {time.time() - t0:5.1f}s tokens {out['tokens']} "
              f"min margin {doc['min_margin']:.2e}", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY + ", tests/reference/generation.py",
               "dtype": "float64 reference (weights upcast from the file), full forward per step (no KV cache)",
               "definitions": {
                   "prob": "softmax(logits) of the chosen token (temperature 1, no penalty or filter)",
                   "sample_prob": "the chosen token's probability under the final sampling distribution",
                   "top": "[[id, prob, sample_prob]] of the 5 most likely tokens by prob (lower id first among ties)",
                   "dist_top": "[[id, p]] the 10 largest entries of the sampling distribution (stable order)",
                   "support": "tokens with p > 0 in the sampling distribution",
                   "margin": "greedy: top-1 minus top-2 logit; sampled: min |cumulative p - u| over kept tokens",
                   "sampling": "see tests/reference/generation.py and README.md (Generation)"},
               "cases": cases}, os.path.join(gdir, "manifest.json"))


ATTN_ONLY_MODEL = dict(layers=2, d_model=32, heads=4, n_ctx=24, vocab=1000, seed=41, bos=0)
ATTN_ONLY_PROMPT = " the, and of a. to in is the, and of"


# f16 weights in memory (LoadOptions::weight_precision = kF16): the float32 reference with its
# processed matrices rounded to f16 (HookedGPT2.round_matrices_to_f16), every hook and the logits;
# tests/native/reference_parity_test.cpp loads these cases with f16 weights.
F16_CASES = [dict(model=m, prompt=p, processing=proc)
             for m, p in (("tiny-a", "mary"), ("tiny-b", "unicode"), ("tiny-c", "full-ctx"))
             for proc in ("default", "none")]


def make_f16_weights(models: dict, tok: dict) -> None:
    fix = os.path.join(REPO, "tests", "fixtures", "f16-weights")
    if os.path.isdir(fix):
        shutil.rmtree(fix)
    cases = []
    for c in F16_CASES:
        text, bos = PROMPTS[c["prompt"]]
        tokens = ([BOS] if bos else []) + tok[text]
        mdir = os.path.join(REPO, models[c["model"]]["dir"])
        model = HookedGPT2.from_dir(mdir, c["processing"]).round_matrices_to_f16()
        cid = f"{c['model']}-{c['prompt']}-{c['processing']}-f16"
        out = os.path.join(fix, cid)
        extra = {"id": cid, "model": models[c["model"]]["dir"], "prompt": text, "prepend_bos": bos,
                 "weight_precision": "f16"}
        man = run_case(model, tokens, out, extra)
        logits32, cache32 = model.run_with_cache(tokens)
        logits64, cache64 = model.to_dtype(torch.float64).run_with_cache(tokens)
        worst = max((cache32[h].double() - cache64[h])[torch.isfinite(cache64[h])].abs().max().item()
                    for h in model.hook_names())
        worst = max(worst, (logits32.double() - logits64).abs().max().item())
        man["f64_max_abs_diff"] = worst
        dump_json(man, os.path.join(out, "manifest.json"))
        cases.append({"id": cid, "model": models[c["model"]]["dir"], "prompt": text, "prepend_bos": bos,
                      "tokens": tokens, "processing": c["processing"], "attn_result": False,
                      "weight_precision": "f16", "dir": rel(out), "loss": man["loss"],
                      "loss_per_token": man["loss_per_token"]})
        print(f"  f16 weights {cid:32s} loss {man['loss']:.6f} max|f32-f64| {worst:.1e}", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY + " --only-f16-weights", "cases": cases},
              os.path.join(fix, "manifest.json"))


def make_attn_only() -> None:
    """models/testdata/tiny-attn (TransformerLens attn_only, vocab_size 1000 < GPT-2's 50257, so
    bos_token_id 0) and tests/fixtures/attn-only: every hook under both processings."""
    spec = ATTN_ONLY_MODEL
    out = os.path.join(REPO, "models", "testdata", "tiny-attn")
    if os.path.isdir(out):
        shutil.rmtree(out)
    cfg_path, st_path = write_model(out, spec["layers"], spec["d_model"], spec["heads"], None, spec["n_ctx"],
                                    spec["vocab"], "f32", spec["seed"],
                                    command="tests/reference/make_fixtures.py --only-attn-only")
    tensors, meta, _ = read_safetensors(st_path)
    kept = {k: ("F32", v) for k, v in tensors.items() if ".mlp." not in k and ".ln_2." not in k}
    write_safetensors(st_path, kept, meta)
    with open(cfg_path) as f:
        cfg = json.load(f)
    cfg.update(attn_only=True, bos_token_id=spec["bos"], eos_token_id=spec["bos"])
    dump_json(cfg, cfg_path)
    body = tokenize([ATTN_ONLY_PROMPT])[0]
    if max(body) >= spec["vocab"]:
        raise SystemExit("the attn-only prompt has a token outside the model's vocabulary")
    tokens = [spec["bos"]] + body
    fix = os.path.join(REPO, "tests", "fixtures", "attn-only")
    cases = []
    for processing in ("default", "none"):
        model = HookedGPT2.from_dir(out, processing)
        case_dir = os.path.join(fix, processing)
        man = run_case(model, tokens, case_dir, {"model": rel(out), "prompt": ATTN_ONLY_PROMPT, "prepend_bos": True})
        cases.append({"id": f"tiny-attn-{processing}", "model": rel(out), "prompt": ATTN_ONLY_PROMPT,
                      "prepend_bos": True, "tokens": tokens, "processing": processing, "attn_result": False,
                      "dir": rel(case_dir), "loss": man["loss"], "loss_per_token": man["loss_per_token"]})
        print(f"  attn-only {processing}: {len(man['hooks'])} hooks, loss {man['loss']:.6f}", flush=True)
    dump_json({"version": 1, "generated_by": GENERATED_BY + " --only-attn-only", "cases": cases},
              os.path.join(fix, "manifest.json"))
    make_attn_only_gradients(out, tokens, os.path.join(fix, "gradients"))


# The backward pass without MLPs: every hook's gradient, a forward and a backward hook on the
# attention path, both processings (tests/native/gradient_parity_test.cpp reads the manifest).
ATTN_ONLY_GRAD_CASES = [
    dict(id="attn-loss-default", processing="default", attn_result=False, metric=dict(kind="loss"),
         fwd_hooks=[{"name": "blocks.0.attn.hook_z", "action": "zero", "heads": [1]}],
         bwd_hooks=[{"name": "blocks.1.hook_resid_pre", "action": "scale", "factor": 0.5}]),
    dict(id="attn-logit-diff-none-result", processing="none", attn_result=True,
         metric=dict(kind="logit_diff", position=-1, pairs="top2")),
]


def make_attn_only_gradients(model_dir: str, tokens, gdir: str) -> None:
    if os.path.isdir(gdir):
        shutil.rmtree(gdir)
    cases = []
    for c in ATTN_ONLY_GRAD_CASES:
        model = HookedGPT2.from_dir(model_dir, c["processing"], use_attn_result=c["attn_result"], dtype=torch.float64)
        spec = {"kind": c["metric"]["kind"], "position": c["metric"].get("position")}
        if c["metric"].get("pairs") == "top2":
            top = model(tokens)[0, len(tokens) + spec["position"]].topk(2).indices.tolist()
            spec["pairs"] = [[int(top[0]), int(top[1])]]
        out = os.path.join(gdir, c["id"])
        os.makedirs(out)
        cases.append(write_gradient_case(model, c, rel(model_dir), ATTN_ONLY_PROMPT, tokens, spec, None, out))
    dump_json({"version": 1, "generated_by": GENERATED_BY + " --only-attn-only", **GRADIENT_MANIFEST_NOTES,
               "cases": cases}, os.path.join(gdir, "manifest.json"))


def clean_fixtures() -> None:
    fix = os.path.join(REPO, "tests", "fixtures")
    man = os.path.join(fix, "manifest.json")
    if os.path.exists(man):
        with open(man) as f:
            for c in json.load(f).get("cases", []):
                d = os.path.join(REPO, c["dir"])
                if os.path.isdir(d) and os.path.commonpath([d, fix]) == fix and d != fix:
                    shutil.rmtree(d)
    for c in FORWARD_CASES:
        d = os.path.join(fix, c["id"])
        if os.path.isdir(d):
            shutil.rmtree(d)
    if os.path.isdir(os.path.join(fix, "patching")):
        shutil.rmtree(os.path.join(fix, "patching"))


def dir_size(p: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(p) for f in fs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-selfcheck", action="store_true")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--only-forward", action="store_true")
    g.add_argument("--only-gradients", action="store_true",
                   help="regenerate only tests/fixtures/gradients and tests/fixtures/attribution")
    g.add_argument("--only-generation", action="store_true", help="regenerate only tests/fixtures/generation")
    g.add_argument("--only-f16-weights", action="store_true", help="regenerate only tests/fixtures/f16-weights")
    g.add_argument("--only-attn-only", action="store_true",
                   help="regenerate only models/testdata/tiny-attn and tests/fixtures/attn-only")
    g.add_argument("--only-path-patching", action="store_true",
                   help="regenerate only tests/fixtures/path-patching (reads the patching manifest)")
    a = ap.parse_args(argv)
    t_start = time.time()
    if a.only_path_patching:  # before tokenizing: it needs no tokenizer (tokens come from the manifest)
        errs = make_path_patching()
        print(f"path-patching fixtures in {time.time() - t_start:.1f}s, max identity errors {errs}, "
              f"{dir_size(os.path.join(REPO, 'tests', 'fixtures', 'path-patching')) / 1e3:.1f} kB")
        return 0
    texts = sorted({t for t, _ in PROMPTS.values()} | {c[k] for c in PATCH_CASES for k in ("clean", "corrupted")}
                   | {x for c in PATCH_CASES for p in c["pairs"] for x in p} | set(GRAD_PROMPTS.values())
                   | {x for c in GRAD_CASES if isinstance(c["metric"].get("pairs"), list)
                      for p in c["metric"]["pairs"] for x in p})
    texts = sorted(set(texts) | {c["prompt"] for c in GENERATION_CASES} | {" "}
                   | {c["steer"][k] for c in GENERATION_CASES if "steer" in c for k in ("to", "frm") if c["steer"][k]})
    tok = dict(zip(texts, tokenize(texts)))
    if a.only_attn_only:
        make_attn_only()
        return 0
    if a.only_f16_weights:
        make_f16_weights(model_dirs(), tok)
        return 0
    if a.only_generation:
        t0 = time.time()
        make_generation(model_dirs(), tok)
        print(f"generation fixtures in {time.time() - t0:.1f}s")
        return 0
    if a.only_gradients:
        models = model_dirs()
        if not a.skip_selfcheck:
            t0 = time.time()
            r = gradient_selfcheck(tok)
            print(f"gradient self-check passed in {time.time() - t0:.1f}s: max rel errors {r}", flush=True)
        t0 = time.time()
        make_gradients(models, tok)
        checks = make_attribution(models)
        print(f"attribution checks: {checks}")
        fix = os.path.join(REPO, "tests", "fixtures")
        print(f"sizes: gradients {dir_size(os.path.join(fix, 'gradients')) / 1e6:.2f} MB, attribution "
              f"{dir_size(os.path.join(fix, 'attribution')) / 1e6:.2f} MB; time {time.time() - t0:.1f}s")
        return 0
    models = make_models()
    stats = {"max_f64_diff": {}, "pattern": {}, "patch_forwards": 0, "selfcheck": {}}
    if not a.skip_selfcheck:
        t0 = time.time()
        selfcheck.check_utilities()
        for name, info in models.items():
            mdir = os.path.join(REPO, info["dir"])
            for key in ("mary", "unicode", "full-ctx") if name == "tiny-c" else ("mary", "unicode"):
                text, bos = PROMPTS[key]
                tokens = (([BOS] if bos else []) + tok[text])[: info["n_ctx"]]
                stats["selfcheck"][f"{name}/{key}"] = selfcheck.check_model_forward(mdir, tokens, verbose=True)
        r = gradient_selfcheck(tok)
        print(f"gradient self-check: max rel errors {r}", flush=True)
        print(f"self-checks passed in {time.time() - t0:.1f}s", flush=True)
    clean_fixtures()
    t0 = time.time()
    make_forward(models, tok, stats)
    make_f16_weights(models, tok)
    t_fwd = time.time() - t0
    t_patch = t_grad = 0.0
    if not a.only_forward:
        t0 = time.time()
        make_patching(models, tok, stats)
        print(f"path-patching identity errors: {make_path_patching()}", flush=True)
        t_patch = time.time() - t0
        t0 = time.time()
        make_gradients(models, tok)
        print(f"attribution checks: {make_attribution(models)}", flush=True)
        t_grad = time.time() - t0
        make_generation(models, tok)
    print("attention sharpness (rows q>=1 of every head, default processing, forward cases):")
    for m, rows in stats["pattern"].items():
        r = torch.cat([x.reshape(-1) for x in rows])
        print(f"  {m}: {r.numel()} rows, row max: median {r.median().item():.3f}, "
              f"fraction > 0.5 {(r > 0.5).double().mean().item():.2f}, largest {r.max().item():.3f}")
    fix = os.path.join(REPO, "tests", "fixtures")
    print(f"sizes: tests/fixtures {dir_size(fix) / 1e6:.2f} MB "
          f"(patching {dir_size(os.path.join(fix, 'patching')) / 1e6:.2f} MB, gradients "
          f"{dir_size(os.path.join(fix, 'gradients')) / 1e6:.2f} MB, attribution "
          f"{dir_size(os.path.join(fix, 'attribution')) / 1e6:.2f} MB), models/testdata "
          f"{dir_size(os.path.join(REPO, 'models', 'testdata')) / 1e6:.2f} MB")
    print(f"time: forward fixtures {t_fwd:.1f}s, patching {t_patch:.1f}s "
          f"({stats['patch_forwards']} patched forwards), gradients+attribution {t_grad:.1f}s, total {time.time() - t_start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
