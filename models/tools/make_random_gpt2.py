#!/usr/bin/env python3
"""Writes a random GPT-2 in Hugging Face layout (config.json + model.safetensors) for tests.

The weights are random but shaped so that tests are meaningful: every bias is non-zero, LayerNorm
weights are 1 + 0.2*N(0,1) and biases 0.1*N(0,1), query/key weights are large enough that attention
patterns are far from uniform, and activations stay O(1) (no f16 overflow). Output is a pure
function of the arguments (numpy PCG64 seeded with --seed; values drawn in a fixed order in f32,
then cast to the storage dtype).

Example:
  /usr/bin/python3 models/tools/make_random_gpt2.py --out models/testdata/tiny-a \
      --layers 2 --d-model 32 --heads 4 --n-ctx 64 --dtype f32 --seed 1 --mask-buffers
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, Optional, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402

_ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
_TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}

# Target standard deviation of the pre-softmax attention scores (roughly d_model * std_qk^2).
SCORE_STD = 4.0


def make_weights(layers: int, d_model: int, heads: int, d_mlp: int, n_ctx: int, vocab: int,
                 seed: int, untied_lm_head: bool) -> Dict[str, np.ndarray]:
    """Random HF-named float32 weights (no prefix). Draw order is part of the format: do not reorder."""
    if d_model % heads:
        raise ValueError("d_model must be divisible by heads")
    rng = np.random.default_rng(seed)
    D, M = d_model, d_mlp

    def normal(std, *shape):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def ln_pair():
        return (1.0 + normal(0.2, D)).astype(np.float32), normal(0.1, D)

    w: Dict[str, np.ndarray] = {}
    w["wte.weight"] = normal(0.5, vocab, D)
    w["wpe.weight"] = normal(0.3, n_ctx, D)
    std_qk = float(np.sqrt(SCORE_STD / D))
    for i in range(layers):
        p = f"h.{i}."
        w[p + "ln_1.weight"], w[p + "ln_1.bias"] = ln_pair()
        wq = normal(std_qk, D, D)
        wk = normal(std_qk, D, D)
        wv = normal(1.0 / np.sqrt(D), D, D)
        w[p + "attn.c_attn.weight"] = np.concatenate([wq, wk, wv], axis=1)
        w[p + "attn.c_attn.bias"] = np.concatenate([normal(0.3, D), normal(0.3, D), normal(0.2, D)])
        w[p + "attn.c_proj.weight"] = normal(1.0 / np.sqrt(D), D, D)
        w[p + "attn.c_proj.bias"] = normal(0.1, D)
        w[p + "ln_2.weight"], w[p + "ln_2.bias"] = ln_pair()
        w[p + "mlp.c_fc.weight"] = normal(1.5 / np.sqrt(D), D, M)
        w[p + "mlp.c_fc.bias"] = normal(0.2, M)
        w[p + "mlp.c_proj.weight"] = normal(1.0 / np.sqrt(M), M, D)
        w[p + "mlp.c_proj.bias"] = normal(0.1, D)
    w["ln_f.weight"], w["ln_f.bias"] = ln_pair()
    if untied_lm_head:
        w["lm_head.weight"] = normal(0.5, vocab, D)
    return w


def hf_config(layers: int, d_model: int, heads: int, d_mlp: Optional[int], n_ctx: int, vocab: int,
              eps: float, dtype: str, untied_lm_head: bool) -> dict:
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": 50256,
        "embd_pdrop": 0.1,
        "eos_token_id": 50256,
        "initializer_range": 0.02,
        "layer_norm_epsilon": eps,
        "model_type": "gpt2",
        "n_ctx": n_ctx,
        "n_embd": d_model,
        "n_head": heads,
        "n_inner": d_mlp,
        "n_layer": layers,
        "n_positions": n_ctx,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": not untied_lm_head,
        "torch_dtype": _TORCH_DTYPE[dtype],
        "use_cache": True,
        "vocab_size": vocab,
    }


def write_model(out: str, layers: int, d_model: int, heads: int, d_mlp: Optional[int], n_ctx: int,
                vocab: int = 50257, dtype: str = "f32", seed: int = 0, prefix: str = "",
                untied_lm_head: bool = False, mask_buffers: bool = False, eps: float = 1e-5,
                command: Optional[str] = None) -> Tuple[str, str]:
    """Writes config.json, model.safetensors and README.md into `out`. Returns the two data paths."""
    if dtype not in _ST_DTYPE:
        raise ValueError(f"dtype must be one of {list(_ST_DTYPE)}")
    os.makedirs(out, exist_ok=True)
    m = d_mlp if d_mlp is not None else 4 * d_model
    weights = make_weights(layers, d_model, heads, m, n_ctx, vocab, seed, untied_lm_head)
    st = _ST_DTYPE[dtype]
    tensors = {}
    for name, arr in weights.items():
        key = name if name == "lm_head.weight" else prefix + name
        tensors[key] = (st, arr)
    if mask_buffers:
        tri = np.tril(np.ones((n_ctx, n_ctx), dtype=np.float32)).reshape(1, 1, n_ctx, n_ctx)
        for i in range(layers):
            tensors[f"{prefix}h.{i}.attn.bias"] = ("F32", tri)
            tensors[f"{prefix}h.{i}.attn.masked_bias"] = ("F32", np.array(-1e4, dtype=np.float32))
    st_path = os.path.join(out, "model.safetensors")
    write_safetensors(st_path, tensors, {"format": "pt"})
    cfg = hf_config(layers, d_model, heads, d_mlp, n_ctx, vocab, eps, dtype, untied_lm_head)
    cfg_path = os.path.join(out, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    if command is None:
        command = cli_command(out, layers, d_model, heads, d_mlp, n_ctx, vocab, dtype, seed, prefix,
                              untied_lm_head, mask_buffers, eps)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(
            f"Random GPT-2 test model (not trained; weights are seeded random numbers), "
            f"{layers} layers, d_model {d_model}, {heads} heads, d_mlp {m}, n_ctx {n_ctx}, "
            f"vocab {vocab}, {dtype}. Generated by `{command}` "
            f"(regenerated by `/usr/bin/python3 tests/reference/make_fixtures.py`).\n")
    return cfg_path, st_path


def cli_command(out, layers, d_model, heads, d_mlp, n_ctx, vocab, dtype, seed, prefix,
                untied_lm_head, mask_buffers, eps) -> str:
    parts = ["/usr/bin/python3 models/tools/make_random_gpt2.py", f"--out {out}",
             f"--layers {layers}", f"--d-model {d_model}", f"--heads {heads}"]
    if d_mlp is not None:
        parts.append(f"--d-mlp {d_mlp}")
    parts += [f"--n-ctx {n_ctx}"]
    if vocab != 50257:
        parts.append(f"--vocab {vocab}")
    parts += [f"--dtype {dtype}", f"--seed {seed}"]
    if prefix:
        parts.append(f"--prefix {prefix}")
    if untied_lm_head:
        parts.append("--untied-lm-head")
    if mask_buffers:
        parts.append("--mask-buffers")
    if eps != 1e-5:
        parts.append(f"--eps {eps:g}")
    return " ".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--d-model", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--d-mlp", type=int, default=None, help="default: 4*d_model, written as n_inner null")
    ap.add_argument("--n-ctx", type=int, required=True)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--dtype", choices=sorted(_ST_DTYPE), default="f32")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--prefix", default="", help='e.g. "transformer." (applied to all keys but lm_head)')
    ap.add_argument("--untied-lm-head", action="store_true")
    ap.add_argument("--mask-buffers", action="store_true",
                    help="also write h.{i}.attn.bias [1,1,C,C] and h.{i}.attn.masked_bias [] like old HF files")
    ap.add_argument("--eps", type=float, default=1e-5)
    a = ap.parse_args(argv)
    cfg_path, st_path = write_model(a.out, a.layers, a.d_model, a.heads, a.d_mlp, a.n_ctx, a.vocab,
                                    a.dtype, a.seed, a.prefix, a.untied_lm_head, a.mask_buffers, a.eps)
    print(f"wrote {cfg_path} and {st_path} ({os.path.getsize(st_path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
