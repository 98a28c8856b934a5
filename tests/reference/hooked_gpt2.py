#!/usr/bin/env python3
"""Independent float32 PyTorch reference of TransformerLens v2 `HookedTransformer` for GPT-2.

Written from /work/shared/reference/transformerlens.md (TL v2.18.0 semantics), not from the C++ core:
  * loading an HF GPT-2 directory (config.json + model.safetensors; f32/f16/bf16 upcast to f32;
    optional "transformer." prefix; tied or untied lm_head; old mask buffers ignored)      spec §1.1
  * HF -> TL weight names/shapes                                                          spec §1.1
  * weight processing fold_ln -> center_writing_weights -> center_unembed -> fold_value_biases,
    each switchable                                                                       spec §2
  * a forward pass firing every default TL hook point in TL order (+ optional attn.hook_result),
    run_with_hooks / run_with_cache, loss                                                 spec §1.2, §2
  * ActivationCache analysis: accumulated_resid, decompose_resid, apply_ln_to_stack,
    compute_head_results, stack_head_results, logit_attrs                                 spec §3

Deliberate deviation: TL fires ln1.hook_scale / ln1.hook_normalized three times per block (q, k and
v inputs); this reference fires each once (values are identical; the cache keeps one entry either way).

CLI:
  /usr/bin/python3 tests/reference/hooked_gpt2.py --model models/testdata/tiny-a \
      --prompt "Hello world!" --out /tmp/case [--no-bos] [--no-processing | --processing LIST] \
      [--attn-result] [--self-check]
writes <out>/<hook name>.npy for every hook that fired, <out>/logits.npy (the columns listed in the
manifest's logit_columns) and <out>/manifest.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "models", "tools"))
from safetensors_io import read_safetensors  # noqa: E402

BOS = 50256
PROCESSING_FLAGS = ("fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases")

torch.set_grad_enabled(False)


# --------------------------------------------------------------------------------------------
# Tokenization (js-tiktoken r50k_base through Node; GPT-2's BPE)
# --------------------------------------------------------------------------------------------

def tokenize(texts: Sequence[str]) -> List[List[int]]:
    """Tokenizes each text with js-tiktoken's r50k_base (= GPT-2), special tokens allowed. No BOS."""
    helper = os.path.join(HERE, "tokenize.mjs")
    out = subprocess.run(["node", helper], input=json.dumps(list(texts)).encode("utf-8"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"tokenize.mjs failed: {out.stderr.decode()}")
    return json.loads(out.stdout.decode("utf-8"))


def decode(token_lists: Sequence[Sequence[int]]) -> List[str]:
    helper = os.path.join(HERE, "tokenize.mjs")
    payload = json.dumps({"decode": [[int(t) for t in ts] for ts in token_lists]}).encode("utf-8")
    out = subprocess.run(["node", helper], input=payload, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=False, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"tokenize.mjs failed: {out.stderr.decode()}")
    return json.loads(out.stdout.decode("utf-8"))


def to_tokens(text: str, prepend_bos: bool = True) -> List[int]:
    toks = tokenize([text])[0]
    return ([BOS] if prepend_bos else []) + toks


# --------------------------------------------------------------------------------------------
# Config, loading, HF -> TL conversion
# --------------------------------------------------------------------------------------------

@dataclass
class Config:
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    d_mlp: int
    n_ctx: int
    d_vocab: int
    eps: float
    act_fn: str = "gelu_new"
    attn_only: bool = False  # TL HookedTransformerConfig.attn_only: blocks without ln2/MLP, d_mlp None


def load_hf_dir(model_dir: str) -> Tuple[Config, Dict[str, torch.Tensor], dict]:
    """Reads an HF GPT-2 directory. Returns (cfg, HF-named f32 tensors without prefix, info)."""
    with open(os.path.join(model_dir, "config.json")) as f:
        hf = json.load(f)
    if hf.get("model_type", "gpt2") != "gpt2":
        raise ValueError(f"model_type {hf.get('model_type')!r} is not gpt2")
    if hf.get("activation_function", "gelu_new") != "gelu_new":
        raise ValueError("only activation_function gelu_new is supported")
    if hf.get("scale_attn_by_inverse_layer_idx") or hf.get("reorder_and_upcast_attn"):
        raise ValueError("scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported")
    arrays, _, dtypes = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    prefix = "transformer." if any(k.startswith("transformer.") for k in arrays) else ""
    sd: Dict[str, torch.Tensor] = {}
    ignored = []
    for k, v in arrays.items():
        name = k[len(prefix):] if k.startswith(prefix) else k
        if re.fullmatch(r"h\.\d+\.attn\.(bias|masked_bias)", name):
            ignored.append(k)  # old HF causal-mask buffers: not weights
            continue
        sd[name] = torch.from_numpy(np.asarray(v, dtype=np.float32).copy())
    d_model, n_heads, n_layers = int(hf["n_embd"]), int(hf["n_head"]), int(hf["n_layer"])
    if d_model % n_heads:
        raise ValueError("n_embd not divisible by n_head")
    n_inner = hf.get("n_inner")
    n_ctx = int(sd["wpe.weight"].shape[0])
    if int(hf.get("n_positions", n_ctx)) != n_ctx:
        raise ValueError("n_positions disagrees with wpe.weight")
    attn_only = bool(hf.get("attn_only", False))
    if attn_only and any(re.fullmatch(r"h\.\d+\.(mlp|ln_2)\..*", k) for k in sd):
        # TL's strict load_state_dict refuses keys the attn_only model has no parameter for.
        raise ValueError("attn_only model has MLP/ln_2 weights")
    cfg = Config(n_layers=n_layers, d_model=d_model, n_heads=n_heads, d_head=d_model // n_heads,
                 d_mlp=0 if attn_only else int(n_inner) if n_inner is not None else 4 * d_model, n_ctx=n_ctx,
                 d_vocab=int(hf["vocab_size"]), eps=float(hf.get("layer_norm_epsilon", 1e-5)),
                 attn_only=attn_only)
    tied = bool(hf.get("tie_word_embeddings", True))
    if tied:
        sd.pop("lm_head.weight", None)  # tied: HF ignores a stored lm_head, it is wte
    elif "lm_head.weight" not in sd:
        raise ValueError("tie_word_embeddings is false but lm_head.weight is missing")
    info = {"prefix": prefix, "tied": tied, "ignored": ignored,
            "dtypes": sorted(set(dtypes.values())), "hf_config": hf}
    return cfg, sd, info


def hf_to_tl(cfg: Config, sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """HF GPT-2 (Conv1D layout) -> TL state dict names and shapes (unprocessed)."""
    D, H, Dh = cfg.d_model, cfg.n_heads, cfg.d_head
    tl: Dict[str, torch.Tensor] = {}
    tl["embed.W_E"] = sd["wte.weight"].clone()
    tl["pos_embed.W_pos"] = sd["wpe.weight"].clone()
    for l in range(cfg.n_layers):
        p, b = f"h.{l}.", f"blocks.{l}."
        tl[b + "ln1.w"] = sd[p + "ln_1.weight"].clone()
        tl[b + "ln1.b"] = sd[p + "ln_1.bias"].clone()
        W = sd[p + "attn.c_attn.weight"]  # [D, 3D], y = x @ W + bias, columns [q | k | v]
        bias = sd[p + "attn.c_attn.bias"]
        for j, n in enumerate("QKV"):
            Wj = W[:, j * D:(j + 1) * D]  # "m (i h) -> i m h"
            tl[b + f"attn.W_{n}"] = Wj.reshape(D, H, Dh).permute(1, 0, 2).contiguous()
            tl[b + f"attn.b_{n}"] = bias[j * D:(j + 1) * D].reshape(H, Dh).clone()
        tl[b + "attn.W_O"] = sd[p + "attn.c_proj.weight"].reshape(H, Dh, D).clone()  # "(i h) m -> i h m"
        tl[b + "attn.b_O"] = sd[p + "attn.c_proj.bias"].clone()
        if cfg.attn_only:
            continue
        tl[b + "ln2.w"] = sd[p + "ln_2.weight"].clone()
        tl[b + "ln2.b"] = sd[p + "ln_2.bias"].clone()
        tl[b + "mlp.W_in"] = sd[p + "mlp.c_fc.weight"].clone()
        tl[b + "mlp.b_in"] = sd[p + "mlp.c_fc.bias"].clone()
        tl[b + "mlp.W_out"] = sd[p + "mlp.c_proj.weight"].clone()
        tl[b + "mlp.b_out"] = sd[p + "mlp.c_proj.bias"].clone()
    tl["ln_final.w"] = sd["ln_f.weight"].clone()
    tl["ln_final.b"] = sd["ln_f.bias"].clone()
    lm = sd.get("lm_head.weight", sd["wte.weight"])
    tl["unembed.W_U"] = lm.t().contiguous().clone()
    tl["unembed.b_U"] = torch.zeros(cfg.d_vocab)
    return tl


# --------------------------------------------------------------------------------------------
# Weight processing (spec §2; same order as TL load_and_process_state_dict)
# --------------------------------------------------------------------------------------------

def fold_layer_norm(sd: Dict[str, torch.Tensor], cfg: Config) -> None:
    """fold_ln with fold_biases=True, center_weights=True (the LN path TL takes for GPT-2)."""
    for l in range(cfg.n_layers):
        b = f"blocks.{l}."
        w1, b1 = sd.pop(b + "ln1.w"), sd.pop(b + "ln1.b")
        for n in "QKV":
            W = sd[b + f"attn.W_{n}"]  # [H, D, Dh]
            sd[b + f"attn.b_{n}"] = sd[b + f"attn.b_{n}"] + (W * b1[None, :, None]).sum(-2)
            W = W * w1[None, :, None]
            sd[b + f"attn.W_{n}"] = W - W.mean(dim=1, keepdim=True)  # centre along d_model
        if cfg.attn_only:
            continue
        w2, b2 = sd.pop(b + "ln2.w"), sd.pop(b + "ln2.b")
        W = sd[b + "mlp.W_in"]  # [D, M]
        sd[b + "mlp.b_in"] = sd[b + "mlp.b_in"] + (W * b2[:, None]).sum(-2)
        W = W * w2[:, None]
        sd[b + "mlp.W_in"] = W - W.mean(dim=0, keepdim=True)
    wf, bf = sd.pop("ln_final.w"), sd.pop("ln_final.b")
    W = sd["unembed.W_U"]  # [D, V]
    sd["unembed.b_U"] = sd["unembed.b_U"] + (W * bf[:, None]).sum(dim=-2)
    W = W * wf[:, None]
    sd["unembed.W_U"] = W - W.mean(dim=0, keepdim=True)


def center_writing_weights(sd: Dict[str, torch.Tensor], cfg: Config) -> None:
    sd["embed.W_E"] = sd["embed.W_E"] - sd["embed.W_E"].mean(-1, keepdim=True)
    sd["pos_embed.W_pos"] = sd["pos_embed.W_pos"] - sd["pos_embed.W_pos"].mean(-1, keepdim=True)
    for l in range(cfg.n_layers):
        b = f"blocks.{l}."
        sd[b + "attn.W_O"] = sd[b + "attn.W_O"] - sd[b + "attn.W_O"].mean(-1, keepdim=True)
        sd[b + "attn.b_O"] = sd[b + "attn.b_O"] - sd[b + "attn.b_O"].mean()
        if cfg.attn_only:
            continue
        sd[b + "mlp.W_out"] = sd[b + "mlp.W_out"] - sd[b + "mlp.W_out"].mean(-1, keepdim=True)
        sd[b + "mlp.b_out"] = sd[b + "mlp.b_out"] - sd[b + "mlp.b_out"].mean()


def center_unembed(sd: Dict[str, torch.Tensor], cfg: Config) -> None:
    sd["unembed.W_U"] = sd["unembed.W_U"] - sd["unembed.W_U"].mean(-1, keepdim=True)
    sd["unembed.b_U"] = sd["unembed.b_U"] - sd["unembed.b_U"].mean()


def fold_value_biases(sd: Dict[str, torch.Tensor], cfg: Config) -> None:
    for l in range(cfg.n_layers):
        b = f"blocks.{l}."
        b_V, W_O = sd[b + "attn.b_V"], sd[b + "attn.W_O"]  # [H, Dh], [H, Dh, D]
        sd[b + "attn.b_O"] = sd[b + "attn.b_O"] + (b_V[:, :, None] * W_O).sum([0, 1])
        sd[b + "attn.b_V"] = torch.zeros_like(b_V)


def parse_processing(processing: Union[str, Dict[str, bool], None]) -> Dict[str, bool]:
    """"default" = all four flags (from_pretrained), "none" = none (from_pretrained_no_processing),
    or a comma-separated list of the flags to enable, or a dict."""
    if processing is None or processing == "default":
        return {f: True for f in PROCESSING_FLAGS}
    if processing == "none" or processing == "":
        return {f: False for f in PROCESSING_FLAGS}
    if isinstance(processing, dict):
        bad = set(processing) - set(PROCESSING_FLAGS)
        if bad:
            raise ValueError(f"unknown processing flags {bad}")
        return {f: bool(processing.get(f, False)) for f in PROCESSING_FLAGS}
    flags = [s.strip() for s in processing.split(",") if s.strip()]
    bad = set(flags) - set(PROCESSING_FLAGS)
    if bad:
        raise ValueError(f"unknown processing flags {bad}")
    return {f: f in flags for f in PROCESSING_FLAGS}


def process_weights(sd: Dict[str, torch.Tensor], cfg: Config, flags: Dict[str, bool]) -> str:
    """Processes sd in place in TL's order. Returns the normalization type ("LN" or "LNPre")."""
    if flags["fold_ln"]:
        fold_layer_norm(sd, cfg)
    if flags["center_writing_weights"]:
        center_writing_weights(sd, cfg)  # GPT-2 is an LN model, so TL applies it with or without fold_ln
    if flags["center_unembed"]:
        center_unembed(sd, cfg)
    if flags["fold_value_biases"]:
        fold_value_biases(sd, cfg)
    return "LNPre" if flags["fold_ln"] else "LN"


# --------------------------------------------------------------------------------------------
# Hook names (TL get_act_name subset)
# --------------------------------------------------------------------------------------------

_ALIASES = {"attn": "pattern", "attn_logits": "attn_scores", "key": "k", "query": "q", "value": "v",
            "mlp_pre": "pre", "mlp_mid": "mid", "mlp_post": "post"}
_LAYER_TYPE_ALIASES = {"a": "attn", "m": "mlp", "b": "", "block": "", "blocks": "", "attention": "attn"}


def get_act_name(name: str, layer: Optional[int] = None, layer_type: Optional[str] = None) -> str:
    """TL utils.get_act_name: 'k6' -> blocks.6.attn.hook_k, ('resid_pre', 0) -> blocks.0.hook_resid_pre."""
    if ("." in name or name.startswith("hook_")) and layer is None and layer_type is None:
        return name
    m = re.match(r"([a-z]+)(\d+)([a-z]?.*)", name)
    if m is not None:
        name, layer, layer_type = m.group(1), int(m.group(2)), m.group(3)
    name = _ALIASES.get(name, name)
    full = f"blocks.{layer}." if layer is not None else ""
    if name in ("k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores"):
        layer_type = "attn"
    elif name in ("pre", "post", "mid", "pre_linear"):
        layer_type = "mlp"
    elif layer_type in _LAYER_TYPE_ALIASES:
        layer_type = _LAYER_TYPE_ALIASES[layer_type]
    if layer_type:
        full += f"{layer_type}."
    full += f"hook_{name}"
    if name in ("scale", "normalized") and layer is None:
        full = "ln_final." + full
    return full


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

HookFn = Callable[[torch.Tensor, str], Optional[torch.Tensor]]
HookSpec = Tuple[Union[str, Callable[[str], bool]], HookFn]


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class HookedGPT2:
    """GPT-2 with TL hook points. Hook functions are fn(tensor, hook_name) -> tensor | None
    (return a tensor to replace the activation; None keeps it, in-place edits also count)."""

    def __init__(self, cfg: Config, weights: Dict[str, torch.Tensor], normalization_type: str,
                 use_attn_result: bool = False, processing: Optional[Dict[str, bool]] = None):
        self.cfg = cfg
        self.w = weights
        self.normalization_type = normalization_type
        self.use_attn_result = use_attn_result
        self.processing = processing or {}
        self._hooks: List[HookSpec] = []

    @classmethod
    def from_dir(cls, model_dir: str, processing: Union[str, Dict[str, bool], None] = "default",
                 use_attn_result: bool = False, dtype: torch.dtype = torch.float32) -> "HookedGPT2":
        """dtype=torch.float64 is for self-checks only; fixtures are float32 (weights upcast
        from the file's dtype to float32 before conversion and processing, as the lab does)."""
        cfg, sd, info = load_hf_dir(model_dir)
        tl = {k: v.to(dtype) for k, v in hf_to_tl(cfg, sd).items()}
        flags = parse_processing(processing)
        norm = process_weights(tl, cfg, flags)
        m = cls(cfg, tl, norm, use_attn_result, flags)
        m.model_dir = model_dir
        m.load_info = info
        return m

    # hooklab's f16 weight storage (LoadOptions::weight_precision, the lab's "f16 weights"): the
    # processed matrices W_Q, W_K, W_V, W_O, W_in, W_out, W_U and the token embedding W_E rounded
    # to the nearest f16 (ties to even: torch's .half()) and computed with as before; W_pos,
    # biases and LayerNorm weights keep their precision.
    F16_MATRICES = ("attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O", "mlp.W_in", "mlp.W_out", "unembed.W_U",
                    "embed.W_E")

    def round_matrices_to_f16(self) -> "HookedGPT2":
        for k in list(self.w):
            if k.endswith(self.F16_MATRICES) and k.split(".")[0] in ("blocks", "unembed", "embed"):
                if self.w[k].abs().max().item() > 65504.0:
                    raise ValueError(f"{k} is outside the f16 range")
                self.w[k] = self.w[k].half().to(self.w[k].dtype)
        return self

    def to_dtype(self, dtype: torch.dtype) -> "HookedGPT2":
        """The same (already processed) weights in another dtype, e.g. a float64 check of a float32 model."""
        m = HookedGPT2(self.cfg, {k: v.to(dtype) for k, v in self.w.items()}, self.normalization_type,
                       self.use_attn_result, self.processing)
        m.model_dir = getattr(self, "model_dir", None)
        return m

    # ---- weight accessors (TL names) ----
    def W(self, name: str) -> torch.Tensor:
        return self.w[name]

    @property
    def W_U(self) -> torch.Tensor:
        return self.w["unembed.W_U"]

    @property
    def b_U(self) -> torch.Tensor:
        return self.w["unembed.b_U"]

    def hook_names(self) -> List[str]:
        """Every hook that fires, in firing order (ln1 hooks listed once, see module doc)."""
        names = ["hook_embed", "hook_pos_embed"]
        for l in range(self.cfg.n_layers):
            b = f"blocks.{l}."
            names += [b + "hook_resid_pre", b + "ln1.hook_scale", b + "ln1.hook_normalized",
                      b + "attn.hook_q", b + "attn.hook_k", b + "attn.hook_v",
                      b + "attn.hook_attn_scores", b + "attn.hook_pattern", b + "attn.hook_z"]
            if self.use_attn_result:
                names.append(b + "attn.hook_result")
            if self.cfg.attn_only:
                names += [b + "hook_attn_out", b + "hook_resid_post"]
                continue
            names += [b + "hook_attn_out", b + "hook_resid_mid", b + "ln2.hook_scale",
                      b + "ln2.hook_normalized", b + "mlp.hook_pre", b + "mlp.hook_post",
                      b + "hook_mlp_out", b + "hook_resid_post"]
        names += ["ln_final.hook_scale", "ln_final.hook_normalized"]
        return names

    # ---- hooks ----
    def _hook(self, name: str, x: torch.Tensor) -> torch.Tensor:
        for sel, fn in self._hooks:
            if (sel == name) if isinstance(sel, str) else sel(name):
                r = fn(x, name)
                if r is not None:
                    x = r
        return x

    def _check_hooks(self, hooks: Sequence[HookSpec]) -> None:
        valid = set(self.hook_names())
        for sel, _ in hooks:
            if isinstance(sel, str) and sel not in valid:
                raise ValueError(f"no hook point {sel!r} fires in this configuration")

    # ---- components ----
    def _ln(self, x: torch.Tensor, prefix: str, w: Optional[torch.Tensor], b: Optional[torch.Tensor]) -> torch.Tensor:
        x = x - x.mean(-1, keepdim=True)
        scale = self._hook(prefix + "hook_scale", (x.pow(2).mean(-1, keepdim=True) + self.cfg.eps).sqrt())
        x = x / scale
        if self.normalization_type == "LN":
            x = x * w + b
        return self._hook(prefix + "hook_normalized", x)

    def _ln_named(self, x: torch.Tensor, mod: str) -> torch.Tensor:
        if self.normalization_type == "LN":
            return self._ln(x, mod + ".", self.w[mod + ".w"], self.w[mod + ".b"])
        return self._ln(x, mod + ".", None, None)

    def _attn(self, x: torch.Tensor, l: int) -> torch.Tensor:
        b = f"blocks.{l}.attn."
        w = self.w
        P = x.shape[1]
        q = self._hook(b + "hook_q", torch.einsum("bpm,hmd->bphd", x, w[b + "W_Q"]) + w[b + "b_Q"])
        k = self._hook(b + "hook_k", torch.einsum("bpm,hmd->bphd", x, w[b + "W_K"]) + w[b + "b_K"])
        v = self._hook(b + "hook_v", torch.einsum("bpm,hmd->bphd", x, w[b + "W_V"]) + w[b + "b_V"])
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.cfg.d_head)
        mask = torch.ones(P, P, dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, -math.inf)
        scores = self._hook(b + "hook_attn_scores", scores)
        pattern = torch.softmax(scores, dim=-1)
        pattern = torch.where(torch.isnan(pattern), torch.zeros_like(pattern), pattern)
        pattern = self._hook(b + "hook_pattern", pattern)
        z = self._hook(b + "hook_z", torch.einsum("bhqk,bkhd->bqhd", pattern, v))
        if self.use_attn_result:
            result = self._hook(b + "hook_result", torch.einsum("bphd,hdm->bphm", z, w[b + "W_O"]))
            return result.sum(dim=-2) + w[b + "b_O"]
        return torch.einsum("bphd,hdm->bpm", z, w[b + "W_O"]) + w[b + "b_O"]

    def _mlp(self, x: torch.Tensor, l: int) -> torch.Tensor:
        b = f"blocks.{l}.mlp."
        pre = self._hook(b + "hook_pre", x @ self.w[b + "W_in"] + self.w[b + "b_in"])
        post = self._hook(b + "hook_post", gelu_new(pre))
        return post @ self.w[b + "W_out"] + self.w[b + "b_out"]

    def forward(self, tokens, fwd_hooks: Sequence[HookSpec] = ()) -> torch.Tensor:
        tokens = torch.as_tensor(tokens, dtype=torch.long)
        if tokens.ndim == 1:
            tokens = tokens[None]
        Bsz, P = tokens.shape
        if P > self.cfg.n_ctx:
            raise ValueError(f"{P} tokens exceed n_ctx {self.cfg.n_ctx}")
        self._check_hooks(fwd_hooks)
        self._hooks = list(fwd_hooks)
        try:
            w = self.w
            embed = self._hook("hook_embed", w["embed.W_E"][tokens])
            pos = self._hook("hook_pos_embed", w["pos_embed.W_pos"][:P][None].expand(Bsz, P, -1).clone())
            resid = embed + pos
            for l in range(self.cfg.n_layers):
                b = f"blocks.{l}."
                resid = self._hook(b + "hook_resid_pre", resid)
                attn_out = self._hook(b + "hook_attn_out", self._attn(self._ln_named(resid, b + "ln1"), l))
                if self.cfg.attn_only:  # TL: resid_post = hook_resid_post(attn_out + resid_pre)
                    resid = self._hook(b + "hook_resid_post", resid + attn_out)
                    continue
                resid = self._hook(b + "hook_resid_mid", resid + attn_out)
                mlp_out = self._hook(b + "hook_mlp_out", self._mlp(self._ln_named(resid, b + "ln2"), l))
                resid = self._hook(b + "hook_resid_post", resid + mlp_out)
            x = self._ln_named(resid, "ln_final")
            return x @ w["unembed.W_U"] + w["unembed.b_U"]
        finally:
            self._hooks = []

    __call__ = forward

    def run_with_hooks(self, tokens, fwd_hooks: Sequence[HookSpec] = ()) -> torch.Tensor:
        return self.forward(tokens, fwd_hooks)

    def run_with_cache(self, tokens, names_filter=None,
                       fwd_hooks: Sequence[HookSpec] = ()) -> Tuple[torch.Tensor, "ActivationCache"]:
        """Caches every fired hook (after any user hooks on the same point). names_filter: None,
        a name, a list of names or a predicate."""
        if names_filter is None:
            keep = lambda n: True  # noqa: E731
        elif isinstance(names_filter, str):
            keep = lambda n: n == names_filter  # noqa: E731
        elif callable(names_filter):
            keep = names_filter
        else:
            s = set(names_filter)
            keep = lambda n: n in s  # noqa: E731
        store: Dict[str, torch.Tensor] = {}

        def save(t, name):
            store[name] = t.detach().clone()

        logits = self.forward(tokens, list(fwd_hooks) + [(keep, save)])
        return logits, ActivationCache(store, self)

    # ---- utilities ----
    def tokens_to_residual_directions(self, tokens) -> torch.Tensor:
        """W_U[:, token] -> [D] for an int, [..., D] for a list/tensor of ids."""
        t = torch.as_tensor(tokens, dtype=torch.long)
        return self.W_U[:, t].movedim(0, -1)


def loss_fn(logits: torch.Tensor, tokens, per_token: bool = False) -> torch.Tensor:
    """TL lm_cross_entropy_loss: mean (or per-token [B, P-1]) next-token cross-entropy."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.ndim == 1:
        tokens = tokens[None]
    log_probs = torch.log_softmax(logits, dim=-1)
    pred = log_probs[..., :-1, :].gather(dim=-1, index=tokens[..., 1:, None])[..., 0]
    return -pred if per_token else -pred.mean()


# --------------------------------------------------------------------------------------------
# ActivationCache (spec §3; the methods the lab's analysis views use)
# --------------------------------------------------------------------------------------------

def _pos_apply(x: torch.Tensor, pos_slice, dim: int) -> torch.Tensor:
    """TL utils.Slice.apply subset: None = identity, int = index (drops the dim), slice, list."""
    if pos_slice is None:
        return x
    if isinstance(pos_slice, int):
        return x.select(dim, pos_slice if pos_slice >= 0 else x.shape[dim] + pos_slice)
    if isinstance(pos_slice, slice):
        idx = torch.arange(x.shape[dim])[pos_slice]
        return x.index_select(dim if dim >= 0 else x.ndim + dim, idx)
    return x.index_select(dim if dim >= 0 else x.ndim + dim, torch.as_tensor(pos_slice, dtype=torch.long))


class ActivationCache:
    def __init__(self, cache_dict: Dict[str, torch.Tensor], model: HookedGPT2):
        self.cache_dict = cache_dict
        self.model = model
        self.has_embed = "hook_embed" in cache_dict
        self.has_pos_embed = "hook_pos_embed" in cache_dict

    def __getitem__(self, key) -> torch.Tensor:
        if isinstance(key, str):
            return self.cache_dict[key] if key in self.cache_dict else self.cache_dict[get_act_name(key)]
        key = tuple(key)
        if len(key) > 1 and key[1] is not None and key[1] < 0:
            key = (key[0], self.model.cfg.n_layers + key[1], *key[2:])
        return self.cache_dict[get_act_name(*key)]

    def __contains__(self, k) -> bool:
        return k in self.cache_dict

    def keys(self):
        return self.cache_dict.keys()

    def items(self):
        return self.cache_dict.items()

    def __len__(self):
        return len(self.cache_dict)

    def apply_ln_to_stack(self, residual_stack: torch.Tensor, layer: Optional[int] = None,
                          mlp_input: bool = False, pos_slice=None, recompute_ln: bool = False) -> torch.Tensor:
        """Stack has the batch dim: [n_components, batch, (pos,) d_model]."""
        L = self.model.cfg.n_layers
        if layer is None or layer == -1:
            layer = L
        if recompute_ln and layer == L:
            # logit lens (v2.18): run ln_final (LNPre after fold_ln; LN with w, b otherwise) per component
            out = []
            for i in range(residual_stack.shape[0]):
                x = residual_stack[i]
                shape = x.shape
                if x.ndim == 2:
                    x = x.unsqueeze(1)
                x = x - x.mean(-1, keepdim=True)
                x = x / (x.pow(2).mean(-1, keepdim=True) + self.model.cfg.eps).sqrt()
                if self.model.normalization_type == "LN":
                    x = x * self.model.w["ln_final.w"] + self.model.w["ln_final.b"]
                out.append(x.reshape(shape))
            return torch.stack(out, dim=0)
        residual_stack = residual_stack - residual_stack.mean(dim=-1, keepdim=True)
        if layer == L:
            scale = self["ln_final.hook_scale"]
        else:
            scale = self[f"blocks.{layer}.ln{2 if mlp_input else 1}.hook_scale"]
        scale = _pos_apply(scale, pos_slice, dim=-2)
        return residual_stack / scale

    def accumulated_resid(self, layer: Optional[int] = None, incl_mid: bool = False, apply_ln: bool = False,
                          pos_slice=None, mlp_input: bool = False, return_labels: bool = False):
        L = self.model.cfg.n_layers
        if layer is None or layer == -1:
            layer = L
        comps, labels = [], []
        for l in range(layer + 1):
            if l == L:
                comps.append(self[("resid_post", L - 1)])
                labels.append("final_post")
                continue
            comps.append(self[("resid_pre", l)])
            labels.append(f"{l}_pre")
            if (incl_mid and l < layer) or (mlp_input and l == layer):
                comps.append(self[("resid_mid", l)])
                labels.append(f"{l}_mid")
        comps = torch.stack([_pos_apply(c, pos_slice, -2) for c in comps], dim=0)
        if apply_ln:
            comps = self.apply_ln_to_stack(comps, layer, pos_slice=pos_slice, mlp_input=mlp_input,
                                           recompute_ln=(layer == L))
        return (comps, labels) if return_labels else comps

    def decompose_resid(self, layer: Optional[int] = None, mlp_input: bool = False, mode: str = "all",
                        apply_ln: bool = False, pos_slice=None, incl_embeds: bool = True,
                        return_labels: bool = False):
        L = self.model.cfg.n_layers
        if layer is None or layer == -1:
            layer = L
        incl_attn, incl_mlp = mode != "mlp", mode != "attn"
        comps, labels = [], []
        if incl_embeds:
            if self.has_embed:
                comps.append(self["hook_embed"])
                labels.append("embed")
            if self.has_pos_embed:
                comps.append(self["hook_pos_embed"])
                labels.append("pos_embed")
        for l in range(layer):
            if incl_attn:
                comps.append(self[("attn_out", l)])
                labels.append(f"{l}_attn_out")
            if incl_mlp:
                comps.append(self[("mlp_out", l)])
                labels.append(f"{l}_mlp_out")
        if mlp_input and incl_attn:
            comps.append(self[("attn_out", layer)])
            labels.append(f"{layer}_attn_out")
        comps = torch.stack([_pos_apply(c, pos_slice, -2) for c in comps], dim=0)
        if apply_ln:
            comps = self.apply_ln_to_stack(comps, layer, pos_slice=pos_slice, mlp_input=mlp_input)
        return (comps, labels) if return_labels else comps

    def compute_head_results(self) -> None:
        for l in range(self.model.cfg.n_layers):
            key = f"blocks.{l}.attn.hook_result"
            if key in self.cache_dict:
                continue
            z = self[("z", l, "attn")]
            self.cache_dict[key] = torch.einsum("bphd,hdm->bphm", z, self.model.w[f"blocks.{l}.attn.W_O"])

    def stack_head_results(self, layer: int = -1, return_labels: bool = False, incl_remainder: bool = False,
                           pos_slice=None, apply_ln: bool = False):
        L, H = self.model.cfg.n_layers, self.model.cfg.n_heads
        if layer is None or layer == -1:
            layer = L
        self.compute_head_results()
        comps, labels = [], []
        for l in range(layer):
            comps.append(_pos_apply(self[("result", l, "attn")], pos_slice, -3))
            labels += [f"L{l}H{h}" for h in range(H)]
        comps = torch.cat(comps, dim=-2)  # [..., L*H, D]
        comps = comps.movedim(-2, 0)
        if incl_remainder:
            rem = _pos_apply(self[("resid_post", layer - 1)], pos_slice, -2) - comps.sum(0)
            comps = torch.cat([comps, rem[None]], 0)
            labels.append("remainder")
        if apply_ln:
            comps = self.apply_ln_to_stack(comps, layer, pos_slice=pos_slice)
        return (comps, labels) if return_labels else comps

    def logit_attrs(self, residual_stack: torch.Tensor, tokens, incorrect_tokens=None, pos_slice=None) -> torch.Tensor:
        d = self.model.tokens_to_residual_directions(tokens)
        if incorrect_tokens is not None:
            d = d - self.model.tokens_to_residual_directions(incorrect_tokens)
        scaled = self.apply_ln_to_stack(residual_stack, -1, pos_slice=pos_slice)
        return (scaled * d).sum(-1)


# --------------------------------------------------------------------------------------------
# Output of one forward case (CLI and make_fixtures)
# --------------------------------------------------------------------------------------------

def f32(x) -> float:
    """A float32 value as the float64 it equals exactly (json prints the shortest round-trip repr)."""
    return float(np.float32(x))


def dump_json(obj, path: str) -> None:
    """JSON with dict keys one per line and numeric lists kept on one line (rows of nested lists
    one per line). Floats print as Python's repr of the float64 equal to each float32 value."""
    def enc(o, ind):
        pad = " " * ind
        if isinstance(o, dict):
            if not o:
                return "{}"
            items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {enc(v, ind + 1)}' for k, v in o.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(o, (list, tuple)):
            if all(not isinstance(x, (dict, list, tuple)) for x in o):
                return json.dumps(list(o), ensure_ascii=False, allow_nan=False)
            if all(isinstance(x, (list, tuple)) and all(not isinstance(y, (dict, list, tuple)) for y in x) for x in o):
                return "[\n" + ",\n".join(pad + "  " + json.dumps(list(x), allow_nan=False) for x in o) + "\n" + pad + "]"
            return "[\n" + ",\n".join(pad + "  " + enc(x, ind + 2) for x in o) + "\n" + pad + "]"
        return json.dumps(o, ensure_ascii=False, allow_nan=False)
    with open(path, "w", encoding="utf-8") as f:
        f.write(enc(obj, 0) + "\n")


def logit_columns(logits: torch.Tensor) -> List[int]:
    """The vocabulary columns a fixture keeps of logits [1, P, V]: both ends of the vocabulary (where a
    kernel's tile edges fall), every 61st column between them, and each position's 16 largest logits.
    Full-vocabulary logits were 88 % of the forward fixtures' bytes; the loss per token in the manifest
    still checks the log-sum-exp over every column."""
    vocab = logits.shape[-1]
    keep = set(range(min(256, vocab))) | set(range(max(0, vocab - 256), vocab)) | set(range(0, vocab, 61))
    keep |= {int(i) for i in torch.topk(logits[0], min(16, vocab), dim=-1).indices.flatten().tolist()}
    return sorted(keep)


def run_case(model: HookedGPT2, tokens: Sequence[int], out_dir: str, extra: Optional[dict] = None) -> dict:
    """Runs one cached forward and writes <hook>.npy, logits.npy and manifest.json into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy") or f == "manifest.json":
            os.remove(os.path.join(out_dir, f))
    logits, cache = model.run_with_cache(list(tokens))
    hooks = []
    for name in model.hook_names():
        arr = cache[name].numpy().astype("<f4", copy=False)
        np.save(os.path.join(out_dir, name + ".npy"), np.ascontiguousarray(arr))
        hooks.append({"name": name, "shape": list(arr.shape)})
    columns = logit_columns(logits)
    kept = logits[..., columns]
    np.save(os.path.join(out_dir, "logits.npy"), np.ascontiguousarray(kept.numpy().astype("<f4")))
    loss = loss_fn(logits, tokens)
    per_tok = loss_fn(logits, tokens, per_token=True)[0]
    man = {"tokens": [int(t) for t in tokens], "hooks": hooks,
           "logits_shape": list(logits.shape), "logit_columns": columns,
           "loss": f32(loss.item()), "loss_per_token": [f32(v) for v in per_tok.tolist()],
           "processing": model.processing, "normalization_type": model.normalization_type,
           "attn_result": model.use_attn_result}
    if extra:
        man.update(extra)
    dump_json(man, os.path.join(out_dir, "manifest.json"))
    return man


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF GPT-2 directory (config.json + model.safetensors)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--tokens", help="comma-separated token ids (used as given; no BOS added)")
    g.add_argument("--prompt", help="text, tokenized with js-tiktoken r50k_base; BOS prepended unless --no-bos")
    ap.add_argument("--no-bos", action="store_true")
    pg = ap.add_mutually_exclusive_group()
    pg.add_argument("--no-processing", action="store_true", help="from_pretrained_no_processing")
    pg.add_argument("--processing", default="default",
                    help='"default", "none" or a comma list of ' + ",".join(PROCESSING_FLAGS))
    ap.add_argument("--attn-result", action="store_true", help="use_attn_result: also fire attn.hook_result")
    ap.add_argument("--out", required=True)
    ap.add_argument("--self-check", action="store_true", help="run the invariance self-check first")
    a = ap.parse_args(argv)
    if a.tokens is not None:
        tokens = [int(t) for t in a.tokens.split(",") if t.strip()]
    else:
        tokens = to_tokens(a.prompt, prepend_bos=not a.no_bos)
    processing = "none" if a.no_processing else a.processing
    if a.self_check:
        import selfcheck
        selfcheck.check_model_forward(a.model, tokens, verbose=True)
    model = HookedGPT2.from_dir(a.model, processing, use_attn_result=a.attn_result)
    extra = {"model": a.model}
    if a.prompt is not None:
        extra.update({"prompt": a.prompt, "prepend_bos": not a.no_bos})
    man = run_case(model, tokens, a.out, extra)
    print(f"{len(man['hooks'])} hooks, {len(tokens)} tokens, loss {man['loss']:.6f} -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
