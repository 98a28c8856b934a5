"""Gradients at hook points (TransformerLens `run_with_cache(incl_bwd=True)` semantics), metrics and a
finite-difference self-check. Written from /work/shared/reference/attribution.md, not from core/.

run_with_cache_bwd(model, tokens, metric, fwd_hooks, bwd_hooks) runs the forward, then the backward of the
scalar metric(logits). grads[name] = d metric / d (the activation at that hook point as downstream reads
it, i.e. after every forward hook on that point), same shape as the activation, for every hook point that
fires. Mechanism: a last forward hook on every point replaces the activation by an exact copy (clone; a
fresh leaf for hook_embed / hook_pos_embed, which do not depend on anything that requires grad) and
registers tensor hooks on that copy: first the user's backward hooks, in order, then the recorder. So
  * every hook point is its own node: a backward hook on blocks.1.hook_resid_pre acts before the gradient
    reaches blocks.0.hook_resid_post (the same tensor object in the forward);
  * grads[name] is the gradient AFTER the user's backward hooks on that point (as the forward cache
    stores post-hook values), and the modified gradient is what flows upstream.
ln1.hook_scale / ln1.hook_normalized fire once per block (see hooked_gpt2.py), so the gradient of
ln1.hook_normalized is the sum over the q, k and v paths. The gradient of hook_pattern is what autograd
gives: non-zero above the causal diagonal (z = pattern @ v reads every key). The gradient of
hook_attn_scores is 0 at the masked (-inf) entries (softmax backward, p = 0 there).

Metrics (make_metric): scalar functions of logits [1, P, V]; a negative position counts from the end.
  loss        TL lm_cross_entropy_loss: mean over p = 0..P-2 of -log_softmax(logits[0, p])[tokens[p+1]]
  token_loss  -log_softmax(logits[0, pos])[tokens[pos+1]]            (pos < P-1 after normalising)
  logit_diff  mean over pairs (a, w) of logits[0, pos, a] - logits[0, pos, w]
  prob        softmax(logits[0, pos])[pairs[0][0]]
  logprob     log_softmax(logits[0, pos])[pairs[0][0]]
  linear      weights [V]: sum_v weights[v] * logits[0, pos, v];
              weights [P, V]: sum_{p, v} weights[p, v] * logits[0, p, v] (position ignored)

Machine-readable hook descriptions (fixtures): {"name", "action": "zero"|"scale", "heads": [...]?,
"positions": [...]?, "factor": f (scale; backward only)}. The selection is the product of the listed
indices (an absent list = all): for [B, P, H, X] tensors (q, k, v, z, result) positions index axis 1 and
heads axis 2; for [B, H, Q, K] tensors (attn_scores, pattern) heads index axis 1 and positions the query
(destination) axis 2; for [B, P, X] tensors (resid, ln scale/normalized, mlp, embeds) positions index axis 1
and heads must be absent.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from hooked_gpt2 import HookedGPT2

METRIC_KINDS = ("loss", "token_loss", "logit_diff", "prob", "logprob", "linear")

METRIC_DEFINITIONS = {
    "loss": "TL lm_cross_entropy_loss: mean over p = 0..P-2 of -log_softmax(logits[0, p])[tokens[p+1]] "
            "(position is null / ignored)",
    "token_loss": "-log_softmax(logits[0, pos])[tokens[pos+1]]; pos = position if >= 0 else P + position; "
                  "pos < P-1",
    "logit_diff": "mean over pairs [a, w] of logits[0, pos, a] - logits[0, pos, w]",
    "prob": "softmax(logits[0, pos])[pairs[0][0]]",
    "logprob": "log_softmax(logits[0, pos])[pairs[0][0]]",
    "linear": "weights [V]: sum_v weights[v] * logits[0, pos, v]; weights [P, V]: sum over p, v of "
              "weights[p, v] * logits[0, p, v] (position null / ignored). Weights are the float32 .npy "
              "values, used exactly (upcast to float64)",
    "position": "negative counts from the end (pos = P + position)",
}


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

def make_metric(kind: str, tokens: Sequence[int], position: Optional[int] = None,
                pairs: Optional[Sequence[Sequence[int]]] = None, weights=None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Returns metric(logits [1, P, V]) -> 0-d tensor (the logits' dtype)."""
    toks = torch.as_tensor(list(tokens), dtype=torch.long)
    P = len(toks)

    def norm_pos() -> int:
        if position is None:
            raise ValueError(f"metric {kind} needs a position")
        p = position if position >= 0 else P + position
        if not 0 <= p < P:
            raise ValueError(f"position {position} out of range for P={P}")
        return p

    if kind == "loss":
        def metric(logits):
            lp = torch.log_softmax(logits[0, :-1], dim=-1)
            return -lp.gather(-1, toks[1:, None])[:, 0].mean()
    elif kind == "token_loss":
        pos = norm_pos()
        if pos >= P - 1:
            raise ValueError("token_loss needs pos < P-1")

        def metric(logits):
            return -torch.log_softmax(logits[0, pos], dim=-1)[toks[pos + 1]]
    elif kind == "logit_diff":
        pos = norm_pos()
        a = torch.tensor([int(p[0]) for p in pairs], dtype=torch.long)
        w = torch.tensor([int(p[1]) for p in pairs], dtype=torch.long)

        def metric(logits):
            x = logits[0, pos]
            return (x[a] - x[w]).mean()
    elif kind in ("prob", "logprob"):
        pos = norm_pos()
        ans = int(pairs[0][0])
        if kind == "prob":
            def metric(logits):
                return torch.softmax(logits[0, pos], dim=-1)[ans]
        else:
            def metric(logits):
                return torch.log_softmax(logits[0, pos], dim=-1)[ans]
    elif kind == "linear":
        W = torch.as_tensor(np.asarray(weights, dtype=np.float64))
        if W.ndim == 1:
            pos = norm_pos()

            def metric(logits):
                return (logits[0, pos] * W.to(logits.dtype)).sum()
        elif W.ndim == 2:
            if W.shape[0] != P:
                raise ValueError(f"linear weights [P, V] have P={W.shape[0]}, tokens have {P}")

            def metric(logits):
                return (logits[0] * W.to(logits.dtype)).sum()
        else:
            raise ValueError("linear weights must be [V] or [P, V]")
    else:
        raise ValueError(f"unknown metric kind {kind!r}")
    return metric


def metric_from_spec(spec: dict, tokens: Sequence[int], weights=None) -> Callable:
    return make_metric(spec["kind"], tokens, spec.get("position"), spec.get("pairs"), weights)


# --------------------------------------------------------------------------------------------
# Hook descriptions -> hook functions
# --------------------------------------------------------------------------------------------

def _layout(name: str) -> str:
    leaf = name.rsplit(".", 1)[-1]
    if leaf in ("hook_attn_scores", "hook_pattern"):
        return "bhqk"
    if leaf in ("hook_q", "hook_k", "hook_v", "hook_z", "hook_result"):
        return "bphx"
    return "bpx"


def selection_mask(shape: Sequence[int], name: str, heads=None, positions=None) -> torch.Tensor:
    """Boolean mask of `shape` selecting the product of heads x positions (see module doc)."""
    lay = _layout(name)
    if lay == "bpx" and heads is not None:
        raise ValueError(f"{name}: heads given for a tensor without a head axis")
    p_ax, h_ax = {"bhqk": (2, 1), "bphx": (1, 2), "bpx": (1, None)}[lay]
    m = torch.ones(shape, dtype=torch.bool)
    if positions is not None:
        sel = torch.zeros(shape[p_ax], dtype=torch.bool)
        sel[torch.as_tensor(list(positions), dtype=torch.long)] = True
        view = [1] * len(shape)
        view[p_ax] = shape[p_ax]
        m = m & sel.view(view)
    if heads is not None:
        sel = torch.zeros(shape[h_ax], dtype=torch.bool)
        sel[torch.as_tensor(list(heads), dtype=torch.long)] = True
        view = [1] * len(shape)
        view[h_ax] = shape[h_ax]
        m = m & sel.view(view)
    return m


def hook_from_spec(spec: dict, direction: str) -> Tuple[str, Callable]:
    """{"name", "action", "heads"?, "positions"?, "factor"?} -> (name, fn(tensor, name) -> tensor).
    Forward: "zero" only. Backward: "zero" and "scale". Never in place."""
    action = spec["action"]
    heads, positions = spec.get("heads"), spec.get("positions")
    if direction == "fwd" and action != "zero":
        raise ValueError("forward hooks: only 'zero'")
    if action not in ("zero", "scale"):
        raise ValueError(f"unknown action {action!r}")
    factor = float(spec.get("factor", 1.0))

    def fn(t: torch.Tensor, name: str) -> torch.Tensor:
        m = selection_mask(t.shape, name, heads, positions)
        if action == "zero":
            return torch.where(m, torch.zeros_like(t), t)
        return torch.where(m, t * factor, t)

    return spec["name"], fn


# --------------------------------------------------------------------------------------------
# Forward + backward
# --------------------------------------------------------------------------------------------

def _matches(sel, name: str) -> bool:
    return (sel == name) if isinstance(sel, str) else bool(sel(name))


def run_with_cache_bwd(model: HookedGPT2, tokens, metric: Callable[[torch.Tensor], torch.Tensor],
                       fwd_hooks: Sequence = (), bwd_hooks: Sequence = (), return_cache: bool = False):
    """-> (logits, metric_value: float, grads: {hook name: tensor}) [+ cache {hook name: activation}
    when return_cache]. See the module doc for the semantics."""
    model._check_hooks(bwd_hooks)
    grads: Dict[str, torch.Tensor] = {}
    cache: Dict[str, torch.Tensor] = {}
    fired: List[str] = []
    bwd = list(bwd_hooks)

    def capture(t: torch.Tensor, name: str) -> torch.Tensor:
        out = t.clone() if t.requires_grad else t.detach().clone().requires_grad_()
        fired.append(name)
        cache[name] = out.detach().clone()
        for sel, fn in bwd:
            if _matches(sel, name):
                out.register_hook(lambda g, fn=fn, name=name: fn(g, name))

        def record(g, name=name):
            if name in grads:
                raise AssertionError(f"gradient hook of {name} fired twice")
            grads[name] = g.detach().clone()

        out.register_hook(record)
        return out

    with torch.enable_grad():
        logits = model.forward(tokens, list(fwd_hooks) + [(lambda n: True, capture)])
        value = metric(logits)
        if value.numel() != 1:
            raise ValueError("metric must be a scalar")
        value.backward()
    for name in fired:  # a point the metric does not depend on gets zeros (none with these metrics)
        if name not in grads:
            grads[name] = torch.zeros_like(cache[name])
    grads = {n: grads[n] for n in fired}
    for n, g in grads.items():
        if not torch.isfinite(g).all():
            raise AssertionError(f"non-finite gradient at {n}")
    out = (logits.detach(), float(value.item()), grads)
    return out + (cache,) if return_cache else out


# --------------------------------------------------------------------------------------------
# Finite-difference self-check
# --------------------------------------------------------------------------------------------

def _fd(model, tokens, metric, name: str, idx: tuple, eps: float, fwd_hooks=()) -> float:
    """Five-point central difference (Richardson extrapolation of two central differences, h and h/2):
    truncation error O(h^4), round-off about 1e-16 * |metric| / h."""
    def at(delta):
        def fn(t, n):
            d = torch.zeros_like(t)
            d[idx] = delta
            return t + d
        return float(metric(model.run_with_hooks(tokens, list(fwd_hooks) + [(name, fn)])).item())
    d1 = (at(eps) - at(-eps)) / (2.0 * eps)
    d2 = (at(eps / 2) - at(-eps / 2)) / eps
    return (4.0 * d2 - d1) / 3.0


def check_gradients_fd(model_dir: str, tokens: Sequence[int], processing="default", use_attn_result=True,
                       seed: int = 0, eps: float = 1e-4, rel_tol: float = 1e-6, verbose: bool = True) -> dict:
    """Finite differences (float64, five-point stencil, h = eps) against the autograd gradients, for several hook points x
    random elements (plus each tensor's largest-gradient element), every metric kind, and backward-hook
    identities. Error = |fd - grad| / max(|grad|, 1e-3 * max|grad of that tensor|, 1e-8). Raises
    AssertionError on failure. Returns the max errors."""
    model = HookedGPT2.from_dir(model_dir, processing, use_attn_result=use_attn_result, dtype=torch.float64)
    cfg = model.cfg
    L, P = cfg.n_layers, len(tokens)
    tokens = list(tokens)
    g = torch.Generator().manual_seed(seed)
    pairs = [[int(tokens[1]), int(tokens[2])], [int(tokens[3]), 50000]]
    W_V = torch.randn(cfg.d_vocab, generator=g, dtype=torch.float64).float().double()
    W_PV = torch.randn(P, cfg.d_vocab, generator=g, dtype=torch.float64).float().double()
    metrics = {"loss": make_metric("loss", tokens),
               "token_loss": make_metric("token_loss", tokens, -3),
               "logit_diff": make_metric("logit_diff", tokens, -1, pairs),
               "prob": make_metric("prob", tokens, 2, pairs),
               "logprob": make_metric("logprob", tokens, -2, pairs),
               "linear_V": make_metric("linear", tokens, 3, weights=W_V),
               "linear_PV": make_metric("linear", tokens, None, weights=W_PV)}
    last = L - 1
    points = ["hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale",
              "blocks.0.ln1.hook_normalized", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k",
              "blocks.0.attn.hook_v", "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern",
              "blocks.0.attn.hook_z", "blocks.0.hook_attn_out", "blocks.0.ln2.hook_scale",
              "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_post", f"blocks.{last}.hook_resid_pre",
              f"blocks.{last}.attn.hook_q", f"blocks.{last}.attn.hook_k", f"blocks.{last}.attn.hook_pattern",
              f"blocks.{last}.hook_resid_mid", f"blocks.{last}.ln2.hook_normalized",
              f"blocks.{last}.hook_resid_post", "ln_final.hook_scale", "ln_final.hook_normalized"]
    if use_attn_result:
        points.append(f"blocks.{last}.attn.hook_result")
    worst = {}

    def check(tag, fd, gv, gmax):
        err = abs(fd - gv) / max(abs(gv), 1e-3 * gmax, 1e-8)
        worst[tag] = max(worst.get(tag, 0.0), err)
        if not err <= rel_tol:
            raise AssertionError(f"{model_dir}: FD check {tag}: finite difference {fd!r} vs autograd {gv!r} "
                                 f"(rel err {err:.3g} > {rel_tol:g})")

    # 1. many hook points, one metric (logprob at -2: not the last position, so causality is exercised)
    for mname in ("logprob", "loss"):
        metric = metrics[mname]
        _, _, grads = run_with_cache_bwd(model, tokens, metric)
        if list(grads) != model.hook_names():
            raise AssertionError("gradient keys differ from hook_names()")
        for name in points:
            G = grads[name]
            gmax = G.abs().max().item()
            cand = [tuple(int(i) for i in np.unravel_index(int(G.abs().argmax()), G.shape))]
            for _ in range(3):
                cand.append(tuple(int(torch.randint(0, s, (1,), generator=g)) for s in G.shape))
            if name.endswith("hook_attn_scores"):  # finite entries only (q >= k)
                cand = [c for c in cand if c[3] <= c[2]] + [(0, 0, P - 1, 1)]
            if name.endswith("hook_pattern"):  # an entry above the diagonal: its gradient is non-zero
                cand.append((0, 0, 1, P - 1))
            for idx in cand:
                fd = _fd(model, tokens, metric, name, idx, eps)
                check(f"{mname}:{name.split('.', 1)[-1] if name.startswith('blocks') else name}",
                      fd, G[idx].item(), gmax)
        # pattern gradients above the diagonal are non-zero; attn_scores ones are exactly zero
        for l in range(L):
            triu = torch.ones(P, P, dtype=torch.bool).triu(1)
            if not (grads[f"blocks.{l}.attn.hook_pattern"][..., triu].abs() > 0).any():
                raise AssertionError("pattern gradient is zero above the diagonal")
            if not (grads[f"blocks.{l}.attn.hook_attn_scores"][..., triu] == 0).all():
                raise AssertionError("attn_scores gradient is not zero at masked entries")
    # 2. every metric kind at a few points
    for mname, metric in metrics.items():
        _, _, grads = run_with_cache_bwd(model, tokens, metric)
        for name in ("hook_embed", "blocks.0.attn.hook_k", f"blocks.{last}.mlp.hook_pre", "ln_final.hook_scale"):
            G = grads[name]
            gmax = G.abs().max().item()
            idx = tuple(int(i) for i in np.unravel_index(int(G.abs().argmax()), G.shape))
            for j in (idx, tuple(int(torch.randint(0, s, (1,), generator=g)) for s in G.shape)):
                check(f"metric:{mname}", _fd(model, tokens, metric, name, j, eps), G[j].item(), gmax)
    # 3. forward zero hook: FD through the hooked forward
    zero_z = [hook_from_spec({"name": "blocks.0.attn.hook_z", "action": "zero", "heads": [1]}, "fwd")]
    metric = metrics["logit_diff"]
    _, _, grads = run_with_cache_bwd(model, tokens, metric, fwd_hooks=zero_z)
    if not (grads["blocks.0.attn.hook_v"][:, :, 1] == 0).all() or not (grads["blocks.0.attn.hook_pattern"][:, 1] == 0).all():
        raise AssertionError("forward zero hook on z head 1: upstream gradients of head 1 are not zero")
    for name in ("blocks.0.attn.hook_z", "blocks.0.attn.hook_q", "hook_embed"):
        G = grads[name]
        idx = tuple(int(i) for i in np.unravel_index(int(G.abs().argmax()), G.shape))
        check("fwd_zero_hook", _fd(model, tokens, metric, name, idx, eps, zero_z), G[idx].item(), G.abs().max().item())
    # 4. backward hooks
    metric = metrics["logprob"]
    _, _, base = run_with_cache_bwd(model, tokens, metric)
    names = model.hook_names()
    cut = "blocks.1.hook_resid_pre"
    i_cut = names.index(cut)
    _, _, gz = run_with_cache_bwd(model, tokens, metric,
                                  bwd_hooks=[hook_from_spec({"name": cut, "action": "zero"}, "bwd")])
    for i, n in enumerate(names):
        if i <= i_cut and not (gz[n] == 0).all():
            raise AssertionError(f"backward zero at {cut}: {n} gradient not zero")
        if i > i_cut and not torch.equal(gz[n], base[n]):
            raise AssertionError(f"backward zero at {cut}: downstream {n} gradient changed")
    mid = f"blocks.{last}.hook_resid_mid"
    i_mid = names.index(mid)
    _, _, gs = run_with_cache_bwd(model, tokens, metric,
                                  bwd_hooks=[hook_from_spec({"name": mid, "action": "scale", "factor": 0.5}, "bwd")])
    for i, n in enumerate(names):
        # every path from a point fired before resid_mid[last] to the logits passes through it
        want = 0.5 * base[n] if i <= i_mid else base[n]
        if not torch.equal(gs[n], want):
            raise AssertionError(f"backward scale 0.5 at {mid}: {n} gradient is not exactly {'0.5x' if i <= i_mid else '1x'}")
    pat = "blocks.0.attn.hook_pattern"
    _, _, gp = run_with_cache_bwd(model, tokens, metric,
                                  bwd_hooks=[hook_from_spec({"name": pat, "action": "zero", "heads": [0]}, "bwd")])
    if not (gp[pat][:, 0] == 0).all() or not (gp["blocks.0.attn.hook_attn_scores"][:, 0] == 0).all():
        raise AssertionError("backward zero on pattern head 0: pattern/scores gradient of head 0 not zero")
    if not torch.equal(gp[pat][:, 1:], base[pat][:, 1:]):
        raise AssertionError("backward zero on pattern head 0 changed other heads' pattern gradients")
    # the modified gradient must flow upstream: q grads of head 0 vanish, embed grads change
    if not (gp["blocks.0.attn.hook_q"][:, :, 0] == 0).all() or torch.equal(gp["hook_embed"], base["hook_embed"]):
        raise AssertionError("backward zero on pattern head 0 did not propagate upstream")
    # ln1.hook_normalized gradient = sum over the q, k and v paths
    b0 = "blocks.0."
    w = model.w
    s = sum(torch.einsum("bphd,hmd->bpm", base[b0 + f"attn.hook_{n.lower()}"], w[b0 + f"attn.W_{n}"]) for n in "QKV")
    err = (s - base[b0 + "ln1.hook_normalized"]).abs().max().item() / max(1e-30, s.abs().max().item())
    worst["ln1_normalized_sum_qkv"] = err
    if err > 1e-12:
        raise AssertionError(f"ln1.hook_normalized gradient != sum of the q, k, v paths ({err:.3g})")
    if verbose:
        print(f"gradient FD check {model_dir} [{processing}{', attn_result' if use_attn_result else ''}] "
              f"({P} tokens): OK, max rel err {max(worst.values()):.1e} "
              f"({len(worst)} groups); backward hooks exact", flush=True)
    return worst
