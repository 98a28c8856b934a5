"""Self-checks of the reference that fail loudly (AssertionError / SystemExit) on any violation.

check_model_forward(model_dir, tokens):
  errors are relative, |a - b| / max(1, |b|) (for logits and logit differences: / max(1, max_v |centred
  logit| at that position)); tolerance T = 1e-5 in float32, 1e-10 in float64
  * unprocessed reference logits == independent HF-style forward (hf_gpt2.py)            <= 2T
  * every processing flag alone, and the default (all four), versus no processing:
      loss, per-token loss, probabilities, log-prob differences and logit differences
      (logit[a] - logit[b] for all token pairs among the top 50 and a fixed random set),
      logits centred over the vocabulary                                                 <= T
  * hook identities in every configuration: resid_pre0 = embed + pos_embed,
    resid_mid = resid_pre + attn_out, resid_post = resid_mid + mlp_out,
    resid_pre[l+1] = resid_post[l], pattern rows sum to 1 with zeros above the diagonal,
    attn_scores -inf exactly above the diagonal and finite elsewhere, scale recomputed,
    z = pattern @ v, post = gelu_new(pre), ln_final.normalized @ W_U + b_U = logits,
    sum_h result + b_O = attn_out (use_attn_result), b_V = 0 after fold_value_biases,
    reading weights centred after fold_ln, writing weights centred after center_writing_weights
"""

from __future__ import annotations

import itertools
import math
from typing import Dict, List, Sequence

import torch

from hooked_gpt2 import PROCESSING_FLAGS, HookedGPT2, gelu_new, hf_to_tl, load_hf_dir, loss_fn
from hf_gpt2 import hf_logits


class SelfCheckError(AssertionError):
    pass


def _req(cond: bool, msg: str) -> None:
    if not cond:
        raise SelfCheckError(msg)


def _maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.double() - b.double()).abs().max().item()


def check_hook_identities(model: HookedGPT2, tokens: Sequence[int], tag: str) -> Dict[str, float]:
    logits, c = model.run_with_cache(list(tokens))
    cfg = model.cfg
    P = len(tokens)
    names = list(c.keys())
    _req(names == model.hook_names(), f"{tag}: cache keys / firing order differ from hook_names()")
    stats = {"max_pattern_row_max": [], "frac_rows_max_gt_0.5": []}
    _req(_maxdiff(c["blocks.0.hook_resid_pre"], c["hook_embed"] + c["hook_pos_embed"]) == 0.0,
         f"{tag}: resid_pre0 != embed + pos_embed")
    triu = torch.ones(P, P, dtype=torch.bool).triu(1)
    for l in range(cfg.n_layers):
        b = f"blocks.{l}."
        _req(_maxdiff(c[b + "hook_resid_mid"], c[b + "hook_resid_pre"] + c[b + "hook_attn_out"]) == 0.0,
             f"{tag}: L{l} resid_mid != resid_pre + attn_out")
        _req(_maxdiff(c[b + "hook_resid_post"], c[b + "hook_resid_mid"] + c[b + "hook_mlp_out"]) == 0.0,
             f"{tag}: L{l} resid_post != resid_mid + mlp_out")
        if l + 1 < cfg.n_layers:
            _req(_maxdiff(c[f"blocks.{l + 1}.hook_resid_pre"], c[b + "hook_resid_post"]) == 0.0,
                 f"{tag}: resid_pre{l + 1} != resid_post{l}")
        pat = c[b + "attn.hook_pattern"]
        sc = c[b + "attn.hook_attn_scores"]
        _req(list(pat.shape) == [1, cfg.n_heads, P, P], f"{tag}: pattern shape {list(pat.shape)}")
        _req(_maxdiff(pat.sum(-1), torch.ones_like(pat.sum(-1))) < 1e-5, f"{tag}: L{l} pattern rows do not sum to 1")
        _req(bool((pat[..., triu] == 0).all()), f"{tag}: L{l} pattern non-zero above the diagonal")
        _req(bool(torch.isneginf(sc[..., triu]).all()), f"{tag}: L{l} attn_scores not -inf above the diagonal")
        _req(bool(torch.isfinite(sc[..., ~triu]).all()), f"{tag}: L{l} attn_scores not finite on/below the diagonal")
        z = torch.einsum("bhqk,bkhd->bqhd", pat, c[b + "attn.hook_v"])
        _req(_maxdiff(z, c[b + "attn.hook_z"]) < 1e-5, f"{tag}: L{l} z != pattern @ v")
        _req(_maxdiff(c[b + "mlp.hook_post"], gelu_new(c[b + "mlp.hook_pre"])) == 0.0, f"{tag}: L{l} post != gelu_new(pre)")
        for ln, src in (("ln1", "hook_resid_pre"), ("ln2", "hook_resid_mid")):
            x = c[b + src]
            x = x - x.mean(-1, keepdim=True)
            s = (x.pow(2).mean(-1, keepdim=True) + cfg.eps).sqrt()
            _req(list(c[b + ln + ".hook_scale"].shape) == [1, P, 1], f"{tag}: {ln} scale shape")
            _req(_maxdiff(s, c[b + ln + ".hook_scale"]) < 1e-5, f"{tag}: L{l} {ln} scale mismatch")
        if model.use_attn_result:
            r = c[b + "attn.hook_result"]
            _req(list(r.shape) == [1, P, cfg.n_heads, cfg.d_model], f"{tag}: result shape")
            _req(_maxdiff(r.sum(-2) + model.w[b + "attn.b_O"], c[b + "hook_attn_out"]) < 1e-5,
                 f"{tag}: L{l} sum_h result + b_O != attn_out")
        if model.processing.get("fold_value_biases"):
            _req(bool((model.w[b + "attn.b_V"] == 0).all()), f"{tag}: b_V not zero after fold_value_biases")
        rows = pat[0, :, 1:, :].max(-1).values  # row 0 is trivially 1
        stats["max_pattern_row_max"].append(rows.max().item())
        stats["frac_rows_max_gt_0.5"].append((rows > 0.5).double().mean().item())
    recon = c["ln_final.hook_normalized"] @ model.W_U + model.b_U
    _req(_maxdiff(recon, logits) < 1e-5, f"{tag}: ln_final.normalized @ W_U + b_U != logits")
    return stats


def check_processed_weights(model: HookedGPT2, tag: str) -> None:
    w, cfg = model.w, model.cfg
    if model.processing.get("fold_ln"):
        _req(model.normalization_type == "LNPre", f"{tag}: fold_ln must give LNPre")
        for l in range(cfg.n_layers):
            for n in "QKV":
                _req(w[f"blocks.{l}.attn.W_{n}"].mean(1).abs().max().item() < 1e-6, f"{tag}: W_{n} not centred")
            _req(w[f"blocks.{l}.mlp.W_in"].mean(0).abs().max().item() < 1e-6, f"{tag}: W_in not centred")
        _req(w["unembed.W_U"].mean(0).abs().max().item() < 1e-6, f"{tag}: W_U not centred along d_model")
        _req(not any(k.startswith(("blocks.0.ln1", "ln_final.")) for k in w), f"{tag}: LN weights left after fold")
    if model.processing.get("center_writing_weights"):
        for k in ["embed.W_E", "pos_embed.W_pos"] + [f"blocks.{l}.{n}" for l in range(cfg.n_layers)
                                                       for n in ("attn.W_O", "mlp.W_out")]:
            _req(w[k].mean(-1).abs().max().item() < 1e-6, f"{tag}: {k} not centred")
    if model.processing.get("center_unembed"):
        _req(w["unembed.W_U"].mean(-1).abs().max().item() < 1e-6, f"{tag}: W_U not centred over vocab")
        _req(abs(w["unembed.b_U"].mean().item()) < 1e-6, f"{tag}: b_U not centred")


def _invariance(model_dir: str, tokens: List[int], dtype: torch.dtype, rel_tol: float,
                with_hooks: bool) -> Dict[str, float]:
    """Max relative errors (|a-b| / max(1, |b|)) of every processing configuration vs none."""
    cfg, sd, _ = load_hf_dir(model_dir)
    base = HookedGPT2.from_dir(model_dir, "none", dtype=dtype)
    logits0 = base(tokens)
    name = f"{model_dir}[{str(dtype).replace('torch.', '')}]"
    hf = hf_logits(cfg, {k: v.to(dtype) for k, v in sd.items()}, tokens)
    err_hf = _rel(logits0, hf)
    _req(err_hf <= 2 * rel_tol, f"{name}: reference (no processing) vs HF-style forward differ by {err_hf:.3g}")
    lp0 = torch.log_softmax(logits0, -1)
    p0 = lp0.exp()
    loss0, per0 = loss_fn(logits0, tokens), loss_fn(logits0, tokens, per_token=True)
    top = logits0[0, -1].topk(50).indices.tolist()
    g = torch.Generator().manual_seed(0)
    rnd = torch.randint(0, cfg.d_vocab, (50,), generator=g).tolist()
    ids = torch.tensor(sorted(set(top + rnd)))
    pairs = torch.tensor(list(itertools.combinations(range(len(ids)), 2)))
    ia, ib = ids[pairs[:, 0]], ids[pairs[:, 1]]
    d0 = logits0[..., ia] - logits0[..., ib]
    c0 = logits0 - logits0.mean(-1, keepdim=True)
    d_scale = c0.abs().amax(-1, keepdim=True)  # logit errors scale with the position's logit range
    configs = [{f: (f == one) for f in PROCESSING_FLAGS} for one in PROCESSING_FLAGS] + ["default"]
    worst = {"hf_vs_reference": err_hf, "loss": 0.0, "prob": 0.0, "logit_diff": 0.0, "centred_logits": 0.0}
    for proc in configs:
        for attn_result in ((False, True) if with_hooks else (False,)):
            m = HookedGPT2.from_dir(model_dir, proc, use_attn_result=attn_result, dtype=dtype)
            tag = f"{name}[{proc}{', attn_result' if attn_result else ''}]"
            if with_hooks:
                check_processed_weights(m, tag)
                check_hook_identities(m, tokens, tag)
            lg = m(tokens)
            lp = torch.log_softmax(lg, -1)
            e = {"loss": max(_rel(loss_fn(lg, tokens), loss0), _rel(loss_fn(lg, tokens, per_token=True), per0)),
                 "prob": _rel(torch.softmax(lg, -1), p0),
                 "logit_diff": max(_rel(lg[..., ia] - lg[..., ib], d0, d_scale), _rel(lp[..., ia] - lp[..., ib], d0, d_scale)),
                 "centred_logits": _rel(lg - lg.mean(-1, keepdim=True), c0, d_scale)}
            for k, v in e.items():
                worst[k] = max(worst[k], v)
                _req(v <= rel_tol, f"{tag}: {k} differs from the unprocessed model by {v:.3g} (tol {rel_tol:g})")
    return worst


def _rel(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor = None) -> float:
    """max |a - b| / max(1, scale); scale defaults to |b|."""
    a, b = a.double(), b.double()
    scale = b.abs() if scale is None else scale.double()
    return ((a - b).abs() / scale.clamp(min=1.0)).max().item()


def check_model_forward(model_dir: str, tokens: Sequence[int], verbose: bool = False) -> Dict[str, object]:
    """Runs every check for one model and token list. Returns statistics (pattern sharpness, errors).

    Invariance tolerances are relative to max(1, |value|): float32 1e-5 (the reference's own float32
    rounding is ~1e-6 relative; losses here are ~10-20), float64 1e-10 (proves the processing math).
    """
    tokens = list(tokens)
    base = HookedGPT2.from_dir(model_dir, "none")
    stats = check_hook_identities(base, tokens, f"{model_dir}[none]")
    inv32 = _invariance(model_dir, tokens, torch.float32, 1e-5, with_hooks=True)
    inv64 = _invariance(model_dir, tokens, torch.float64, 1e-10, with_hooks=False)
    out = {"f32": inv32, "f64": inv64, **stats}
    if verbose:
        print(f"self-check {model_dir} ({len(tokens)} tokens): OK\n"
              f"  f32 max rel errors: {', '.join(f'{k} {v:.1e}' for k, v in inv32.items())}\n"
              f"  f64 max rel errors: {', '.join(f'{k} {v:.1e}' for k, v in inv64.items())}\n"
              f"  largest pattern entry per layer (rows q>=1) {[round(x, 3) for x in stats['max_pattern_row_max']]}, "
              f"fraction of rows with max > 0.5 {[round(x, 2) for x in stats['frac_rows_max_gt_0.5']]}")
    return out


def check_utilities() -> None:
    """get_act_name examples from spec §1.4 and a safetensors write/read round trip."""
    import os
    import tempfile

    import numpy as np

    from hooked_gpt2 import get_act_name
    from safetensors_io import f32_to_bf16_bits, read_safetensors, write_safetensors

    examples = {("k", 6, "a"): "blocks.6.attn.hook_k", ("pre", 2): "blocks.2.mlp.hook_pre",
                ("embed",): "hook_embed", ("normalized", 27, "ln2"): "blocks.27.ln2.hook_normalized",
                ("k6",): "blocks.6.attn.hook_k", ("scale4ln1",): "blocks.4.ln1.hook_scale",
                ("pre5",): "blocks.5.mlp.hook_pre", ("resid_pre", 0): "blocks.0.hook_resid_pre",
                ("attn", 3): "blocks.3.attn.hook_pattern", ("z", 1, "attn"): "blocks.1.attn.hook_z",
                ("scale",): "ln_final.hook_scale", ("blocks.0.hook_mlp_out",): "blocks.0.hook_mlp_out"}
    for args, want in examples.items():
        got = get_act_name(*args)
        _req(got == want, f"get_act_name{args} = {got!r}, expected {want!r}")
    # bf16 rounding: nearest, ties to even
    x = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 1.0 + 2 ** -9, -2.5, 3.0e38], dtype=np.float32)
    want = np.array([0x3F80, 0x3F80, 0x3F82, 0x3F80, 0xC020, 0x7F62], dtype=np.uint16)
    _req(np.array_equal(f32_to_bf16_bits(x), want), f"bf16 rounding wrong: {f32_to_bf16_bits(x)}")
    rng = np.random.default_rng(0)
    t = {"a": ("F32", rng.standard_normal((3, 5)).astype(np.float32)),
         "b": ("F16", rng.standard_normal((7,)).astype(np.float32)),
         "c": ("BF16", rng.standard_normal((2, 2, 3)).astype(np.float32)),
         "s": ("F32", np.array(-1e4, dtype=np.float32))}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.safetensors")
        write_safetensors(p, t, {"format": "pt"})
        raw = open(p, "rb").read()
        n = int.from_bytes(raw[:8], "little")
        _req(n % 8 == 0, "safetensors header not padded to 8")
        back, meta, dtypes = read_safetensors(p)
    _req(meta == {"format": "pt"} and dtypes == {"a": "F32", "b": "F16", "c": "BF16", "s": "F32"}, "metadata/dtypes")
    _req(np.array_equal(back["a"], t["a"][1]), "F32 round trip")
    _req(np.array_equal(back["b"], t["b"][1].astype(np.float16)), "F16 round trip")
    _req(back["s"].shape == () and back["s"] == np.float32(-1e4), "scalar round trip")
    _req(np.array_equal(back["c"], (f32_to_bf16_bits(t["c"][1]).astype(np.uint32) << 16).view(np.float32)),
         "BF16 round trip")
