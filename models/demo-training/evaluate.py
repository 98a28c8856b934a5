"""Measure the exported demo model (f16 safetensors, upcast to f32) and write the eval artifacts.

  /usr/bin/python3 evaluate.py                # model in ../hooklab-demo
  /usr/bin/python3 evaluate.py --model DIR --out DIR/eval

Writes <out>/results.json (every number quoted in the model card) and
<out>/default_patching.json (the lab's default resid_pre activation-patching example).
All prompts get BOS (50256) prepended, as TransformerLens does by default.
"""
import argparse
import json
import math
import os
import random

import numpy as np
import torch
import torch.nn.functional as F

import export
import gpt2_tokens
import ioi_spec

HERE = os.path.dirname(os.path.abspath(__file__))
BOS = gpt2_tokens.BOS
CLEAN = "When Mary and John went to the store, John gave a drink to"
CORRUPTED = "When Mary and John went to the store, Mary gave a drink to"
ANSWER, WRONG = " Mary", " John"


def run(model, ids, hooks=None):
    """Full-vocabulary logits [B,T,50257] for BOS-prefixed token id lists of equal length."""
    with torch.no_grad():
        return model.logits(model(torch.tensor(ids), hooks=hooks))


def tokenize_prompts(exs):
    toks = gpt2_tokens.encode_many([e["prompt"] for e in exs])
    ans = gpt2_tokens.encode_many([e["answer"] for e in exs] + [e["wrong"] for e in exs])
    assert all(len(a) == 1 for a in ans), "answers must be single tokens"
    n = len(exs)
    return [([BOS] + t, a[0], w[0]) for t, a, w in zip(toks, ans[:n], ans[n:])]


def ioi_scores(model, exs):
    """Per prompt: (logit(IO) - logit(S) at the last position, whether IO is the top-1 token)."""
    scores = []
    for ids, a, w in tokenize_prompts(exs):
        lg = run(model, [ids])[0, -1]
        scores.append(((lg[a] - lg[w]).item(), int(lg.argmax()) == a))
    return scores


def ioi_metrics(model, exs):
    return summarize_ioi(ioi_scores(model, exs))


def summarize_ioi(scores):
    """Accuracy (IO logit > S logit at the last position), mean logit diff, top-1 rate."""
    d = np.array([diff for diff, _ in scores])
    top1 = [t for _, t in scores]
    return {"n": len(d), "accuracy": round(float((d > 0).mean()), 4), "mean_logit_diff": round(float(d.mean()), 3),
            "median_logit_diff": round(float(np.median(d)), 3), "min_logit_diff": round(float(d.min()), 3),
            "top1_is_answer": round(float(np.mean(top1)), 4)}


def ioi_breakdown(model, seed):
    """IOI on fresh samples for each (template split) x (name split) combination."""
    train_names, heldout_names = ioi_spec.split_names(seed)
    out = {}
    for tname, temps in (("train_templates", ioi_spec.TRAIN_TEMPLATES), ("heldout_templates", ioi_spec.HELDOUT_TEMPLATES)):
        for nname, names in (("train_names", train_names), ("heldout_names", heldout_names)):
            rng = random.Random(seed + 3000)
            exs = [ioi_spec.make_ioi(rng, temps[i % len(temps)], names) for i in range(200)]
            out[f"{tname}+{nname}"] = ioi_metrics(model, exs)
    return out


def ioi_by_template(heldout, scores):
    """The held-out file's scores per template and form (write_eval_sets cycles through HELDOUT_TEMPLATES)."""
    n = len(ioi_spec.HELDOUT_TEMPLATES)
    out = []
    for k, template in enumerate(ioi_spec.HELDOUT_TEMPLATES):
        row = {"template": template}
        for form in ("ABBA", "BABA"):
            m = summarize_ioi([sc for i, (e, sc) in enumerate(zip(heldout, scores)) if i % n == k and e["form"] == form])
            row[form] = {key: m[key] for key in ("n", "accuracy", "mean_logit_diff")}
        out.append(row)
    return out


def induction(model, rep):
    seqs = torch.tensor(rep["sequences"])
    n = rep["n_repeat"]
    patterns = {}
    hooks = {"pattern": lambda l, p: patterns.__setitem__(l, p)}
    with torch.no_grad():
        lg = model.logits(model(seqs, hooks=hooks))
    per = F.cross_entropy(lg[:, :-1].transpose(1, 2), seqs[:, 1:], reduction="none").mean(0)  # per position
    # per[t] = loss of predicting token t+1. First copy occupies positions 1..n, second n+1..2n.
    first = per[1:n].mean().item()           # tokens 2..n of the first copy (random: ~ln(vocab))
    second = per[n + 1:2 * n].mean().item()  # tokens 2..n of the second copy (predictable by induction)
    L = len(patterns)
    ind, prev, dup = [], [], []
    for l in range(L):
        p = patterns[l]  # [B,H,T,T]
        # TransformerLens Main_Demo: mean of pattern.diagonal(offset=1 - seq_len), seq_len = n
        ind.append(p.diagonal(offset=1 - n, dim1=-2, dim2=-1).mean((0, -1)))
        prev.append(p.diagonal(offset=-1, dim1=-2, dim2=-1).mean((0, -1)))
        dup.append(p.diagonal(offset=-n, dim1=-2, dim2=-1).mean((0, -1)))
    r = lambda m: [[round(float(x), 3) for x in row] for row in torch.stack(m)]
    return {"n_sequences": len(seqs), "n_repeat": n, "loss_first_half": round(first, 3), "loss_second_half": round(second, 3),
            "loss_by_position": [round(float(x), 3) for x in per], "induction_score": r(ind),
            "previous_token_score": r(prev), "duplicate_token_score": r(dup)}


def head_roles(model, exs):
    """Per-head direct logit attribution to (IO - S) at the final position, scaled by the final
    LayerNorm of that run (like TransformerLens apply_ln_to_stack), and attention from END
    to IO / S1 / S2, averaged over prompts. Also S2 -> S1 attention (duplicate-token heads)."""
    items = tokenize_prompts(exs)
    cfg = model.cfg
    L, H, dh = cfg.n_layer, cfg.n_head, cfg.n_embd // cfg.n_head
    dla = np.zeros((L, H))
    att = {k: np.zeros((L, H)) for k in ("end_to_io", "end_to_s1", "end_to_s2", "s2_to_s1")}
    for ids, a, w in items:
        zs, pats = {}, {}
        hooks = {"z": lambda l, z: zs.__setitem__(l, z[0, -1]), "pattern": lambda l, p: pats.__setitem__(l, p[0])}
        with torch.no_grad():
            model(torch.tensor([ids]), hooks=hooks)
        pos_io = ids.index(a)
        pos_s1 = ids.index(w)
        pos_s2 = len(ids) - 1 - ids[::-1].index(w)
        direction = (model.wte[a] - model.wte[w]).detach()
        # ln_f(x) = (x - mean) / std * g + b ; a component c contributes (c - mean(c)) / std * g
        final_resid = _final_resid(model, ids)
        std = final_resid.var(unbiased=False).add(1e-5).sqrt()
        g = model.ln_f.weight.detach()
        for l in range(L):
            W_O = model.h[l].attn_c_proj.weight.detach().view(H, dh, -1)
            for h in range(H):
                out = zs[l][h] @ W_O[h]
                dla[l, h] += (((out - out.mean()) / std * g) @ direction).item()
                p = pats[l][h]
                att["end_to_io"][l, h] += p[-1, pos_io].item()
                att["end_to_s1"][l, h] += p[-1, pos_s1].item()
                att["end_to_s2"][l, h] += p[-1, pos_s2].item()
                att["s2_to_s1"][l, h] += p[pos_s2, pos_s1].item()
    n = len(items)
    r = lambda m: [[round(float(v) / n, 3) for v in row] for row in m]
    return {"n_prompts": n, "dla_io_minus_s": r(dla), **{k: r(v) for k, v in att.items()}}


def _final_resid(model, ids):
    captured = {}

    class Grab(torch.nn.Module):
        def forward(self, x):
            captured["x"] = x
            return x

    real = model.ln_f
    model.ln_f = Grab()
    try:
        with torch.no_grad():
            model(torch.tensor([ids]))
    finally:
        model.ln_f = real
    return captured["x"][0, -1]


def default_patching(model):
    ids_c, ids_x, ans = gpt2_tokens.encode_many([CLEAN, CORRUPTED, ANSWER + WRONG])
    pieces = gpt2_tokens.encode_many([CLEAN], pieces=True)[0]
    clean, corr = [BOS] + ids_c, [BOS] + ids_x
    assert len(clean) == len(corr)
    a, w = ans
    ld = lambda lg: (lg[0, -1, a] - lg[0, -1, w]).item()
    cache = {}
    run(model, [clean], hooks={"resid_pre": lambda l, x: cache.__setitem__(l, x.clone())})
    clean_ld, corr_ld = ld(run(model, [clean])), ld(run(model, [corr]))
    L, T = model.cfg.n_layer, len(clean)
    raw = np.zeros((L, T))
    for l in range(L):
        for t in range(T):
            def patch(layer, x, l=l, t=t):
                if layer == l:
                    x = x.clone()
                    x[:, t] = cache[l][:, t]
                    return x
            raw[l, t] = ld(run(model, [corr], hooks={"resid_pre": patch}))
    norm = (raw - corr_ld) / (clean_ld - corr_ld)
    return {
        "clean_prompt": CLEAN, "corrupted_prompt": CORRUPTED, "answer": ANSWER, "wrong": WRONG,
        "prepend_bos": True, "tokens": ["<|endoftext|>"] + pieces, "clean_token_ids": clean, "corrupted_token_ids": corr,
        "metric": "logit(answer) - logit(wrong) at the last position",
        "clean_logit_diff": round(clean_ld, 4), "corrupted_logit_diff": round(corr_ld, 4),
        "hook": "blocks.{layer}.hook_resid_pre", "patch": "corrupted run, one (layer, position) of resid_pre replaced by the clean run's",
        "normalisation": "(patched - corrupted) / (clean - corrupted)",
        "heatmap": [[round(float(v), 4) for v in row] for row in norm],
        "patched_logit_diff": [[round(float(v), 4) for v in row] for row in raw],
    }


def numpy_reference_logits(model_dir, ids):
    """An independent NumPy GPT-2 forward straight from the safetensors file (HF GPT2LMHeadModel
    semantics), used to check that model.py reads the exported weights the way HF would."""
    import safetensors_io
    w = {k: v.astype(np.float64) for k, v in safetensors_io.load(os.path.join(model_dir, "model.safetensors"))[0].items()}
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    H, D = cfg["n_head"], cfg["n_embd"]

    def ln(x, p):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + cfg["layer_norm_epsilon"]) * w[p + ".weight"] + w[p + ".bias"]

    T = len(ids)
    x = w["wte.weight"][ids] + w["wpe.weight"][:T]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (a.reshape(T, H, D // H).transpose(1, 0, 2) for a in np.split(qkv, 3, axis=-1))
        sc = np.where(causal, q @ k.transpose(0, 2, 1) / math.sqrt(D // H), -np.inf)
        pat = np.exp(sc - sc.max(-1, keepdims=True))
        pat /= pat.sum(-1, keepdims=True)
        z = (pat @ v).transpose(1, 0, 2).reshape(T, D)
        x = x + z @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        hid = ln(x, p + "ln_2") @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        hid = 0.5 * hid * (1 + np.tanh(math.sqrt(2 / math.pi) * (hid + 0.044715 * hid ** 3)))  # gelu_new
        x = x + hid @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ w["wte.weight"].T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(HERE, "..", "hooklab-demo"))
    ap.add_argument("--out", default=None, help="default: <model>/eval")
    ap.add_argument("--seed", type=int, default=0, help="the data seed (selects the held-out names)")
    args = ap.parse_args()
    out = args.out or os.path.join(args.model, "eval")
    eval_dir = os.path.join(args.model, "eval")
    torch.manual_seed(0)
    model = export.load_hf_dir(args.model)

    with open(os.path.join(eval_dir, "ioi_heldout.jsonl")) as f:
        heldout = [json.loads(l) for l in f]
    with open(os.path.join(eval_dir, "repeated_tokens.json")) as f:
        rep = json.load(f)
    res = {"model": os.path.basename(os.path.abspath(args.model)), "dtype_on_disk": "float16, upcast to float32"}
    check_ids = [BOS] + gpt2_tokens.encode(CLEAN)
    ref = numpy_reference_logits(args.model, check_ids)
    ours = run(model, [check_ids])[0].numpy()
    res["numpy_reference_max_abs_logit_diff"] = float(np.abs(ref - ours).max())
    assert res["numpy_reference_max_abs_logit_diff"] < 1e-3, res["numpy_reference_max_abs_logit_diff"]
    res["argmax_in_trained_ids"] = None  # filled below
    heldout_scores = ioi_scores(model, heldout)  # scored once, summarised whole, by form and by template
    res["ioi_heldout"] = summarize_ioi(heldout_scores)
    with open(os.path.join(eval_dir, "trained_token_ids.json")) as f:
        trained = set(json.load(f)["ids"])
    # never-seen ids must never be predicted: check the argmax at every position of every eval input
    argmaxes = [int(i) for ids, _, _ in tokenize_prompts(heldout) for i in run(model, [ids])[0].argmax(-1)]
    argmaxes += [int(i) for i in run(model, rep["sequences"]).argmax(-1).flatten()]
    res["argmax_in_trained_ids"] = float(np.mean([a in trained for a in argmaxes]))
    res["ioi_heldout_by_form"] = {form: summarize_ioi([sc for e, sc in zip(heldout, heldout_scores) if e["form"] == form])
                                  for form in ("ABBA", "BABA")}
    res["ioi_breakdown"] = ioi_breakdown(model, args.seed)
    res["induction"] = induction(model, rep)
    res["heads_ioi_heldout"] = head_roles(model, heldout)
    patching = default_patching(model)
    res["default_patching"] = {k: patching[k] for k in ("clean_logit_diff", "corrupted_logit_diff", "heatmap")}
    res["ioi_heldout_by_template"] = ioi_by_template(heldout, heldout_scores)
    for name in ("ioi_fresh_templates", "ioi_third_templates"):
        with open(os.path.join(eval_dir, name + ".jsonl")) as f:
            res[name] = ioi_metrics(model, [json.loads(line) for line in f])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "default_patching.json"), "w") as f:
        json.dump(patching, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in res.items() if k not in ("induction", "heads_ioi_heldout", "ioi_heldout_by_template")}, indent=1))
    for row in res["ioi_heldout_by_template"]:
        print(f"ABBA {100 * row['ABBA']['accuracy']:5.1f} %  BABA {100 * row['BABA']['accuracy']:5.1f} %  {row['template']}")
    ind = res["induction"]
    print("induction loss first/second half:", ind["loss_first_half"], ind["loss_second_half"])
    for name in ("induction_score", "previous_token_score", "duplicate_token_score"):
        print(name, ind[name])
    for k, v in res["heads_ioi_heldout"].items():
        if k != "n_prompts":
            print(k, v)
    print("patching tokens", patching["tokens"])


if __name__ == "__main__":
    main()
