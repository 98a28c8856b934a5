"""Analysis views of the lab, computed with the reference ActivationCache (spec §3, §5.2), at one
position (pos_slice=-1, i.e. the last position), with a logit-difference direction
dir = mean over pairs (a, w) of W_U[:, a] - W_U[:, w]  (the model's processed W_U).

logit_lens:      accumulated_resid(layer=None, incl_mid=True, apply_ln=True, pos_slice=-1)
                 (v2.18: ln_final re-applied to every component with its own statistics)
                 -> per component: logit_diff = comp . dir (no b_U, as the TL demos),
                    logit_diff_with_bias = logit_diff + mean(b_U[a] - b_U[w]),
                    top5 ids/logits of comp @ W_U + b_U, top5 ids of comp @ W_U.
dla:             decompose_resid(layer=None, pos_slice=-1, apply_ln=True)
                 (centred, divided by the cached ln_final.hook_scale) -> comp . dir per component;
                 sum(components) + bias_term == the model's logit diff.
head_dla:        stack_head_results(layer=-1, pos_slice=-1, apply_ln=True) -> [L, H] of comp . dir.
resid_norms:     ||resid_post[l]|| over the whole [1, P, D] tensor (Frobenius), and per position [L, P].
head_detectors:  on tokens [BOS] + seq + seq (see head_detector_scores).
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch

from hooked_gpt2 import BOS, ActivationCache, HookedGPT2


def _dir(model: HookedGPT2, pairs: Sequence[Tuple[int, int]]) -> torch.Tensor:
    a = torch.tensor([p[0] for p in pairs])
    w = torch.tensor([p[1] for p in pairs])
    return (model.W_U[:, a] - model.W_U[:, w]).mean(-1)  # [D]


def _bias_term(model: HookedGPT2, pairs) -> float:
    a = torch.tensor([p[0] for p in pairs])
    w = torch.tensor([p[1] for p in pairs])
    return (model.b_U[a] - model.b_U[w]).mean().item()


def logit_lens(model: HookedGPT2, cache: ActivationCache, pairs) -> dict:
    accum, labels = cache.accumulated_resid(layer=None, incl_mid=True, apply_ln=True, pos_slice=-1,
                                            return_labels=True)  # [n, 1, D]
    accum = accum[:, 0]
    d = _dir(model, pairs)
    ld = accum @ d
    full = accum @ model.W_U + model.b_U
    nob = accum @ model.W_U
    t5 = full.topk(5, dim=-1)
    return {"labels": labels,
            "logit_diff": ld.tolist(),
            "logit_diff_with_bias": (ld + _bias_term(model, pairs)).tolist(),
            "top5_ids": t5.indices.tolist(), "top5_logits": t5.values.tolist(),
            "top5_ids_no_bias": nob.topk(5, dim=-1).indices.tolist()}


def dla(model: HookedGPT2, cache: ActivationCache, pairs, final_logits: torch.Tensor) -> dict:
    comps, labels = cache.decompose_resid(layer=None, pos_slice=-1, apply_ln=True, return_labels=True)
    d = _dir(model, pairs)
    per = comps[:, 0] @ d
    a = torch.tensor([p[0] for p in pairs])
    w = torch.tensor([p[1] for p in pairs])
    total = (final_logits[0, -1, a] - final_logits[0, -1, w]).mean().item()
    bias = _bias_term(model, pairs)
    err = abs(per.double().sum().item() + bias - total)
    if err > 1e-4 * max(1.0, abs(total)) + 1e-4:
        raise AssertionError(f"DLA does not add up: sum {per.sum().item()} + bias {bias} != {total}")
    return {"labels": labels, "logit_diff": per.tolist(), "bias_term": bias, "total_logit_diff": total}


def head_dla(model: HookedGPT2, cache: ActivationCache, pairs) -> dict:
    comps, labels = cache.stack_head_results(layer=-1, pos_slice=-1, apply_ln=True, return_labels=True)
    per = comps[:, 0] @ _dir(model, pairs)
    L, H = model.cfg.n_layers, model.cfg.n_heads
    return {"labels": labels, "logit_diff": per.reshape(L, H).tolist()}


def resid_norms(model: HookedGPT2, cache: ActivationCache) -> dict:
    L = model.cfg.n_layers
    return {"resid_post_norm": [cache[("resid_post", l)].norm().item() for l in range(L)],
            "resid_post_norm_per_pos": [cache[("resid_post", l)][0].norm(dim=-1).tolist() for l in range(L)]}


def repeated_tokens(seed: int, seq_len: int, low: int = 1000, high: int = 10000) -> Tuple[List[int], List[int]]:
    """seq = seq_len distinct ids drawn from [low, high) by numpy default_rng(seed).choice(...,
    replace=False); returns ([BOS] + seq + seq, seq)."""
    rng = np.random.default_rng(seed)
    seq = [int(t) for t in rng.choice(np.arange(low, high), size=seq_len, replace=False)]
    return [BOS] + seq + seq, seq


def detection_patterns(tokens: Sequence[int]) -> Dict[str, torch.Tensor]:
    """TL head_detector.get_*_detection_pattern on the full token list (BOS included)."""
    t = torch.tensor(list(tokens))
    P = len(tokens)
    prev = torch.zeros(P, P)
    prev[1:, :-1] = torch.eye(P - 1)
    prev = torch.tril(prev)
    eq = (t[None, :] == t[:, None]).float()
    eq.fill_diagonal_(0)
    dup = torch.tril(eq)
    shifted = torch.roll(dup, shifts=1, dims=1)
    ind = torch.tril(torch.cat([torch.zeros(P, 1), shifted[:, 1:]], dim=1))
    return {"previous_token_head": prev, "duplicate_token_head": dup, "induction_head": ind}


def head_detector_scores(model: HookedGPT2, tokens: Sequence[int], seq_len: int) -> dict:
    """detect_head: TL head_detector.detect_head(..., exclude_bos=False, exclude_current_token=False,
         error_measure="mul") with the detection pattern built from `tokens`:
         score[l, h] = sum(pattern * detection) / sum(pattern), pattern = cache pattern [P, P] of head h.
       diagonal_mean: the Exploratory/Main demo recipe on the same run: mean over all q - k = offset of
         pattern[q, k], offsets previous_token 1, duplicate_token seq_len, induction seq_len - 1
         (= torch.diagonal(pattern, offset=-offset, dim1=-2, dim2=-1).mean()). Entries involving BOS
         (k = 0) are included, exactly as the diagonal is taken."""
    P = len(tokens)
    assert 1 < P < model.cfg.n_ctx, "TL detect_head requires 1 < seq_len < n_ctx"
    _, cache = model.run_with_cache(list(tokens), names_filter=lambda n: n.endswith("hook_pattern"))
    det = detection_patterns(tokens)
    L, H = model.cfg.n_layers, model.cfg.n_heads
    out = {"detect_head": {k: [[0.0] * H for _ in range(L)] for k in det},
           "diagonal_mean": {"previous_token": [[0.0] * H for _ in range(L)],
                             "duplicate_token": [[0.0] * H for _ in range(L)],
                             "induction": [[0.0] * H for _ in range(L)]}}
    offsets = {"previous_token": 1, "duplicate_token": seq_len, "induction": seq_len - 1}
    for l in range(L):
        pats = cache[("pattern", l)][0]
        for h in range(H):
            p = pats[h]
            for k, dp in det.items():
                out["detect_head"][k][l][h] = ((p * dp).sum() / p.sum()).item()
            for k, o in offsets.items():
                out["diagonal_mean"][k][l][h] = torch.diagonal(p, offset=-o, dim1=-2, dim2=-1).mean().item()
    out["offsets"] = offsets
    return out
