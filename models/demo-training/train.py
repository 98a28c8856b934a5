"""Train the hooklab demo model on data/train.npz and export it to ../hooklab-demo/.

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 train.py --seed 0
  (reproduce.sh trains the bundled model with --seed 2 --ema 0.995)

One pass over the packed rows (batch of --batch rows of 128 tokens per step). Logs to
train_log.json next to this script. See model.py for the restricted-vocabulary loss.
"""
import argparse
import copy
import json
import math
import os
import random
import resource
import time

import numpy as np
import torch

import export
import gpt2_tokens
import ioi_spec
from generate_data import KEY_WEIGHT, KINDS
from model import GPT2, Config, VOCAB_SIZE, doc_mask_from_positions, full_vocab_loss

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(HERE, "..", "hooklab-demo")


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))  # cosine down to 10 %


class Probe:
    """Cheap in-training checks on the committed eval sets (a subset), in local vocab indices."""

    def __init__(self, to_local, eval_dir):
        with open(os.path.join(eval_dir, "ioi_heldout.jsonl")) as f:
            exs = [json.loads(l) for l in f][:64]
        rng = random.Random(12345)  # plus 32 prompts from the training distribution
        train_names, _ = ioi_spec.split_names(0)
        exs += [ioi_spec.make_ioi(rng, rng.choice(ioi_spec.TRAIN_TEMPLATES), train_names) for _ in range(32)]
        toks = gpt2_tokens.encode_many([e["prompt"] for e in exs])
        ans = gpt2_tokens.encode_many([e["answer"] for e in exs] + [e["wrong"] for e in exs])
        self.ioi = [(torch.tensor(to_local[[gpt2_tokens.BOS] + t])[None], to_local[a[0]], to_local[w[0]])
                    for t, a, w in zip(toks, ans[:len(exs)], ans[len(exs):])]
        with open(os.path.join(eval_dir, "repeated_tokens.json")) as f:
            rep = json.load(f)
        self.n = rep["n_repeat"]
        self.rep = torch.tensor(to_local[np.array(rep["sequences"][:8])])

    @torch.no_grad()
    def __call__(self, model, n_unseen):
        diffs = []
        for idx, a, w in self.ioi:
            lg = model.logits(model(idx))[0, -1]
            diffs.append((lg[a] - lg[w]).item())
        h = model(self.rep)
        tgt = self.rep[:, 1:].clone()
        lg = model.logits(h[:, :-1])
        lg = torch.cat([lg, (h[:, :-1] @ model.wte_unseen)[..., None] + math.log(n_unseen)], -1)
        per = torch.nn.functional.cross_entropy(lg.transpose(1, 2), tgt, reduction="none").mean(0)
        n = self.n
        held, train = np.array(diffs[:64]), np.array(diffs[64:])
        return {"ioi_acc": float((held > 0).mean()), "ioi_logit_diff": float(held.mean()),
                "ioi_acc_train_dist": float((train > 0).mean()), "ioi_logit_diff_train_dist": float(train.mean()),
                "rep_loss_first_half": per[:n - 1].mean().item(), "rep_loss_second_half": per[n:].mean().item()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=os.path.join(HERE, "data", "train.npz"))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    # 1 thread: on a shared 2-core machine, 2 OpenBLAS threads fighting other jobs ran ~2x slower
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--probe-every", type=int, default=100)
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of an exponential moving average of the weights, which the probes measure and "
                         "the export writes (default 0 = off; reproduce.sh: 0.995)")
    ap.add_argument("--max-steps", type=int, default=0, help="0 = one pass over the data")
    ap.add_argument("--log", default=os.path.join(HERE, "train_log.json"))
    ap.add_argument("--out", default=MODEL_DIR)
    ap.add_argument("--eval-dir", default=os.path.join(MODEL_DIR, "eval"), help="eval sets for the in-training probes")
    args = ap.parse_args()
    if not 0 <= args.ema < 1:
        ap.error("--ema must lie in [0, 1)")

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    d = np.load(args.data)
    vocab = d["vocab"]
    to_local = np.full(VOCAB_SIZE, -1, dtype=np.int64)
    to_local[vocab] = np.arange(len(vocab))
    tokens = torch.from_numpy(to_local[d["tokens"]])
    pos = torch.from_numpy(d["pos"].astype(np.int64))
    weight = torch.from_numpy(d["weight"].astype(np.float32))
    kind = torch.from_numpy(d["kind"].astype(np.int64))
    n_unseen = VOCAB_SIZE - len(vocab)
    steps = len(tokens) // args.batch
    if args.max_steps:
        steps = min(steps, args.max_steps)

    cfg = Config(n_layer=args.n_layer, n_head=args.n_head)
    model = GPT2(cfg, len(vocab))
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and n not in ("wte", "wpe")]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() == 2 and n not in ("wte", "wpe"))]
    assert len(decay) + len(no_decay) == len(list(model.parameters()))
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    # The held-out IOI probe swings by +/-8 points between neighbouring steps at the end of a
    # run; an average of the late weights settles it without picking a step by its score.
    ema = copy.deepcopy(model) if args.ema else model
    probe = Probe(to_local, args.eval_dir)
    log = {"args": vars(args), "config": cfg.hf_config(), "n_params_trained": sum(p.numel() for p in model.parameters()),
           "active_vocab": len(vocab), "steps": steps, "tokens_per_step": args.batch * tokens.shape[1],
           "loadavg_start": os.getloadavg(), "train": [], "probe": []}
    t0 = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    log_names = KINDS + [k + "_key" for k in KEY_WEIGHT]
    acc = {k: [0.0, 0] for k in log_names}
    for step in range(steps):
        sl = slice(step * args.batch, (step + 1) * args.batch)
        x, p, wt, kd = tokens[sl], pos[sl], weight[sl], kind[sl]
        mask = doc_mask_from_positions(p)
        lr = lr_at(step, steps, args.lr, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        hidden = model(x, p, mask)
        # targets: next token, only where the data generator gave the position a weight
        sel = wt[:, :-1] > 0
        h_sel = hidden[:, :-1][sel]
        tgt = x[:, 1:][sel]
        w_sel = wt[:, :-1][sel]
        _, per_tok = full_vocab_loss(model, h_sel, tgt, n_unseen, per_token=True, keep_graph=True)
        loss = (per_tok * w_sel).sum() / w_sel.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if args.ema:
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(args.ema).add_(pm, alpha=1 - args.ema)
        kd_sel = kd[:, :-1][sel]
        per_tok = per_tok.detach()
        for i, name in enumerate(KINDS):
            m = kd_sel == i
            acc[name][0] += per_tok[m].sum().item()
            acc[name][1] += int(m.sum())
            if name in KEY_WEIGHT:  # the key positions alone: IOI answers, induction repeats
                m = m & (w_sel > 1)
                acc[name + "_key"][0] += per_tok[m].sum().item()
                acc[name + "_key"][1] += int(m.sum())
        if (step + 1) % 10 == 0 or step == steps - 1:
            entry = {"step": step + 1, "lr": round(lr, 6), "loss": round(loss.item(), 4), "elapsed_s": round(time.time() - t0, 1)}
            entry.update({f"loss_{n}": round(s / max(c, 1), 4) for n, (s, c) in acc.items()})
            acc = {k: [0.0, 0] for k in log_names}
            log["train"].append(entry)
            print(json.dumps(entry), flush=True)
        if (step + 1) % args.probe_every == 0 or step == steps - 1:
            ema.eval()
            pr = {"step": step + 1, **{k: round(v, 4) for k, v in probe(ema, n_unseen).items()}}
            ema.train()
            log["probe"].append(pr)
            print(json.dumps(pr), flush=True)
            torch.save({"state_dict": ema.state_dict(), "vocab": vocab, "step": step + 1},
                       os.path.join(os.path.dirname(args.data), "ckpt_probe.pt"))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    log["wall_time_s"] = round(time.time() - t0, 1)
    log["process_cpu_s"] = round((cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime), 1)
    log["loadavg_end"] = os.getloadavg()
    log["tokens_seen"] = steps * args.batch * tokens.shape[1]
    export.save_hf_dir(ema, vocab, args.out, {"training_steps": steps, "seed": args.seed})
    torch.save({"state_dict": ema.state_dict(), "vocab": vocab}, os.path.join(os.path.dirname(args.data), "ckpt.pt"))
    with open(args.log, "w") as f:
        json.dump(log, f, indent=1)
        f.write("\n")
    print(f"done: {steps} steps, {log['wall_time_s']} s wall, {log['process_cpu_s']} s CPU", flush=True)


if __name__ == "__main__":
    main()
