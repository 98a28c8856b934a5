"""Reference of PATH PATCHING (Wang et al. 2022, "Interpretability in the Wild"; ARENA's
`get_path_patch_head_to_final_resid_post` / `get_path_patch_head_to_heads`), written literally with
the reference model's run_with_hooks. Written from the paper / ARENA description, not from the C++.

Runs: direction "noising": receiving = clean tokens, source = corrupted tokens; "denoising":
receiving = corrupted, source = clean. Both runs are cached (receiving_cache, source_cache).

For each sender head (ls, hs), in layer-major order (cell index ls * H + hs):
  Step A: run the receiving tokens with a hook on blocks.{l}.attn.hook_z for EVERY layer l that sets
    z[:, :, h] := receiving_cache z[:, :, h] for every head h at all positions ("freeze every head"),
    except the sender, whose z[:, :, hs] := source_cache z[:, :, hs]. MLPs, LayerNorms and everything
    else are recomputed normally (not frozen), so the sender reaches the output only through MLPs
    and the residual stream.
  receivers == [] ("the final residual stream"): the cell is metric(logits of step A).
  Otherwise receivers is a list of {layer, head, input} with input in q / k / v. Step A also records
    blocks.{layer}.attn.hook_{input}[:, :, head, :] ([batch, pos, d_head]) for each receiver.
    Step B runs the receiving tokens again with ONLY these hooks: hook_{input} at the receiver's layer
    gets [:, :, head, :] := the value recorded in step A (nothing frozen). The cell is
    metric(logits of step B).
Every sender is computed literally, also those at or after the receivers' layers; their value must
then equal the receiving run's metric (a receiver's q/k/v is computed before its own layer's z, so a
sender in that layer or later cannot change it), which the fixture generator asserts.

Metrics (batch 0, position pos, float64): logit_diff = mean over pairs [a, w] of
logits[pos, a] - logits[pos, w]; logprob = log_softmax(logits[pos])[answer], answer = pairs[0][0].
"""

from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple

import torch

from hooked_gpt2 import ActivationCache, HookedGPT2

METRICS = ("logit_diff", "logprob")
INPUTS = ("q", "k", "v")
Metric = Callable[[torch.Tensor], Dict[str, float]]


def make_metric(pos: int, pairs: Sequence[Sequence[int]], answer: int, batch: int = 0) -> Metric:
    """logits [B, P, V] -> {"logit_diff": float, "logprob": float} at (batch, pos), in float64."""
    a_ids = torch.tensor([int(p[0]) for p in pairs], dtype=torch.long)
    w_ids = torch.tensor([int(p[1]) for p in pairs], dtype=torch.long)

    def metric(logits: torch.Tensor) -> Dict[str, float]:
        x = logits[batch, pos].to(torch.float64)
        return {"logit_diff": float((x[a_ids] - x[w_ids]).mean().item()),
                "logprob": float(torch.log_softmax(x, dim=-1)[answer].item())}

    return metric


def receiving_and_source(direction: str, clean: Sequence[int], corrupted: Sequence[int]) -> Tuple[list, list]:
    """(receiving tokens, source tokens): noising patches corrupted into clean, denoising the reverse."""
    if direction == "noising":
        return list(clean), list(corrupted)
    if direction == "denoising":
        return list(corrupted), list(clean)
    raise ValueError(f"direction {direction!r} is neither noising nor denoising")


def receiver_hook_name(receiver: dict) -> str:
    if receiver["input"] not in INPUTS:
        raise ValueError(f"receiver input {receiver['input']!r} is not one of {INPUTS}")
    return f"blocks.{int(receiver['layer'])}.attn.hook_{receiver['input']}"


def _freeze_z_hook(layer: int, sender: Tuple[int, int], recv_cache: ActivationCache, src_cache: ActivationCache):
    """Step A's z hook for one layer: every head from the receiving run, the sender from the source."""
    def hook(z: torch.Tensor, name: str) -> torch.Tensor:
        for h in range(z.shape[2]):
            cache = src_cache if (layer, h) == tuple(sender) else recv_cache
            z[:, :, h] = cache[name][:, :, h]
        return z
    return hook


def _record_hook(store: Dict[int, torch.Tensor], index: int, head: int):
    def hook(act: torch.Tensor, name: str) -> None:
        store[index] = act[:, :, head, :].clone()  # clone: later hooks or ops must not alias it
    return hook


def _set_hook(head: int, value: torch.Tensor):
    def hook(act: torch.Tensor, name: str) -> torch.Tensor:
        act[:, :, head, :] = value
        return act
    return hook


def path_patch_cell(model: HookedGPT2, recv_tokens, recv_cache: ActivationCache, src_cache: ActivationCache,
                    sender: Tuple[int, int], receivers: Sequence[dict], metric: Metric) -> Dict[str, float]:
    """The metric of one sender cell (step A, and step B when there are receivers)."""
    hooks: List = [(f"blocks.{l}.attn.hook_z", _freeze_z_hook(l, sender, recv_cache, src_cache))
                   for l in range(model.cfg.n_layers)]
    recorded: Dict[int, torch.Tensor] = {}
    for i, r in enumerate(receivers):
        hooks.append((receiver_hook_name(r), _record_hook(recorded, i, int(r["head"]))))
    logits_a = model.run_with_hooks(recv_tokens, fwd_hooks=hooks)
    if not receivers:
        return metric(logits_a)
    hooks_b = [(receiver_hook_name(r), _set_hook(int(r["head"]), recorded[i])) for i, r in enumerate(receivers)]
    return metric(model.run_with_hooks(recv_tokens, fwd_hooks=hooks_b))


def path_patch(model: HookedGPT2, clean: Sequence[int], corrupted: Sequence[int], direction: str,
               receivers: Sequence[dict], metric: Metric) -> Dict[str, object]:
    """Every sender cell -> {"values": {metric: float64 tensor [L, H]}, "receiving": {metric: float}}."""
    recv_tokens, src_tokens = receiving_and_source(direction, clean, corrupted)
    recv_logits, recv_cache = model.run_with_cache(recv_tokens)
    _, src_cache = model.run_with_cache(src_tokens)
    L, H = model.cfg.n_layers, model.cfg.n_heads
    values = {m: torch.zeros(L, H, dtype=torch.float64) for m in METRICS}
    for ls in range(L):  # layer-major: cell index ls * H + hs
        for hs in range(H):
            cell = path_patch_cell(model, recv_tokens, recv_cache, src_cache, (ls, hs), receivers, metric)
            for m in METRICS:
                values[m][ls, hs] = cell[m]
    return {"values": values, "receiving": metric(recv_logits)}


def act_patch_head_out_all_pos(model: HookedGPT2, clean, corrupted, direction: str, layer: int, head: int,
                               metric: Metric) -> Dict[str, float]:
    """TL get_act_patch_attn_head_out_all_pos for one (layer, head), in the model's dtype (patching.py
    stores float32, too coarse for a 1e-9 comparison): z[:, :, head] from the source into the receiving run."""
    recv_tokens, src_tokens = receiving_and_source(direction, clean, corrupted)
    _, src_cache = model.run_with_cache(src_tokens)
    name = f"blocks.{layer}.attn.hook_z"

    def hook(z: torch.Tensor, hook_name: str) -> torch.Tensor:
        z[:, :, head] = src_cache[name][:, :, head]
        return z

    return metric(model.run_with_hooks(recv_tokens, fwd_hooks=[(name, hook)]))
