"""A second, deliberately different GPT-2 forward used only to cross-check hooked_gpt2.py.

It follows Hugging Face GPT2LMHeadModel directly on the HF-named weights (Conv1D layout, fused
c_attn, heads split by view/transpose, masking by the -1e4-style fill replaced with -inf, logits
= ln_f(x) @ wte^T or lm_head^T), with no TL conversion and no weight processing. Its logits must
equal the unprocessed TL-style reference's logits.
"""

from __future__ import annotations

import math
from typing import Dict, Sequence

import torch

from hooked_gpt2 import Config, gelu_new


def hf_logits(cfg: Config, sd: Dict[str, torch.Tensor], tokens: Sequence[int]) -> torch.Tensor:
    ids = torch.as_tensor(list(tokens), dtype=torch.long)[None]
    T = ids.shape[1]
    D, H = cfg.d_model, cfg.n_heads
    Dh = D // H

    def ln(x, w, b):
        return torch.nn.functional.layer_norm(x, (D,), w, b, cfg.eps)

    x = sd["wte.weight"][ids] + sd["wpe.weight"][torch.arange(T)][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg.n_layers):
        p = f"h.{i}."
        h = ln(x, sd[p + "ln_1.weight"], sd[p + "ln_1.bias"])
        qkv = torch.addmm(sd[p + "attn.c_attn.bias"], h.view(-1, D), sd[p + "attn.c_attn.weight"]).view(1, T, 3 * D)
        q, k, v = qkv.split(D, dim=2)
        q, k, v = (t.view(1, T, H, Dh).transpose(1, 2) for t in (q, k, v))  # [1, H, T, Dh]
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(Dh)
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        a = torch.matmul(att, v).transpose(1, 2).reshape(1, T, D)
        a = torch.addmm(sd[p + "attn.c_proj.bias"], a.view(-1, D), sd[p + "attn.c_proj.weight"]).view(1, T, D)
        x = x + a
        h = ln(x, sd[p + "ln_2.weight"], sd[p + "ln_2.bias"])
        m = gelu_new(torch.addmm(sd[p + "mlp.c_fc.bias"], h.view(-1, D), sd[p + "mlp.c_fc.weight"]))
        m = torch.addmm(sd[p + "mlp.c_proj.bias"], m, sd[p + "mlp.c_proj.weight"]).view(1, T, D)
        x = x + m
    x = ln(x, sd["ln_f.weight"], sd["ln_f.bias"])
    lm = sd.get("lm_head.weight", sd["wte.weight"])
    return x @ lm.T
