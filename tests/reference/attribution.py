"""Attribution patching (AtP, Nanda 2023) and AtP* (Kramar et al. 2024, arXiv 2403.00745, the "QK fix"; no
GradDrop), written from /work/shared/reference/attribution.md, float64.

For a prompt pair and a scalar metric M, with the receiving run r (denoising: corrupted; noising: clean)
and the source run s:

  AtP(cell)  = sum over the cell's slice of (a_s - a_r) * dM/da |_r          (grads: gradients.py, on r)
  AtP*(cell) = for cells on hook_q / hook_k (by_pos and all_pos, also inside the *_every sweeps):
               the cell's head pattern is recomputed exactly, brute force, in float64, with the source's
               q (or k) slice substituted for the receiving one on that cell (receiving k (or q) for the
               other side; scores = q k^T / sqrt(d_head), causal mask, softmax) and
               sum over all query rows and keys of that head of
                   (pattern_patched - pattern_r) * dM/dpattern |_r
               where pattern_r is recomputed by the same function from the receiving q and k (so an
               unchanged slice gives exactly 0). Every other cell (z, v, resid, attn_out, mlp_out,
               pattern) is plain AtP.
The raw estimate is stored (not added to a baseline, not normalised).

Sweeps, cell slices, shapes and axis orders are those of patching.py's get_act_patch_* functions:
  resid_pre / resid_mid / attn_out / mlp_out  [L, P]      slice act[0, p, :]
  attn_head_{out,q,k,v}_by_pos                [L, P, H]   act[0, p, h, :]   (out = hook_z)
  attn_head_pattern_by_pos                    [L, H, P]   pattern[0, h, dest, :]
  attn_head_pattern_dest_src_pos              [L, H, P, P] pattern[0, h, dest, src]
  attn_head_{out,q,k,v}_all_pos               [L, H]      act[0, :, h, :]
  attn_head_pattern_all_pos                   [L, H]      pattern[0, h, :, :]
  block_every                                 [3, L, P]   resid_pre, attn_out, mlp_out
  attn_head_all_pos_every                     [5, L, H]   out, q, k, v, pattern
  attn_head_by_pos_every                      [5, L, P, H] out, q, k, v by pos; pattern by dest_pos
                                                           rearranged [L, H, P] -> [L, P, H]
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Sequence

import torch

from gradients import run_with_cache_bwd
from hooked_gpt2 import HookedGPT2

SWEEP_NAMES = ("get_act_patch_resid_pre", "get_act_patch_resid_mid", "get_act_patch_attn_out",
               "get_act_patch_mlp_out", "get_act_patch_attn_head_out_by_pos", "get_act_patch_attn_head_q_by_pos",
               "get_act_patch_attn_head_k_by_pos", "get_act_patch_attn_head_v_by_pos",
               "get_act_patch_attn_head_pattern_by_pos", "get_act_patch_attn_head_pattern_dest_src_pos",
               "get_act_patch_attn_head_out_all_pos", "get_act_patch_attn_head_q_all_pos",
               "get_act_patch_attn_head_k_all_pos", "get_act_patch_attn_head_v_all_pos",
               "get_act_patch_attn_head_pattern_all_pos", "get_act_patch_block_every",
               "get_act_patch_attn_head_all_pos_every", "get_act_patch_attn_head_by_pos_every")

# sweeps with q or k cells: the only ones where AtP* differs from AtP
QK_SWEEPS = ("get_act_patch_attn_head_q_by_pos", "get_act_patch_attn_head_k_by_pos",
             "get_act_patch_attn_head_q_all_pos", "get_act_patch_attn_head_k_all_pos",
             "get_act_patch_attn_head_all_pos_every", "get_act_patch_attn_head_by_pos_every")


def head_pattern(q: torch.Tensor, k: torch.Tensor, d_head: int) -> torch.Tensor:
    """q, k [P, Dh] of one head -> pattern [P, P] (causal mask, softmax), float64 brute force."""
    P = q.shape[0]
    s = (q @ k.T) / math.sqrt(d_head)
    s = s.masked_fill(~torch.ones(P, P, dtype=torch.bool).tril(), -math.inf)
    return torch.softmax(s, dim=-1)


def _stack(fn, L):
    return torch.stack([fn(l) for l in range(L)], dim=0)


def atp_sweeps(model: HookedGPT2, cache_r: Dict[str, torch.Tensor], cache_s: Dict[str, torch.Tensor],
               grads: Dict[str, torch.Tensor], star: bool) -> Dict[str, torch.Tensor]:
    """Every sweep's estimate tensor (float64). star=True applies the QK fix to the q / k cells."""
    cfg = model.cfg
    L, H, Dh = cfg.n_layers, cfg.n_heads, cfg.d_head

    def prod(l, act):
        n = f"blocks.{l}.hook_{act}" if act in ("resid_pre", "resid_mid", "attn_out", "mlp_out") \
            else f"blocks.{l}.attn.hook_{act}"
        return ((cache_s[n] - cache_r[n]) * grads[n])[0]

    out = {}
    for act in ("resid_pre", "resid_mid", "attn_out", "mlp_out"):
        out[f"get_act_patch_{act}"] = _stack(lambda l: prod(l, act).sum(-1), L)  # [L, P]
    for act, nm in (("z", "out"), ("q", "q"), ("k", "k"), ("v", "v")):
        out[f"get_act_patch_attn_head_{nm}_by_pos"] = _stack(lambda l: prod(l, act).sum(-1), L)  # [L, P, H]
        out[f"get_act_patch_attn_head_{nm}_all_pos"] = _stack(lambda l: prod(l, act).sum((0, 2)), L)  # [L, H]
    out["get_act_patch_attn_head_pattern_by_pos"] = _stack(lambda l: prod(l, "pattern").sum(-1), L)  # [L, H, P]
    out["get_act_patch_attn_head_pattern_dest_src_pos"] = _stack(lambda l: prod(l, "pattern"), L)  # [L, H, P, P]
    out["get_act_patch_attn_head_pattern_all_pos"] = _stack(lambda l: prod(l, "pattern").sum((1, 2)), L)  # [L, H]
    if star:
        for nm in ("q", "k"):
            bp, ap = atp_star_qk(model, cache_r, cache_s, grads, nm)
            out[f"get_act_patch_attn_head_{nm}_by_pos"] = bp
            out[f"get_act_patch_attn_head_{nm}_all_pos"] = ap
    out["get_act_patch_block_every"] = torch.stack(
        [out["get_act_patch_resid_pre"], out["get_act_patch_attn_out"], out["get_act_patch_mlp_out"]])
    out["get_act_patch_attn_head_all_pos_every"] = torch.stack(
        [out[f"get_act_patch_attn_head_{n}_all_pos"] for n in ("out", "q", "k", "v", "pattern")])
    out["get_act_patch_attn_head_by_pos_every"] = torch.stack(
        [out[f"get_act_patch_attn_head_{n}_by_pos"] for n in ("out", "q", "k", "v")]
        + [out["get_act_patch_attn_head_pattern_by_pos"].transpose(1, 2)])
    return {n: out[n] for n in SWEEP_NAMES}


def atp_star_qk(model: HookedGPT2, cache_r, cache_s, grads, which: str, source_q_or_k=None):
    """AtP* for the q (which="q") or k cells: (by_pos [L, P, H], all_pos [L, H]).
    source_q_or_k: optional {layer: [1, P, H, Dh]} replacing the source activations (used by the
    first-order self-check)."""
    cfg = model.cfg
    L, H, Dh = cfg.n_layers, cfg.n_heads, cfg.d_head
    by_pos, all_pos = [], []
    for l in range(L):
        a = f"blocks.{l}.attn."
        q_r, k_r = cache_r[a + "hook_q"][0], cache_r[a + "hook_k"][0]
        src = (source_q_or_k[l] if source_q_or_k is not None else cache_s[a + f"hook_{which}"])[0]
        gpat = grads[a + "hook_pattern"][0]  # [H, P, P]
        P = q_r.shape[0]
        bp = torch.zeros(P, H, dtype=q_r.dtype)
        ap = torch.zeros(H, dtype=q_r.dtype)
        for h in range(H):
            qh, kh = q_r[:, h], k_r[:, h]
            base = head_pattern(qh, kh, Dh)
            for p in range(P):
                if which == "q":
                    x = qh.clone()
                    x[p] = src[p, h]
                    pat = head_pattern(x, kh, Dh)
                else:
                    x = kh.clone()
                    x[p] = src[p, h]
                    pat = head_pattern(qh, x, Dh)
                bp[p, h] = ((pat - base) * gpat[h]).sum()
            pat = head_pattern(src[:, h], kh, Dh) if which == "q" else head_pattern(qh, src[:, h], Dh)
            ap[h] = ((pat - base) * gpat[h]).sum()
        by_pos.append(bp)
        all_pos.append(ap)
    return torch.stack(by_pos), torch.stack(all_pos)


def attribute(model: HookedGPT2, recv_tokens, src_tokens, metric: Callable) -> dict:
    """-> {"metric_receiving", "metric_source", "atp": {sweep: tensor}, "atp_star": {sweep: tensor},
    "cache_r", "cache_s", "grads"}."""
    _, m_r, grads, cache_r = run_with_cache_bwd(model, recv_tokens, metric, return_cache=True)
    logits_s, cache_s = model.run_with_cache(list(src_tokens))
    cache_s = dict(cache_s.items())
    return {"metric_receiving": m_r, "metric_source": float(metric(logits_s).item()),
            "atp": atp_sweeps(model, cache_r, cache_s, grads, star=False),
            "atp_star": atp_sweeps(model, cache_r, cache_s, grads, star=True),
            "cache_r": cache_r, "cache_s": cache_s, "grads": grads}


# --------------------------------------------------------------------------------------------
# Sanity checks (fail loudly)
# --------------------------------------------------------------------------------------------

def check_linear_site_exact(model: HookedGPT2, recv_tokens, src_tokens, metric: Callable, tag: str) -> float:
    """(a) For a metric linear in the logits, the site ln_final.hook_normalized feeds the logits linearly
    (logits = normalized @ W_U + b_U), so AtP there equals the exact patched difference. Per position and
    for all positions at once. Returns the max error |atp - exact| / max(1, |exact|); must be <= 1e-10."""
    name = "ln_final.hook_normalized"
    _, m_r, grads, cache_r = run_with_cache_bwd(model, recv_tokens, metric, return_cache=True)
    _, cache_s = model.run_with_cache(list(src_tokens))
    delta = (cache_s[name] - cache_r[name]) * grads[name]
    P = len(recv_tokens)
    worst = 0.0
    for sel in [[p] for p in range(P)] + [list(range(P))]:
        def hook(t, n, sel=sel):
            t = t.clone()
            t[:, sel] = cache_s[name][:, sel]
            return t
        exact = float(metric(model.run_with_hooks(list(recv_tokens), [(name, hook)])).item()) - m_r
        est = float(delta[:, sel].sum().item())
        err = abs(est - exact) / max(1.0, abs(exact))
        worst = max(worst, err)
        if not err <= 1e-10:
            raise AssertionError(f"{tag}: AtP at {name} positions {sel} = {est!r}, exact patch gives {exact!r}")
    return worst


def check_star_first_order(model: HookedGPT2, res: dict, t: float = 1e-4, tag: str = "") -> dict:
    """(b) With the source q (k) moved to recv + t (src - recv), AtP*/t approaches AtP (of the full
    difference; AtP is linear in the difference) as t -> 0, for every q / k by_pos and all_pos cell:
      one-sided  |AtP*(t)/t - AtP| / max(|AtP|, 0.1 max|AtP of that sweep|)                  <= 1e-3
      central    |(AtP*(t) - AtP*(-t))/(2t) - AtP| / max(|AtP|, 1e-2 max|AtP of that sweep|)  <= 1e-6
    (the one-sided error is O(t) times the curvature; the floor keeps cells whose first-order term
    nearly cancels from dominating). Returns the max errors."""
    cache_r, cache_s, grads = res["cache_r"], res["cache_s"], res["grads"]
    worst = {"one_sided": 0.0, "central": 0.0}
    for which in ("q", "k"):
        n = lambda l: f"blocks.{l}.attn.hook_{which}"  # noqa: E731
        star = {}
        for sgn in (1.0, -1.0):
            interp = {l: cache_r[n(l)] + (sgn * t) * (cache_s[n(l)] - cache_r[n(l)])
                      for l in range(model.cfg.n_layers)}
            star[sgn] = atp_star_qk(model, cache_r, cache_s, grads, which, source_q_or_k=interp)
        for i, kind in enumerate(("by_pos", "all_pos")):
            lin = res["atp"][f"get_act_patch_attn_head_{which}_{kind}"]
            top = lin.abs().max().item()
            for mode, est, floor, tol in (("one_sided", star[1.0][i] / t, 0.1 * top, 1e-3),
                                          ("central", (star[1.0][i] - star[-1.0][i]) / (2 * t), 1e-2 * top, 1e-6)):
                err = ((est - lin).abs() / lin.abs().clamp(min=max(floor, 1e-300))).max().item()
                worst[mode] = max(worst[mode], err)
                if not err <= tol:
                    raise AssertionError(f"{tag}: AtP* of {which} {kind} cells does not reduce to AtP to first "
                                         f"order ({mode}, t={t:g}: rel err {err:.3g} > {tol:g})")
    return worst


def check_unchanged_slices_zero(res: dict, recv_tokens, src_tokens, tag: str) -> int:
    """(c) At positions before the first differing token the source and receiving q / k are identical,
    so the q / k by_pos cells there are exactly 0 in AtP and AtP* (also inside by_pos_every). Returns the
    number of cells checked."""
    first = next(i for i, (a, b) in enumerate(zip(recv_tokens, src_tokens)) if a != b)
    n = 0
    for kind in ("atp", "atp_star"):
        r = res[kind]
        for which, i in (("q", 1), ("k", 2)):
            for t in (r[f"get_act_patch_attn_head_{which}_by_pos"][:, :first],
                      r["get_act_patch_attn_head_by_pos_every"][i, :, :first]):
                if not (t == 0).all():
                    raise AssertionError(f"{tag}: {kind} {which} cells at positions < {first} are not exactly 0")
                n += t.numel()
    for l in range(len(res["atp"]["get_act_patch_resid_pre"])):
        for which in ("q", "k"):
            a = res["cache_r"][f"blocks.{l}.attn.hook_{which}"][0, :first]
            b = res["cache_s"][f"blocks.{l}.attn.hook_{which}"][0, :first]
            if not torch.equal(a, b):
                raise AssertionError(f"{tag}: {which} at layer {l} differs before the first differing token")
    return n


def check_every_and_equal(res: dict, tag: str) -> None:
    """AtP* equals AtP on every sweep without q / k cells, and on the non-q/k parts of the *_every sweeps."""
    for name in SWEEP_NAMES:
        a, s = res["atp"][name], res["atp_star"][name]
        if name in ("get_act_patch_attn_head_all_pos_every", "get_act_patch_attn_head_by_pos_every"):
            a, s = a[[0, 3, 4]], s[[0, 3, 4]]
        elif name in QK_SWEEPS:
            continue
        if not torch.equal(a, s):
            raise AssertionError(f"{tag}: AtP* differs from AtP on {name}")
