#!/usr/bin/env python3
"""Exports an HF-layout GPT-2 directory to ONNX for the onnxruntime-web peer of bench/forward.mjs.

The graph is a plain GPT-2 LM forward, input_ids [1, T] (int64) -> logits [1, T, vocab], with a
dynamic sequence axis, so one file serves every T the benchmark runs. The math is the same as
tests/reference/hf_gpt2.py (HF Conv1D layout, fused c_attn, gelu_new, logits = ln_f(x) @ wte^T)
written as an nn.Module so torch.onnx can trace it; no TransformerLens weight processing, so
the logits equal hooklab's up to center_unembed's per-position constant. Before writing, the
module is checked against hf_gpt2.hf_logits on a few tokens.

Opset 17: the first with LayerNormalization (one kernel in ORT instead of a mean/var subgraph),
and one that onnxruntime-web 1.30 reads.

  /usr/bin/python3 bench/onnx/export_gpt2_onnx.py --model build/bench/gpt2-small-random-f32 \
      --out build/bench/gpt2-small-random.onnx [--force]

Skips the export when --out is newer than the weights and this script (the file is ~650 MB).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
from hf_gpt2 import hf_logits  # noqa: E402
from hooked_gpt2 import Config, gelu_new, load_hf_dir  # noqa: E402

OPSET = 17


def frozen(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().contiguous(), requires_grad=False)


class Block(nn.Module):
    def __init__(self, cfg: Config, sd, prefix: str):
        super().__init__()
        self.cfg = cfg
        names = ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                 "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                 "mlp.c_proj.weight", "mlp.c_proj.bias"]
        # Parameter names cannot hold dots: ln_1.weight -> ln_1_weight.
        for name in names:
            self.register_parameter(name.replace(".", "_"), frozen(sd[prefix + name]))

    def forward(self, x: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        D, H = self.cfg.d_model, self.cfg.n_heads
        Dh = D // H
        T = x.shape[1]
        h = nn.functional.layer_norm(x, (D,), self.ln_1_weight, self.ln_1_bias, self.cfg.eps)
        qkv = h @ self.attn_c_attn_weight + self.attn_c_attn_bias  # Conv1D: weight is [in, out]
        q, k, v = qkv.split(D, dim=2)
        q, k, v = (t.reshape(1, T, H, Dh).transpose(1, 2) for t in (q, k, v))  # [1, H, T, Dh]
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(Dh))
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        a = (att @ v).transpose(1, 2).reshape(1, T, D)
        x = x + (a @ self.attn_c_proj_weight + self.attn_c_proj_bias)
        h = nn.functional.layer_norm(x, (D,), self.ln_2_weight, self.ln_2_bias, self.cfg.eps)
        m = gelu_new(h @ self.mlp_c_fc_weight + self.mlp_c_fc_bias)
        return x + (m @ self.mlp_c_proj_weight + self.mlp_c_proj_bias)


class Gpt2LmForward(nn.Module):
    def __init__(self, cfg: Config, sd):
        super().__init__()
        self.cfg = cfg
        self.wte = frozen(sd["wte.weight"])
        self.wpe = frozen(sd["wpe.weight"])
        self.blocks = nn.ModuleList(Block(cfg, sd, f"h.{i}.") for i in range(cfg.n_layers))
        self.ln_f_weight = frozen(sd["ln_f.weight"])
        self.ln_f_bias = frozen(sd["ln_f.bias"])
        # The unembedding stored [d_model, vocab] so the exported graph is one MatMul with no
        # Transpose (this duplicates the tied wte in the file, as constant folding would anyway).
        self.unembed = frozen(sd.get("lm_head.weight", sd["wte.weight"]).T)
        # Sliced to [T, T] per call: a dynamic Slice exports more simply than building a Trilu.
        self.register_buffer("causal", torch.tril(torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool)))

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        T = input_ids.shape[1]
        x = self.wte[input_ids] + self.wpe[:T][None]
        causal = self.causal[:T, :T]
        for block in self.blocks:
            x = block(x, causal)
        x = nn.functional.layer_norm(x, (self.cfg.d_model,), self.ln_f_weight, self.ln_f_bias, self.cfg.eps)
        return x @ self.unembed


def up_to_date(out: str, inputs) -> bool:
    return os.path.exists(out) and all(os.path.getmtime(out) > os.path.getmtime(p) for p in inputs)


def export_args(description: str, default_out: str, scripts):
    """--model, --out, --force; None when --out is newer than the weights and `scripts` (nothing to do)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model", default=os.path.join(ROOT, "build/bench/gpt2-small-random-f32"))
    ap.add_argument("--out", default=os.path.join(ROOT, default_out))
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    weights = os.path.join(args.model, "model.safetensors")
    if not args.force and up_to_date(args.out, [weights, *scripts]):
        print(f"{args.out} is up to date")
        return None
    return args


def main() -> None:
    args = export_args(__doc__.splitlines()[0], "build/bench/gpt2-small-random.onnx", [os.path.abspath(__file__)])
    if args is None:
        return

    cfg, sd, _ = load_hf_dir(args.model)
    model = Gpt2LmForward(cfg, sd).eval()
    tokens = [50256, 464, 3139, 286, 4881, 318, 6342, 13]
    with torch.no_grad():
        ours = model(torch.tensor([tokens]))[0]
        reference = hf_logits(cfg, sd, tokens)[0]
    err = (ours - reference).abs().max().item()
    scale = reference.abs().max().item()
    if not err <= 1e-4 * max(scale, 1.0):
        raise SystemExit(f"the exported module disagrees with hf_gpt2.hf_logits: max |diff| {err} (max |logit| {scale})")
    print(f"module matches hf_gpt2.hf_logits: max |diff| {err:.2e} (max |logit| {scale:.1f})")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = args.out + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, (torch.tensor([tokens], dtype=torch.long),), partial, opset_version=OPSET,
                          input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {1: "sequence"}, "logits": {1: "sequence"}},
                          do_constant_folding=True)
    os.replace(partial, args.out)  # a killed export never leaves a file that looks finished
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.0f} MB, opset {OPSET})")


if __name__ == "__main__":
    main()
