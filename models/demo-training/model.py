"""A GPT-2 (HF GPT2LMHeadModel semantics) small enough to train on 2 CPU cores.

Training-only tricks (the exported weights are a plain GPT-2):
  * Restricted output vocabulary: the data uses only `n_active` distinct GPT-2 ids, so
    the tied embedding is kept as an [n_active, D] matrix of just those rows, plus ONE
    shared learned row `wte_unseen` that stands for all n_unseen other ids (exported as
    that row plus 1e-3 noise). The loss adds log(n_unseen) + logit(wte_unseen) to the
    softmax normaliser, which is exactly those rows' share of the full 50257-way softmax,
    so the loss we train is the exported model's full-vocabulary loss, and the model
    learns to keep never-seen ids far below the trained ones. (With never-seen rows fixed
    at ~0 instead, every trained id first has to climb above logit 0, which in our tests
    stalled the copying/induction circuits for hundreds of steps.)
  * Packed documents: several short documents share one row of n_ctx tokens, but each
    token only attends within its own document and positions restart at 0 for every
    document. That is exactly equivalent to running each document on its own, which is
    how the lab runs prompts (BOS at position 0).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 50257


class Config:
    def __init__(self, n_layer=4, n_head=4, n_embd=128, n_inner=512, n_ctx=128):
        self.n_layer, self.n_head, self.n_embd, self.n_inner, self.n_ctx = n_layer, n_head, n_embd, n_inner, n_ctx

    def hf_config(self):
        return {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "vocab_size": VOCAB_SIZE,
            "n_positions": self.n_ctx,
            "n_ctx": self.n_ctx,
            "n_embd": self.n_embd,
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_inner": self.n_inner,
            "activation_function": "gelu_new",
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "layer_norm_epsilon": 1e-5,
            "initializer_range": 0.02,
            "scale_attn_weights": True,
            "tie_word_embeddings": True,
            "bos_token_id": 50256,
            "eos_token_id": 50256,
            "torch_dtype": "float16",
        }

    @staticmethod
    def from_hf(cfg):
        return Config(cfg["n_layer"], cfg["n_head"], cfg["n_embd"], cfg.get("n_inner") or 4 * cfg["n_embd"],
                      cfg["n_positions"])


EMBED_STD = 0.1


def sinusoid_init(n_ctx, d, norm=EMBED_STD * math.sqrt(128)):
    """Initial value for the learned positional embedding: Transformer sinusoids, rescaled to
    the norm of a random token embedding. Still a plain learned wpe, but previous-token heads
    (needed for induction) form far sooner than from a random start."""
    pos = torch.arange(n_ctx, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)
    pe = torch.zeros(n_ctx, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe * (norm / math.sqrt(d / 2))


class Conv1D(nn.Module):
    """HF GPT-2 linear layer: y = x @ W + b with W stored as [in, out]."""

    def __init__(self, n_in, n_out, std=0.02):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, resid_std = cfg.n_embd, 0.02 / math.sqrt(2 * cfg.n_layer)  # GPT-2's scaled init for residual writers
        self.n_head = cfg.n_head
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.c_attn = Conv1D(d, 3 * d)
        self.attn_c_proj = Conv1D(d, d, resid_std)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.c_fc = Conv1D(d, cfg.n_inner)
        self.mlp_c_proj = Conv1D(cfg.n_inner, d, resid_std)

    def attention(self, x, mask, hooks=None, layer=None):
        B, T, D = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(D, dim=-1)
        q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))  # [B,H,T,dh]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(D // H)
        scores = scores.masked_fill(~mask[:, None], float("-inf"))
        pattern = scores.softmax(-1)
        if hooks is not None and "pattern" in hooks:
            hooks["pattern"](layer, pattern)
        z = (pattern @ v).transpose(1, 2)  # [B,T,H,dh], TransformerLens's hook_z layout
        if hooks is not None and "z" in hooks:
            hooks["z"](layer, z)
        return self.attn_c_proj(z.reshape(B, T, D))

    def forward(self, x, mask, hooks=None, layer=None):
        x = x + self.attention(self.ln_1(x), mask, hooks, layer)
        return x + self.mlp_c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))  # gelu_new


class GPT2(nn.Module):
    def __init__(self, cfg, n_vocab_rows):
        super().__init__()
        self.cfg = cfg
        # tied in/out embedding. std 0.1 (not GPT-2's 0.02): with tiny embeddings the largest
        # reachable logit is ~|ln_f out| * |e| ~ 2.6, so copying circuits had to wait for the
        # norms to grow first.
        self.wte = nn.Parameter(torch.randn(n_vocab_rows, cfg.n_embd) * EMBED_STD)
        self.wte_unseen = nn.Parameter(torch.zeros(cfg.n_embd))  # used only by full_vocab_loss
        self.wpe = nn.Parameter(sinusoid_init(cfg.n_ctx, cfg.n_embd))
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=1e-5)

    def forward(self, idx, pos=None, mask=None, hooks=None):
        """idx [B,T] row indices into self.wte. pos/mask default to one document per row.
        hooks: optional dict {"resid_pre": f(layer, x) -> x or None, "pattern": f(layer, p [B,H,Q,K]),
        "z": f(layer, z [B,T,H,dh])}, a tiny stand-in for TransformerLens hook points."""
        B, T = idx.shape
        if pos is None:
            pos = torch.arange(T).expand(B, T)
        if mask is None:
            mask = torch.ones(T, T, dtype=torch.bool).tril().expand(B, T, T)
        x = self.wte[idx] + self.wpe[pos]
        for i, block in enumerate(self.h):
            if hooks is not None and "resid_pre" in hooks:
                out = hooks["resid_pre"](i, x)
                x = x if out is None else out
            x = block(x, mask, hooks, i)
        return self.ln_f(x)

    def logits(self, hidden):
        return hidden @ self.wte.T


def doc_mask_from_positions(pos):
    """Causal mask that keeps attention inside a document; documents start where pos == 0."""
    doc = (pos == 0).cumsum(-1)
    T = pos.shape[-1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    return (doc[:, :, None] == doc[:, None, :]) & causal


def full_vocab_loss(model, hidden, targets, n_unseen, per_token=False, keep_graph=False):
    """Mean cross-entropy over the full GPT-2 vocabulary, given that the n_unseen rows not in
    model.wte all equal model.wte_unseen. hidden [N,D] (after ln_f), targets [N] row indices."""
    logits = model.logits(hidden)
    if n_unseen > 0:
        extra = (hidden @ model.wte_unseen)[..., None] + math.log(n_unseen)
        logits = torch.cat([logits, extra], dim=-1)
    per = F.cross_entropy(logits, targets, reduction="none")
    if per_token:
        return per.mean(), (per if keep_graph else per.detach())
    return per.mean()
