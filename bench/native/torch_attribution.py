#!/usr/bin/env python3
"""PyTorch CPU peer of the attribution benchmark: the same AtP / AtP* as hooklab's
AttributionSession, in float32, on the same GPT-2 directory (weights processed like
TransformerLens by tests/reference/hooked_gpt2.py, the project's own PyTorch model).

  /usr/bin/python3 bench/native/torch_attribution.py --model DIR --threads N [--T 16,64] [--reps 3] [--differ 1]

Per T, one JSON object per row on stdout (the schema of bench/native/attribution_bench.cpp):
  backward:      forward + backward of logit_diff (no activations or gradients kept) minus a plain
                 forward (torch.no_grad), medians of interleaved runs;
  atp / atp-star "all": the clean run (no_grad, caching resid_pre/resid_mid/attn_out/mlp_out and
                 q/k/v/z/pattern), the corrupted run with the same cache and the metric's gradients
                 at those points (tensor hooks), the backward, then every cell of all 18 sweeps
                 (vectorised float32 dot products; AtP* recomputes the q/k cells' softmax rows
                 exactly in float64: a patched query's row directly, a patched key in closed form
                 per row, as hooklab does), normalised like hooklab's sweep(..., true).
Run with OpenBLAS (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread).
"""
import argparse
import json
import math
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))

import torch  # noqa: E402

from hooked_gpt2 import HookedGPT2  # noqa: E402

ANSWER, WRONG = 1000, 2000
RESID_ACTS = ("resid_pre", "resid_mid", "attn_out", "mlp_out")
HEAD_ACTS = ("q", "k", "v", "z", "pattern")
# all_patch_sweeps() order (core/include/hooklab/patching.def)
SWEEPS = ("resid_pre", "resid_mid", "attn_out", "mlp_out", "head_out_by_pos", "head_q_by_pos", "head_k_by_pos",
          "head_v_by_pos", "head_out", "head_q", "head_k", "head_v", "head_pattern", "head_pattern_by_pos",
          "head_pattern_dest_src", "block_every", "head_all_pos_every", "head_by_pos_every")


def hook_name(l, act):
    return f"blocks.{l}.hook_{act}" if act in RESID_ACTS else f"blocks.{l}.attn.hook_{act}"


class LeanGPT2:
    """The forward of tests/reference/hooked_gpt2.py (same processed weights, same maths) with its
    matrices laid out once for plain matmuls (the reference's einsums copy W_Q/W_K/W_V on every
    run) and hooks called only at the nine points attribution reads: hook(name, tensor) -> tensor.
    Activations are unbatched: resid [P, M], q/k/v/z [P, H, Dh], pattern [H, P, P]."""

    def __init__(self, ref):
        cfg, w = ref.cfg, ref.w
        self.cfg, self.ln = cfg, ref.normalization_type == "LN"
        M, H, D = cfg.d_model, cfg.n_heads, cfg.d_head
        self.W_E, self.W_pos = w["embed.W_E"].contiguous(), w["pos_embed.W_pos"].contiguous()
        self.layers = []
        for l in range(cfg.n_layers):
            b = f"blocks.{l}."
            self.layers.append({
                "W_qkv": torch.cat([w[b + f"attn.W_{n}"].permute(1, 0, 2).reshape(M, H * D) for n in "QKV"], 1).contiguous(),
                "b_qkv": torch.cat([w[b + f"attn.b_{n}"].reshape(H * D) for n in "QKV"]),
                "W_O": w[b + "attn.W_O"].reshape(H * D, M).contiguous(), "b_O": w[b + "attn.b_O"],
                "W_in": w[b + "mlp.W_in"].contiguous(), "b_in": w[b + "mlp.b_in"],
                "W_out": w[b + "mlp.W_out"].contiguous(), "b_out": w[b + "mlp.b_out"],
                "ln1": (w.get(b + "ln1.w"), w.get(b + "ln1.b")), "ln2": (w.get(b + "ln2.w"), w.get(b + "ln2.b"))})
        self.ln_final = (w.get("ln_final.w"), w.get("ln_final.b"))
        self.W_U, self.b_U = w["unembed.W_U"].contiguous(), w["unembed.b_U"]

    def _norm(self, x, wb):
        x = x - x.mean(-1, keepdim=True)
        x = x / (x.pow(2).mean(-1, keepdim=True) + self.cfg.eps).sqrt()
        return x * wb[0] + wb[1] if self.ln else x

    def forward(self, tokens, hook=None):
        cfg = self.cfg
        H, D = cfg.n_heads, cfg.d_head
        hook = hook or (lambda name, t: t)
        P = len(tokens)
        mask = ~torch.ones(P, P, dtype=torch.bool).tril()
        x = self.W_E[torch.as_tensor(tokens)] + self.W_pos[:P]
        for l, w in enumerate(self.layers):
            x = hook(f"blocks.{l}.hook_resid_pre", x)
            qkv = torch.addmm(w["b_qkv"], self._norm(x, w["ln1"]), w["W_qkv"]).view(P, 3, H, D)
            q = hook(f"blocks.{l}.attn.hook_q", qkv[:, 0])
            k = hook(f"blocks.{l}.attn.hook_k", qkv[:, 1])
            v = hook(f"blocks.{l}.attn.hook_v", qkv[:, 2])
            scores = torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0)) / math.sqrt(D)  # [H, P, P]
            pattern = hook(f"blocks.{l}.attn.hook_pattern", torch.softmax(scores.masked_fill(mask, -math.inf), -1))
            z = hook(f"blocks.{l}.attn.hook_z", torch.matmul(pattern, v.transpose(0, 1)).transpose(0, 1))  # [P, H, D]
            attn_out = hook(f"blocks.{l}.hook_attn_out", torch.addmm(w["b_O"], z.reshape(P, H * D), w["W_O"]))
            x = hook(f"blocks.{l}.hook_resid_mid", x + attn_out)
            post = torch.nn.functional.gelu(torch.addmm(w["b_in"], self._norm(x, w["ln2"]), w["W_in"]), approximate="tanh")
            x = x + hook(f"blocks.{l}.hook_mlp_out", torch.addmm(w["b_out"], post, w["W_out"]))
        return torch.addmm(self.b_U, self._norm(x, self.ln_final), self.W_U)  # [P, V]


def metric(logits):
    return logits[-1, ANSWER] - logits[-1, WRONG]


def run_source(model, tokens):
    cache = {}

    def save(name, t):
        cache[name] = t
        return t

    with torch.no_grad():
        logits = model.forward(tokens, save)
    return float(metric(logits)), cache


def run_receiving(model, tokens):
    """Forward with the cache and the metric's gradient at every hook point, then backward."""
    cache, grads = {}, {}

    def capture(name, t):
        if not t.requires_grad:  # the first point (blocks.0.hook_resid_pre): start the graph here
            t = t.detach().requires_grad_()
        cache[name] = t.detach()
        t.register_hook(lambda g, name=name: grads.__setitem__(name, g))
        return t

    with torch.enable_grad():
        value = metric(model.forward(tokens, capture))
        value.backward()
    return float(value), cache, grads


def forward_backward(model, tokens):
    """Forward + backward of the metric, nothing kept (what hooklab's grad_metric run does)."""
    def start(name, t):
        return t.detach().requires_grad_() if name == "blocks.0.hook_resid_pre" else t

    with torch.enable_grad():
        value = metric(model.forward(tokens, start))
        value.backward()


def masked_softmax(scores):
    P = scores.shape[-1]
    mask = torch.ones(P, P, dtype=torch.bool).tril()
    return torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)


def atp_star_qk(cfg, cache_r, cache_s, grads):
    """AtP* q and k cells: (q_by_pos [L,P,H], q_all [L,H], k_by_pos [L,P,H], k_all [L,H]). In float64 over
    [H, P, P] per layer, as hooklab (the closed form cancels in float32 when one key dominates a row)."""
    scale = 1.0 / math.sqrt(cfg.d_head)
    qb, qa, kb, ka = [], [], [], []
    for l in range(cfg.n_layers):
        q_r, k_r = cache_r[hook_name(l, "q")].double(), cache_r[hook_name(l, "k")].double()  # [P, H, Dh]
        q_s, k_s = cache_s[hook_name(l, "q")].double(), cache_s[hook_name(l, "k")].double()
        g = grads[hook_name(l, "pattern")].double()  # [H, P, P]
        P = q_r.shape[0]
        base_scores = torch.einsum("qhd,khd->hqk", q_r, k_r) * scale
        base = masked_softmax(base_scores)
        # queries: patching query p changes row p only, so every position's patch is one row of
        # the all-queries-patched pattern, and the all_pos cell is their sum.
        dq = ((masked_softmax(torch.einsum("qhd,khd->hqk", q_s, k_r) * scale) - base) * g).sum(-1)  # [H, P]
        qb.append(dq.T)
        qa.append(dq.sum(-1))
        # keys: patching key p changes score (i, p) of every row i >= p; each row renormalises, so
        # with a = pattern'[i, p], Z' = 1 - pattern[i, p] + a (in log space) and W_i = sum_j pattern g:
        #   sum_j (pattern' - pattern)[i, j] g[i, j] = (W_i - pattern[i, p] g[i, p]) (1/Z' - 1) + g[i, p] (a/Z' - pattern[i, p])
        cross = torch.einsum("qhd,khd->hqk", q_r, k_s) * scale  # cross[h, i, p] = q_r[i] . k_s[p]
        mask = torch.ones(P, P, dtype=torch.bool).tril()
        lse = torch.logsumexp(base_scores.masked_fill(~mask, -math.inf), dim=-1, keepdim=True)  # [H, P, 1]
        log_a = (cross - lse).masked_fill(~mask, -math.inf)
        log_z = torch.logaddexp(torch.log1p(-base.clamp(max=1.0)), log_a)
        weighted = (base * g).sum(-1, keepdim=True)
        terms = (weighted - base * g) * torch.expm1(-log_z) + g * (torch.exp(log_a - log_z) - base)
        dk = terms.masked_fill(~mask, 0.0).sum(1)  # [H, p]
        kb.append(dk.T)
        ka.append(((masked_softmax(cross) - base) * g).sum((-1, -2)))
    return tuple(torch.stack(x).float() for x in (qb, qa, kb, ka))


def all_sweeps(cfg, cache_r, cache_s, grads, star, receiving_metric, clean_metric, corrupted_metric):
    """Every cell of every sweep (patching.def's layouts), normalised."""
    L = cfg.n_layers

    def prod(act):
        return torch.stack([((cache_s[hook_name(l, act)] - cache_r[hook_name(l, act)]) * grads[hook_name(l, act)])
                            for l in range(L)])

    out = {}
    for act in RESID_ACTS:
        out[act] = prod(act).sum(-1)  # [L, P]
    for act, nm in (("z", "out"), ("q", "q"), ("k", "k"), ("v", "v")):
        p = prod(act)  # [L, P, H, Dh]
        out[f"head_{nm}_by_pos"] = p.sum(-1)
        out[f"head_{nm}"] = p.sum((1, 3))
    pat = prod("pattern")  # [L, H, P, P]
    out["head_pattern_dest_src"] = pat
    out["head_pattern_by_pos"] = pat.sum(-1)
    out["head_pattern"] = pat.sum((2, 3))
    if star:
        out["head_q_by_pos"], out["head_q"], out["head_k_by_pos"], out["head_k"] = atp_star_qk(cfg, cache_r, cache_s,
                                                                                            grads)
    out["block_every"] = torch.stack([out["resid_pre"], out["attn_out"], out["mlp_out"]])
    out["head_all_pos_every"] = torch.stack([out[f"head_{n}"] for n in ("out", "q", "k", "v", "pattern")])
    out["head_by_pos_every"] = torch.stack([out[f"head_{n}_by_pos"] for n in ("out", "q", "k", "v")]
                                           + [out["head_pattern_by_pos"].transpose(1, 2)])
    denom = clean_metric - corrupted_metric
    return {n: (out[n] + receiving_metric - corrupted_metric) / denom for n in SWEEPS}


def attribute(model, clean, corrupted, star):
    clean_metric, cache_s = run_source(model, clean)
    receiving_metric, cache_r, grads = run_receiving(model, corrupted)
    with torch.no_grad():
        return all_sweeps(model.cfg, cache_r, cache_s, grads, star, receiving_metric, clean_metric, receiving_metric)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--T", default="16,64")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--differ", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = LeanGPT2(HookedGPT2.from_dir(args.model))  # float32, TransformerLens's default processing
    backend = torch.__version__ + ("+openblas" if "openblas" in os.environ.get("LD_LIBRARY_PATH", "") else "")
    rng = random.Random(7)
    for T in [int(x) for x in args.T.split(",")]:
        clean = [50256] + [1000 + rng.randrange(9000) for _ in range(T - 1)]
        corrupted = list(clean)
        corrupted[args.differ] += 1
        base = {"runtime": "torch", "backend": backend, "threads": args.threads, "T": T,
                "first_difference": args.differ}
        fwd, fb = [], []
        for r in range(args.reps + 1):  # one warm-up
            t0 = time.perf_counter()
            with torch.no_grad():
                model.forward(corrupted)
            t1 = time.perf_counter()
            forward_backward(model, corrupted)
            t2 = time.perf_counter()
            if r >= 1:
                fwd.append((t1 - t0) * 1000)
                fb.append((t2 - t1) * 1000)
        forward_ms, fb_ms = statistics.median(fwd), statistics.median(fb)
        print(json.dumps({"method": "backward", "sweep": "", **base, "ms": fb_ms - forward_ms, "forward_ms": forward_ms,
                          "forward_backward_ms": fb_ms, "forward_times": (fb_ms - forward_ms) / forward_ms}), flush=True)
        for method, star in (("atp", False), ("atp-star", True)):
            times = []
            warm = 0 if star else 1  # AtP* runs warm after AtP
            for r in range(args.reps + warm):
                t0 = time.perf_counter()
                res = attribute(model, clean, corrupted, star)
                t1 = time.perf_counter()
                if r >= warm:
                    times.append((t1 - t0) * 1000)
            ms = statistics.median(times)
            print(json.dumps({"method": method, "sweep": "all", **base, "ms": ms, "forward_ms": forward_ms,
                              "forward_times": ms / forward_ms, "sweeps": len(res),
                              "cells": sum(v.numel() for v in res.values())}), flush=True)


if __name__ == "__main__":
    main()
