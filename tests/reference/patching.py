"""Reference of TransformerLens `transformer_lens.patching` (spec §4), written literally:
one full hooked forward of the patched run per index tuple, the hook overwriting the indexed slice
of the activation with the source (clean) cache's slice, the metric evaluated on the logits.

Index tuples are enumerated as TL's make_df_from_ranges does (itertools.product, last axis fastest)
and each result is stored at its index in a float32 tensor (TL stores metric(logits).item() into a
float32 torch.zeros). Axis sizes: layer = n_layers, pos/dest_pos/src_pos = P, head/head_index = n_heads.

A metric may return a scalar or a 1-D tensor of K values (this reference evaluates several metrics on
the same patched logits); the output then gets a trailing axis of size K. Each value is exactly
what a separate TL call with that single metric would return.

"Denoising" (TL's convention) = fn(model, corrupted_tokens, clean_cache, metric);
"noising" = fn(model, clean_tokens, corrupted_cache, metric) (corrupted activations into the clean run).
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Callable, Dict, List, Sequence, Tuple

import torch

from hooked_gpt2 import ActivationCache, HookedGPT2, get_act_name

AXIS_SIZES = ("layer", "pos", "head_index", "head", "src_pos", "dest_pos")


def generic_activation_patch(model: HookedGPT2, corrupted_tokens, clean_cache: ActivationCache,
                             patching_metric: Callable[[torch.Tensor], torch.Tensor],
                             patch_setter: Callable, activation_name: str,
                             index_axis_names: Sequence[str]) -> torch.Tensor:
    tokens = torch.as_tensor(corrupted_tokens, dtype=torch.long)
    if tokens.ndim == 1:
        tokens = tokens[None]
    cfg = model.cfg
    max_axis_range = {"layer": cfg.n_layers, "pos": tokens.shape[-1], "head_index": cfg.n_heads}
    max_axis_range["src_pos"] = max_axis_range["pos"]
    max_axis_range["dest_pos"] = max_axis_range["pos"]
    max_axis_range["head"] = max_axis_range["head_index"]
    dims = [max_axis_range[a] for a in index_axis_names]
    out = None
    for index in itertools.product(*[range(d) for d in dims]):
        name = get_act_name(activation_name, layer=index[0])
        clean_activation = clean_cache[name]

        def hook(corrupted_activation, hook_name, index=index, clean_activation=clean_activation):
            return patch_setter(corrupted_activation, list(index), clean_activation)

        patched_logits = model.run_with_hooks(tokens, fwd_hooks=[(name, hook)])
        value = torch.as_tensor(patching_metric(patched_logits), dtype=torch.float32).reshape(-1)
        if out is None:
            out = torch.zeros(dims + ([value.numel()] if value.numel() > 1 else []), dtype=torch.float32)
        if value.numel() > 1:
            out[index] = value
        else:
            out[index] = value[0]
    return out


# ---- patch setters (TL names; activation layouts [batch, pos, ...] / [batch, head, dest, src]) ----

def layer_pos_patch_setter(corrupted_activation, index, clean_activation):
    layer, pos = index
    corrupted_activation[:, pos, ...] = clean_activation[:, pos, ...]
    return corrupted_activation


def layer_pos_head_vector_patch_setter(corrupted_activation, index, clean_activation):
    layer, pos, head_index = index
    corrupted_activation[:, pos, head_index] = clean_activation[:, pos, head_index]
    return corrupted_activation


def layer_head_vector_patch_setter(corrupted_activation, index, clean_activation):
    layer, head_index = index
    corrupted_activation[:, :, head_index] = clean_activation[:, :, head_index]
    return corrupted_activation


def layer_head_pattern_patch_setter(corrupted_activation, index, clean_activation):
    layer, head_index = index
    corrupted_activation[:, head_index, :, :] = clean_activation[:, head_index, :, :]
    return corrupted_activation


def layer_head_pos_pattern_patch_setter(corrupted_activation, index, clean_activation):
    layer, head_index, dest_pos = index
    corrupted_activation[:, head_index, dest_pos, :] = clean_activation[:, head_index, dest_pos, :]
    return corrupted_activation


def layer_head_dest_src_pos_pattern_patch_setter(corrupted_activation, index, clean_activation):
    layer, head_index, dest_pos, src_pos = index
    corrupted_activation[:, head_index, dest_pos, src_pos] = clean_activation[:, head_index, dest_pos, src_pos]
    return corrupted_activation


def _p(setter, act, axes):
    return partial(generic_activation_patch, patch_setter=setter, activation_name=act, index_axis_names=axes)


get_act_patch_resid_pre = _p(layer_pos_patch_setter, "resid_pre", ("layer", "pos"))
get_act_patch_resid_mid = _p(layer_pos_patch_setter, "resid_mid", ("layer", "pos"))
get_act_patch_attn_out = _p(layer_pos_patch_setter, "attn_out", ("layer", "pos"))
get_act_patch_mlp_out = _p(layer_pos_patch_setter, "mlp_out", ("layer", "pos"))
get_act_patch_attn_head_out_by_pos = _p(layer_pos_head_vector_patch_setter, "z", ("layer", "pos", "head"))
get_act_patch_attn_head_q_by_pos = _p(layer_pos_head_vector_patch_setter, "q", ("layer", "pos", "head"))
get_act_patch_attn_head_k_by_pos = _p(layer_pos_head_vector_patch_setter, "k", ("layer", "pos", "head"))
get_act_patch_attn_head_v_by_pos = _p(layer_pos_head_vector_patch_setter, "v", ("layer", "pos", "head"))
get_act_patch_attn_head_pattern_by_pos = _p(layer_head_pos_pattern_patch_setter, "pattern",
                                            ("layer", "head_index", "dest_pos"))
get_act_patch_attn_head_pattern_dest_src_pos = _p(layer_head_dest_src_pos_pattern_patch_setter, "pattern",
                                                  ("layer", "head_index", "dest_pos", "src_pos"))
get_act_patch_attn_head_out_all_pos = _p(layer_head_vector_patch_setter, "z", ("layer", "head"))
get_act_patch_attn_head_q_all_pos = _p(layer_head_vector_patch_setter, "q", ("layer", "head"))
get_act_patch_attn_head_k_all_pos = _p(layer_head_vector_patch_setter, "k", ("layer", "head"))
get_act_patch_attn_head_v_all_pos = _p(layer_head_vector_patch_setter, "v", ("layer", "head"))
get_act_patch_attn_head_pattern_all_pos = _p(layer_head_pattern_patch_setter, "pattern", ("layer", "head_index"))


def get_act_patch_attn_head_all_pos_every(model, corrupted_tokens, clean_cache, metric) -> torch.Tensor:
    """[5, L, H]: out (z), q, k, v, pattern."""
    return torch.stack([
        get_act_patch_attn_head_out_all_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_q_all_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_k_all_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_v_all_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_pattern_all_pos(model, corrupted_tokens, clean_cache, metric),
    ], dim=0)


def get_act_patch_attn_head_by_pos_every(model, corrupted_tokens, clean_cache, metric) -> torch.Tensor:
    """[5, L, P, H]: out (z), q, k, v by position; pattern by dest_pos rearranged
    "layer head pos -> layer pos head"."""
    pattern = get_act_patch_attn_head_pattern_by_pos(model, corrupted_tokens, clean_cache, metric)
    return torch.stack([
        get_act_patch_attn_head_out_by_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_q_by_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_k_by_pos(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_head_v_by_pos(model, corrupted_tokens, clean_cache, metric),
        pattern.transpose(1, 2),
    ], dim=0)


def get_act_patch_block_every(model, corrupted_tokens, clean_cache, metric) -> torch.Tensor:
    """[3, L, P]: resid_pre, attn_out, mlp_out."""
    return torch.stack([
        get_act_patch_resid_pre(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_attn_out(model, corrupted_tokens, clean_cache, metric),
        get_act_patch_mlp_out(model, corrupted_tokens, clean_cache, metric),
    ], dim=0)


# name -> (function, activation, axes) in the order the fixtures list them
SWEEPS: Dict[str, Tuple[Callable, str, Tuple[str, ...]]] = {
    "get_act_patch_resid_pre": (get_act_patch_resid_pre, "resid_pre", ("layer", "pos")),
    "get_act_patch_resid_mid": (get_act_patch_resid_mid, "resid_mid", ("layer", "pos")),
    "get_act_patch_attn_out": (get_act_patch_attn_out, "attn_out", ("layer", "pos")),
    "get_act_patch_mlp_out": (get_act_patch_mlp_out, "mlp_out", ("layer", "pos")),
    "get_act_patch_attn_head_out_by_pos": (get_act_patch_attn_head_out_by_pos, "z", ("layer", "pos", "head")),
    "get_act_patch_attn_head_q_by_pos": (get_act_patch_attn_head_q_by_pos, "q", ("layer", "pos", "head")),
    "get_act_patch_attn_head_k_by_pos": (get_act_patch_attn_head_k_by_pos, "k", ("layer", "pos", "head")),
    "get_act_patch_attn_head_v_by_pos": (get_act_patch_attn_head_v_by_pos, "v", ("layer", "pos", "head")),
    "get_act_patch_attn_head_pattern_by_pos": (get_act_patch_attn_head_pattern_by_pos, "pattern",
                                               ("layer", "head_index", "dest_pos")),
    "get_act_patch_attn_head_pattern_dest_src_pos": (get_act_patch_attn_head_pattern_dest_src_pos, "pattern",
                                                     ("layer", "head_index", "dest_pos", "src_pos")),
    "get_act_patch_attn_head_out_all_pos": (get_act_patch_attn_head_out_all_pos, "z", ("layer", "head")),
    "get_act_patch_attn_head_q_all_pos": (get_act_patch_attn_head_q_all_pos, "q", ("layer", "head")),
    "get_act_patch_attn_head_k_all_pos": (get_act_patch_attn_head_k_all_pos, "k", ("layer", "head")),
    "get_act_patch_attn_head_v_all_pos": (get_act_patch_attn_head_v_all_pos, "v", ("layer", "head")),
    "get_act_patch_attn_head_pattern_all_pos": (get_act_patch_attn_head_pattern_all_pos, "pattern",
                                                ("layer", "head_index")),
    "get_act_patch_block_every": (get_act_patch_block_every, "resid_pre,attn_out,mlp_out",
                                  ("patch_type", "layer", "pos")),
    "get_act_patch_attn_head_all_pos_every": (get_act_patch_attn_head_all_pos_every, "z,q,k,v,pattern",
                                              ("patch_type", "layer", "head")),
    "get_act_patch_attn_head_by_pos_every": (get_act_patch_attn_head_by_pos_every, "z,q,k,v,pattern",
                                             ("patch_type", "layer", "pos", "head")),
}


# ---- metrics ----

METRIC_NAMES = ("logit_diff", "prob", "logprob", "rank", "rank_margin")


def make_metric(pos: int, pairs: Sequence[Tuple[int, int]], answer: int, batch: int = 0) -> Callable:
    """logits [B, P, V] -> float32 tensor [5] = (logit_diff, prob, logprob, rank, rank_margin) at (batch, pos):
      logit_diff  = mean over pairs (a, w) of logits[a] - logits[w]
      prob        = softmax(logits)[answer]
      logprob     = log_softmax(logits)[answer]
      rank        = number of vocabulary entries whose logit is strictly greater than logits[answer]
      rank_margin = min over v != answer of |logits[v] - logits[answer]| (auxiliary, not a TL metric:
                    a consumer should only demand an exact rank where its own logit error is below it)
    """
    a_ids = torch.tensor([p[0] for p in pairs], dtype=torch.long)
    w_ids = torch.tensor([p[1] for p in pairs], dtype=torch.long)

    def metric(logits: torch.Tensor) -> torch.Tensor:
        x = logits[batch, pos]
        ld = (x[a_ids] - x[w_ids]).mean()
        lp = torch.log_softmax(x, dim=-1)[answer]
        pr = torch.softmax(x, dim=-1)[answer]
        rank = (x > x[answer]).sum().to(x.dtype)
        gap = (x - x[answer]).abs()
        gap[answer] = math.inf
        return torch.stack([ld, pr, lp, rank, gap.min()]).to(torch.float32)

    return metric
