#!/usr/bin/env python3
"""Exports an HF-layout GPT-2 directory to ONNX with past key/value inputs and outputs, for the
onnxruntime-web peer of bench/generate.mjs (KV-cached generation).

The graph is one incremental step, as Hugging Face's "with past" exports are:
  input_ids [1, T] (int64), past_key.{l}, past_value.{l} [1, H, P, d_head] (float32)
    -> logits [1, T, vocab], present_key.{l}, present_value.{l} [1, H, P + T, d_head]
with T and P dynamic; the first step feeds P = 0 (empty pasts), every later step T = 1 and the
previous step's presents. The math is export_gpt2_onnx.py's module (the same weights and layout)
with the new keys and values appended to the past ones and positions starting at P. Before
writing, the module's incremental logits are checked against hf_gpt2.hf_logits of the whole
sequence.

  /usr/bin/python3 bench/onnx/export_gpt2_kv_onnx.py --model build/bench/gpt2-small-random-f32 \
      --out build/bench/gpt2-small-random-kv.onnx [--force]
"""

from __future__ import annotations

import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_gpt2_onnx import OPSET, Block, Gpt2LmForward, export_args  # noqa: E402
from hf_gpt2 import hf_logits  # noqa: E402  (export_gpt2_onnx put tests/reference on the path)
from hooked_gpt2 import Config, gelu_new, load_hf_dir  # noqa: E402


def block_step(block: Block, x: torch.Tensor, past_k: torch.Tensor, past_v: torch.Tensor, causal: torch.Tensor):
    """One block on the T new positions against P cached ones; returns x and the grown k, v."""
    cfg: Config = block.cfg
    D, H = cfg.d_model, cfg.n_heads
    Dh = D // H
    T = x.shape[1]
    h = nn.functional.layer_norm(x, (D,), block.ln_1_weight, block.ln_1_bias, cfg.eps)
    qkv = h @ block.attn_c_attn_weight + block.attn_c_attn_bias
    q, k, v = qkv.split(D, dim=2)
    q, k, v = (t.reshape(1, T, H, Dh).transpose(1, 2) for t in (q, k, v))  # [1, H, T, Dh]
    k = torch.cat([past_k, k], dim=2)
    v = torch.cat([past_v, v], dim=2)
    att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(Dh))
    att = att.masked_fill(~causal, float("-inf")).softmax(-1)
    a = (att @ v).transpose(1, 2).reshape(1, T, D)
    x = x + (a @ block.attn_c_proj_weight + block.attn_c_proj_bias)
    h = nn.functional.layer_norm(x, (D,), block.ln_2_weight, block.ln_2_bias, cfg.eps)
    m = gelu_new(h @ block.mlp_c_fc_weight + block.mlp_c_fc_bias)
    return x + (m @ block.mlp_c_proj_weight + block.mlp_c_proj_bias), k, v


class Gpt2KvStep(Gpt2LmForward):
    """forward(input_ids, past_key.0, past_value.0, ...) -> (logits, present_key.0, present_value.0, ...)."""

    def forward(self, input_ids: torch.Tensor, *pasts: torch.Tensor):
        T = input_ids.shape[1]
        P = pasts[0].shape[2]
        x = self.wte[input_ids] + self.wpe[P:P + T][None]
        causal = self.causal[P:P + T, :P + T]
        presents = []
        for i, block in enumerate(self.blocks):
            x, k, v = block_step(block, x, pasts[2 * i], pasts[2 * i + 1], causal)
            presents += [k, v]
        x = nn.functional.layer_norm(x, (self.cfg.d_model,), self.ln_f_weight, self.ln_f_bias, self.cfg.eps)
        return (x @ self.unembed, *presents)


def empty_pasts(cfg: Config, length: int = 0):
    shape = (1, cfg.n_heads, length, cfg.d_model // cfg.n_heads)
    return [torch.zeros(shape) for _ in range(2 * cfg.n_layers)]


def check_incremental(model: Gpt2KvStep, cfg: Config, sd) -> None:
    """Prompt in one step, then one token per step: every step's logits equal the full forward's row."""
    tokens = [50256, 464, 3139, 286, 4881, 318, 6342, 13]
    prompt = 5
    reference = hf_logits(cfg, sd, tokens)[0]
    out = model(torch.tensor([tokens[:prompt]]), *empty_pasts(cfg))
    rows = [out[0][0]]
    for t in tokens[prompt:]:
        out = model(torch.tensor([[t]]), *out[1:])
        rows.append(out[0][0])
    ours = torch.cat(rows)
    err = (ours - reference).abs().max().item()
    scale = reference.abs().max().item()
    if not err <= 1e-4 * max(scale, 1.0):
        raise SystemExit(f"the KV-cached module disagrees with hf_gpt2.hf_logits: max |diff| {err} (max |logit| {scale})")
    print(f"KV-cached steps match hf_gpt2.hf_logits: max |diff| {err:.2e} (max |logit| {scale:.1f})")


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    args = export_args(__doc__.splitlines()[0], "build/bench/gpt2-small-random-kv.onnx",
                       [os.path.abspath(__file__), os.path.join(here, "export_gpt2_onnx.py")])
    if args is None:
        return

    cfg, sd, _ = load_hf_dir(args.model)
    model = Gpt2KvStep(cfg, sd).eval()
    with torch.no_grad():
        check_incremental(model, cfg, sd)
    past_names = [f"past_{kind}.{i}" for i in range(cfg.n_layers) for kind in ("key", "value")]
    present_names = [n.replace("past_", "present_") for n in past_names]
    axes = {"input_ids": {1: "new"}, "logits": {1: "new"}}
    axes.update({n: {2: "past"} for n in past_names})
    axes.update({n: {2: "total"} for n in present_names})
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".partial"
    # Traced with P = 3, T = 2 so neither length is taken for a constant.
    example = (torch.tensor([[464, 3139]], dtype=torch.long), *empty_pasts(cfg, 3))
    with torch.no_grad():
        torch.onnx.export(model, example, partial, opset_version=OPSET, input_names=["input_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=axes, do_constant_folding=True)
    os.replace(partial, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.0f} MB, opset {OPSET})")


if __name__ == "__main__":
    main()
