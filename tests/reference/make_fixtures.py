#!/usr/bin/env python3
"""Regenerates the random test models and every reference fixture, deterministically.

  /usr/bin/python3 tests/reference/make_fixtures.py [--skip-selfcheck] [--only-forward]

Writes models/testdata/tiny-{a,b,c}/, tests/fixtures/manifest.json + tests/fixtures/<case id>/,
tests/fixtures/patching/manifest.json + tests/fixtures/patching/<case id>.json.
Formats: tests/reference/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
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
import patching  # noqa: E402
import selfcheck  # noqa: E402
from hooked_gpt2 import BOS, HookedGPT2, decode, dump_json, run_case, tokenize  # noqa: E402
from make_random_gpt2 import cli_command, write_model  # noqa: E402

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


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    ap.add_argument("--only-forward", action="store_true")
    a = ap.parse_args(argv)
    t_start = time.time()
    models = make_models()
    texts = sorted({t for t, _ in PROMPTS.values()} | {c[k] for c in PATCH_CASES for k in ("clean", "corrupted")}
                   | {x for c in PATCH_CASES for p in c["pairs"] for x in p})
    tok = dict(zip(texts, tokenize(texts)))
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
        print(f"self-checks passed in {time.time() - t0:.1f}s", flush=True)
    clean_fixtures()
    t0 = time.time()
    make_forward(models, tok, stats)
    t_fwd = time.time() - t0
    t_patch = 0.0
    if not a.only_forward:
        t0 = time.time()
        make_patching(models, tok, stats)
        t_patch = time.time() - t0
    print("attention sharpness (rows q>=1 of every head, default processing, forward cases):")
    for m, rows in stats["pattern"].items():
        r = torch.cat([x.reshape(-1) for x in rows])
        print(f"  {m}: {r.numel()} rows, row max: median {r.median().item():.3f}, "
              f"fraction > 0.5 {(r > 0.5).double().mean().item():.2f}, largest {r.max().item():.3f}")
    fix = os.path.join(REPO, "tests", "fixtures")
    print(f"sizes: tests/fixtures {dir_size(fix) / 1e6:.2f} MB "
          f"(patching {dir_size(os.path.join(fix, 'patching')) / 1e6:.2f} MB), models/testdata "
          f"{dir_size(os.path.join(REPO, 'models', 'testdata')) / 1e6:.2f} MB")
    print(f"time: forward fixtures {t_fwd:.1f}s, patching {t_patch:.1f}s "
          f"({stats['patch_forwards']} patched forwards), total {time.time() - t_start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
