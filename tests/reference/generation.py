"""Generation reference (TransformerLens `HookedTransformer.generate` + `utils.sample_logits`), float64.

Written from the spec in README.md ("Generation") and TL's sample_logits, not from core/: every step
runs a FULL forward over the whole sequence (no KV cache), so the native KV-cached steps are checked
against an independent computation.

Sampling distribution of one step, from the last position's logits (float64):
  temperature == 0: one-hot at argmax(logits) (torch.argmax: the first maximum); nothing else applies.
  else: x = logits / temperature; x -= freq_penalty * bincount(context) (context = every token so far,
        BOS and prompt included); top_k > 0: x[x < topk(x, k)[-1]] = -inf; top_p < 1: sort x descending
        (stable: lower id first among ties), remove sorted token j > 0 when the softmax mass of the tokens
        before it exceeds top_p; p = softmax(x).
Draw: splitmix64(seed) -> u = (next >> 11) * 2^-53; the first token in id order with p > 0 whose
cumulative p (summed in id order) exceeds u; the last token with p > 0 if none does. Greedy draws nothing.
Steering (activation addition, Turner et al. 2023): vector = acts(to) - acts(from) at the hook, both with
BOS, the shorter right-padded with " " tokens; coefficient * vector[i] is added at position i of every
forward (i < rows, and only prompt positions when positions == "prompt").
Steering along an unembedding direction (the lab's direction from the analysis views): d = W_U[:, to]
(- W_U[:, from] when given: the DLA logit-difference direction) over its L2 norm; coefficient * d is
added at every position of every forward (positions == "all").
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from hooked_gpt2 import HookedGPT2

MASK64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def next_unit(self) -> float:
        return (self.next() >> 11) * 2.0 ** -53


def sampling_distribution(logits: torch.Tensor, context: Sequence[int], temperature: float, top_k: int,
                          top_p: float, freq_penalty: float) -> torch.Tensor:
    logits = logits.double()
    V = logits.shape[-1]
    if temperature == 0.0:
        p = torch.zeros(V, dtype=torch.float64)
        p[int(logits.argmax())] = 1.0
        return p
    x = logits / temperature
    if freq_penalty > 0:
        x = x - freq_penalty * torch.bincount(torch.tensor(list(context)), minlength=V).double()
    if top_k and top_k > 0:
        x = x.masked_fill(x < x.topk(top_k).values[-1], -float("inf"))
    if top_p < 1.0:
        sorted_x, order = torch.sort(x, descending=True, stable=True)
        cum = sorted_x.softmax(-1).cumsum(-1)
        remove = cum > top_p
        remove[1:] = remove[:-1].clone()
        remove[0] = False
        x = x.clone()
        x[order[remove]] = -float("inf")
    return x.softmax(-1)


def draw(p: torch.Tensor, rng: SplitMix64):
    """Returns (token, margin): margin = distance of u to the nearest cumulative boundary."""
    u = rng.next_unit()
    probs = p.numpy()
    cum = np.cumsum(probs)
    kept = probs > 0
    hits = np.nonzero(kept & (u < cum))[0]
    token = int(hits[0]) if len(hits) else int(np.nonzero(kept)[0][-1])
    margin = float(np.min(np.abs(cum[kept] - u)))
    return token, margin


def steering_vector(model: HookedGPT2, hook: str, to_tokens: List[int], from_tokens: List[int],
                    space: int) -> torch.Tensor:
    n = max(len(to_tokens), len(from_tokens))
    a = to_tokens + [space] * (n - len(to_tokens))
    b = from_tokens + [space] * (n - len(from_tokens))
    _, ca = model.run_with_cache(a, names_filter=hook)
    _, cb = model.run_with_cache(b, names_filter=hook)
    return (ca[hook] - cb[hook])[0]  # [S, width]


def steering_hook(vector: torch.Tensor, coefficient: float, prompt_len: int, positions: str):
    def fn(x, name):
        x = x.clone()
        P = x.shape[1]
        for i in range(min(vector.shape[0], P)):
            if positions == "prompt" and i >= prompt_len:
                continue
            x[0, i] += coefficient * vector[i].reshape(x.shape[2:])
        return x
    return fn


def unembedding_direction(model: HookedGPT2, to_token: int, from_token: Optional[int]) -> torch.Tensor:
    d = model.W_U[:, to_token].double()
    if from_token is not None:
        d = d - model.W_U[:, from_token].double()
    return d / d.norm()


def direction_hook(direction: torch.Tensor, coefficient: float):
    def fn(x, name):
        return x + coefficient * direction.to(x.dtype)
    return fn


def generate(model: HookedGPT2, prompt: List[int], max_new_tokens: int, temperature: float = 1.0, top_k: int = 0,
             top_p: float = 1.0, freq_penalty: float = 0.0, seed: int = 0, fwd_hooks=(), top_n: int = 5,
             dist_n: int = 10) -> Dict:
    rng = SplitMix64(seed)
    tokens = list(prompt)
    steps = []
    for _ in range(max_new_tokens):
        logits = model.forward(tokens, list(fwd_hooks))[0, -1].double()
        p = sampling_distribution(logits, tokens, temperature, top_k, top_p, freq_penalty)
        plain = logits.softmax(-1)
        if temperature == 0.0:
            token = int(logits.argmax())
            top2 = logits.topk(2).values
            margin = float(top2[0] - top2[1])
        else:
            token, margin = draw(p, rng)
        pn = plain.numpy()
        order = [int(t) for t in np.lexsort((np.arange(len(pn)), -pn))[:top_n]]
        dist = torch.sort(p, descending=True, stable=True)
        steps.append({"token": token, "prob": float(plain[token]), "sample_prob": float(p[token]),
                      "top": [[t, float(plain[t]), float(p[t])] for t in order],
                      "dist_top": [[int(t), float(v)] for t, v in zip(dist.indices[:dist_n], dist.values[:dist_n])],
                      "support": int((p > 0).sum()), "margin": margin})
        tokens.append(token)
    return {"tokens": tokens[len(prompt):], "steps": steps}
