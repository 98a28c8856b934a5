"""Trains models/hooklab-induction: a 2-layer attention-only GPT-2 (TransformerLens attn_only)
on sequences with repeated random token spans, so that it forms a previous-token head in
layer 0 and an induction head in layer 1 (Olsson et al. 2022, "In-context learning and
induction heads"). Reproducible: fixed seeds, CPU, float32, torch's deterministic kernels.

    /usr/bin/python3 models/induction-training/train.py [--steps 8000] [--out models/hooklab-induction]

The defaults reproduce the bundled model (x x x ... rows, 4 heads). --detector-format-from STEP
and --heads H are the experiments toward clean heads (rows BOS + x + x, the detectors' format);
every 250 steps the log prints each head's diagonal scores on the held-out sequences.

Writes config.json, model.safetensors (f16), checkpoints/step-NNNNN/ every 1000 steps (same
layout), training_loss.json and eval/repeated_tokens.json (held-out sequences for
`hooklab evaluate --repeated`). Step N of a longer run equals a run of N steps. What the CLI
measures on the result, and what was tried, is in models/hooklab-induction/README.md. Token ids are GPT-2 ids 0..vocab_size-1, so GPT-2's tokenizer shows them;
id 0 ("!") is the BOS every sequence starts with (config.json's bos_token_id).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from safetensors_io import write_safetensors  # noqa: E402

CONFIG = dict(n_layer=2, n_embd=128, n_head=4, n_positions=64, vocab_size=256, bos_token_id=0)
SEED = 1234
BATCH = 32
MIN_SPAN, MAX_SPAN = 8, 31  # the detectors use N = 31 = (n_ctx - 1) / 2
CHECKPOINT_EVERY = 1000  # small f16 checkpoints, enough to scrub through the induction bump


def sinusoids(n_ctx, d):
    """wpe starts as Vaswani et al.'s sinusoids (scaled to wte's size), still learned: a fixed linear
    map turns position p's code into p - 1's, so a previous-token head is in reach from step 1
    rather than after the positional embeddings have found structure from a random start."""
    pos = torch.arange(n_ctx, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(100.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)
    out = torch.zeros(n_ctx, d)
    out[:, 0::2], out[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return out * 0.02 * math.sqrt(2.0)


def init_params(gen):
    d, v, c = CONFIG["n_embd"], CONFIG["vocab_size"], CONFIG["n_positions"]
    normal = lambda *shape: (torch.randn(*shape, generator=gen) * 0.02).requires_grad_()
    zeros = lambda *shape: torch.zeros(*shape).requires_grad_()
    ones = lambda *shape: torch.ones(*shape).requires_grad_()
    p = {"wte.weight": normal(v, d), "wpe.weight": sinusoids(c, d).requires_grad_(), "ln_f.weight": ones(d), "ln_f.bias": zeros(d)}
    for i in range(CONFIG["n_layer"]):
        h = f"h.{i}."
        p[h + "ln_1.weight"], p[h + "ln_1.bias"] = ones(d), zeros(d)
        p[h + "attn.c_attn.weight"], p[h + "attn.c_attn.bias"] = normal(d, 3 * d), zeros(3 * d)
        # GPT-2's scaled init of the residual writers: 0.02 / sqrt(2 * n_layer)
        p[h + "attn.c_proj.weight"] = (torch.randn(d, d, generator=gen) * 0.02 / math.sqrt(2 * CONFIG["n_layer"])).requires_grad_()
        p[h + "attn.c_proj.bias"] = zeros(d)
    return p


def forward(p, tokens, patterns=None):
    """Hugging Face GPT-2 semantics without MLPs: x += attn(ln_1(x)) per block. Appends each layer's
    attention pattern [batch, head, query, key] to `patterns` when given."""
    d, nh = CONFIG["n_embd"], CONFIG["n_head"]
    dh = d // nh
    b, n = tokens.shape
    x = p["wte.weight"][tokens] + p["wpe.weight"][:n]
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    for i in range(CONFIG["n_layer"]):
        h = f"h.{i}."
        a = F.layer_norm(x, (d,), p[h + "ln_1.weight"], p[h + "ln_1.bias"], 1e-5)
        q, k, v = (a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]).split(d, dim=-1)
        q, k, v = (t.view(b, n, nh, dh).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        pattern = scores.masked_fill(mask, float("-inf")).softmax(-1)
        if patterns is not None:
            patterns.append(pattern.detach())
        z = pattern @ v
        x = x + z.transpose(1, 2).reshape(b, n, d) @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
    x = F.layer_norm(x, (d,), p["ln_f.weight"], p["ln_f.bias"], 1e-5)
    return x @ p["wte.weight"].T


def repeated_to_end_batch(gen):
    """Warm-up format: BOS, then a random span x of 4..31 ids repeated x x x ... to n_ctx. Most tokens
    are predictable by copying, which gets in-context copying off the ground quickly; the copying
    is spread over every earlier copy though, so training moves on to `batch`."""
    n, v = CONFIG["n_positions"], CONFIG["vocab_size"]
    out = torch.randint(1, v, (BATCH, n), generator=gen)
    out[:, 0] = CONFIG["bos_token_id"]
    for r in range(BATCH):
        span = int(torch.randint(4, (n - 1) // 2 + 1, (1,), generator=gen))
        for start in range(1 + span, n, span):
            out[r, start:start + span] = out[r, 1:1 + min(span, n - start)]
    return out


def batch(gen):
    """Rows in the induction detectors' own format: BOS, a random span x of MIN_SPAN..31 ids and x once
    more, then the rest of n_ctx filled by a second such block where it fits (fresh random ids where
    not). Each token of a second copy has exactly one earlier copy to attend to, so the induction
    head learns one sharp stripe (a span repeated x x x ... gives every earlier copy as a valid
    target, and attention spread over them)."""
    n, v = CONFIG["n_positions"], CONFIG["vocab_size"]
    out = torch.randint(1, v, (BATCH, n), generator=gen)
    out[:, 0] = CONFIG["bos_token_id"]
    for r in range(BATCH):
        start = 1
        while n - start >= 2 * MIN_SPAN:
            span = int(torch.randint(MIN_SPAN, min(MAX_SPAN, (n - start) // 2) + 1, (1,), generator=gen))
            out[r, start + span:start + 2 * span] = out[r, start:start + span]
            start += 2 * span
    return out


def save(p, out_dir, step, loss):
    os.makedirs(out_dir, exist_ok=True)
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], **CONFIG, "n_ctx": CONFIG["n_positions"],
           "attn_only": True, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
           "scale_attn_weights": True, "tie_word_embeddings": True, "eos_token_id": CONFIG["bos_token_id"],
           "torch_dtype": "float16"}
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    tensors = {k: ("F16", t.detach().numpy().astype(np.float32)) for k, t in p.items()}
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors,
                      {"format": "pt", "step": str(step), "train_loss": f"{loss:.4f}", "seed": str(SEED)})


def heldout_sequences(n_repeat=31, count=20, seed=2000):
    rng = random.Random(seed)
    seqs = []
    for _ in range(count):
        span = rng.sample(range(1, CONFIG["vocab_size"]), n_repeat)
        seqs.append([CONFIG["bos_token_id"]] + span + span)
    return seqs


def write_heldout(out_dir, n_repeat=31, count=20, seed=2000):
    """eval/repeated_tokens.json for `hooklab evaluate --repeated`: BOS + N distinct random ids + the
    same N ids again, from Python's random.Random(seed), a generator training never uses."""
    rng = random.Random(seed)
    seqs = []
    for _ in range(count):
        span = rng.sample(range(1, CONFIG["vocab_size"]), n_repeat)
        seqs.append([CONFIG["bos_token_id"]] + span + span)
    os.makedirs(os.path.join(out_dir, "eval"), exist_ok=True)
    with open(os.path.join(out_dir, "eval", "repeated_tokens.json"), "w") as f:
        json.dump({"description": f"BOS + N distinct random token ids from 1..{CONFIG['vocab_size'] - 1} + the same N ids "
                   f"again (N = {n_repeat}); Python random.Random({seed}), never used in training",
                   "n_repeat": n_repeat, "bos": CONFIG["bos_token_id"], "sequences": seqs}, f, separators=(",", ":"))
        f.write("\n")


def diagonal_scores(p, seqs, n_repeat):
    """The TransformerLens demos' scores, as `hooklab evaluate --repeated` computes them: per head, mean
    attention on the previous token (every row but BOS) and on the induction stripe (offset
    n_repeat - 1, the second copy's rows), over the held-out sequences. Logged while training."""
    patterns = []
    with torch.no_grad():
        forward(p, torch.tensor(seqs), patterns)
    out = []
    for layer, pat in enumerate(patterns):
        prev = pat.diagonal(-1, dim1=-2, dim2=-1).mean((0, 2))
        ind = pat.diagonal(1 - n_repeat, dim1=-2, dim2=-1).mean((0, 2))
        out += [(f"{layer}.{h}", float(prev[h]), float(ind[h])) for h in range(pat.shape[1])]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--vocab", type=int, default=CONFIG["vocab_size"])
    ap.add_argument("--d-model", type=int, default=CONFIG["n_embd"])
    ap.add_argument("--heads", type=int, default=CONFIG["n_head"])
    ap.add_argument("--detector-format-from", type=int, default=None,
                    help="step from which rows follow `batch` (BOS + x + x); before it, and by default throughout, x x x ...")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hooklab-induction"))
    args = ap.parse_args()
    CONFIG["vocab_size"], CONFIG["n_embd"], CONFIG["n_head"] = args.vocab, args.d_model, args.heads
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # the 2-core machine is shared; 2 threads only contend
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(SEED)
    params = init_params(gen)
    opt = torch.optim.AdamW(params.values(), lr=args.lr, betas=(0.9, 0.99), weight_decay=0.01)
    curve, start, window = [], time.time(), []
    heldout = heldout_sequences()
    for step in range(1, args.steps + 1):
        detector_format = args.detector_format_from is not None and step >= args.detector_format_from
        tokens = batch(gen) if detector_format else repeated_to_end_batch(gen)
        logits = forward(params, tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, step / 100)  # linear warm-up, then constant
        opt.step()
        window.append(loss.item())
        if step % 10 == 0:
            curve.append({"step": step, "loss": round(sum(window) / len(window), 4)})
            window = []
        if step % CHECKPOINT_EVERY == 0 and step < args.steps:
            save(params, os.path.join(args.out, "checkpoints", f"step-{step:05d}"), step, curve[-1]["loss"])
        if step % 50 == 0:
            print(f"step {step} loss {curve[-1]['loss']:.4f} {step / (time.time() - start):.1f} steps/s", flush=True)
        if step % 250 == 0:
            scores = diagonal_scores(params, heldout, 31)
            print("  prev " + " ".join(f"{h}:{a:.2f}" for h, a, _ in scores) +
                  " | induction " + " ".join(f"{h}:{b:.2f}" for h, _, b in scores), flush=True)
    save(params, args.out, args.steps, curve[-1]["loss"])
    write_heldout(args.out)
    with open(os.path.join(args.out, "training_loss.json"), "w") as f:
        json.dump({"seed": SEED, "batch": BATCH, "steps": args.steps, "every": 10,
                   "seconds": round(time.time() - start, 1), "curve": curve}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
