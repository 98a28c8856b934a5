"""Generate the demo model's training data and its committed evaluation sets, from a seed.

  /usr/bin/python3 generate_data.py --seed 0 --tokens 4000000 [options]   (reproduce.sh gives the bundled model's)

Writes
  data/train.npz                                  packed training rows (not committed; regenerate)
  data/stats.json                                 what went in (committed next to the logs)
  ../hooklab-demo/eval/ioi_heldout.jsonl          held-out IOI prompts (held-out templates AND names)
  ../hooklab-demo/eval/ioi_fresh_templates.jsonl  a second held-out set (other templates, held-out names)
  ../hooklab-demo/eval/ioi_third_templates.jsonl  a third one
  ../hooklab-demo/eval/repeated_tokens.json       BOS + 2x50 repeated random tokens, 20 sequences
  ../hooklab-demo/eval/trained_token_ids.json     the GPT-2 ids the model was trained on

Document kinds (each document starts with BOS = 50256 at position 0, like a lab prompt):
  ioi        IOI sentence + answer, train templates (with --grammar-share also grammar frames); in stage C, 35 % of them use capitalised
             non-name words from the text vocabulary ("When Paris and Music went ...") instead
             of train names, so that the circuit has to work for any token, not memorise names.
             Held-out names never appear in an IOI sentence.
  induction  BOS + r + r, r = N random ids from the trained vocabulary, N log-uniform (see STAGES)
  text       consecutive English sentences from Debian packages (text_corpus.py)
  filler     1-3 single-name sentences; uses ALL names, so held-out names are still known words
Only some next-token targets enter the loss (see KEEP_PROB): IOI answers and the predictable
second half of induction sequences always (with extra weight, KEY_WEIGHT), the rest sampled.
This spends the scarce CPU on the positions that teach circuits.
"""
import argparse
import copy
import json
import math
import os
import random
import re

import numpy as np

import gpt2_tokens
import ioi_spec
import text_corpus

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL_DIR = os.path.join(HERE, "..", "hooklab-demo", "eval")
BOS = gpt2_tokens.BOS
N_CTX = 128
KINDS = ["ioi", "induction", "text", "filler"]
KEEP_PROB = {"ioi": 0.15, "induction": 0.05, "text": 0.35, "filler": 0.15}  # for non-key positions
# Loss weight of the key positions (IOI answer; predictable second half of an induction
# sequence) relative to 1 for every other kept position.
KEY_WEIGHT = {"ioi": 5, "induction": 3}
# capitalised words that are not noun-like enough to pass as names in a sentence
NONCE_STOP = set("""The This And But You For They There That How She All When Can What One Not With However
After These Just His Some Now While Its Our Their Her Then Once Since Because Before During Today Last
Later Friends Afterwards Yesterday Who Why Where Which Any Each Every Many Much More Most Such Than Also
Even Never Always Only Other Into From About Over Under Here Yes Thus Therefore Unless Although""".split())
# Three-stage curriculum, rows in stage order. Alone, an induction head formed within ~150
# steps on short repeats (N ~ 10) but not in 400 steps on N = 40, and mixed into other data it
# formed far more slowly; IOI with real names was learned within ~500 steps when it had a
# large share. So: (A) mostly short repeats, (B) mostly IOI with real names, (C) everything,
# including long repeats, nonce-name IOI and more text. Induction N is log-uniform in induction_n.
STAGES = [
    {"name": "A: induction first", "row_share": 0.20, "nonce_share": 0.0, "induction_n": [4, 16],
     "token_share": {"ioi": 0.05, "induction": 0.95, "text": 0.0, "filler": 0.0}},
    {"name": "B: IOI", "row_share": 0.25, "nonce_share": 0.0, "induction_n": [4, 40],
     "token_share": {"ioi": 0.55, "induction": 0.35, "text": 0.07, "filler": 0.03}},
    {"name": "C: full mixture", "row_share": 0.55, "nonce_share": 0.35, "induction_n": [5, 60],
     "token_share": {"ioi": 0.35, "induction": 0.35, "text": 0.20, "filler": 0.10}},
]
EVAL_REPEAT_N, EVAL_REPEAT_BATCH = 50, 20
N_HELDOUT_PROMPTS = 200


def check_single_token_names():
    names = ioi_spec.NAMES + ioi_spec.EXTRA_TRAIN_NAMES
    ids = gpt2_tokens.encode_many([" " + n for n in names])
    bad = [n for n, i in zip(names, ids) if len(i) != 1]
    assert not bad, f"names that are not one GPT-2 token: {bad}"
    return {n: i[0] for n, i in zip(names, ids)}


def template_vocab(names=True, grammar=None):
    """Every token that any template (train or held-out), place, object, name or filler can produce."""
    texts = ([" " + n for n in ioi_spec.NAMES] if names else []) + [" " + p for p in ioi_spec.PLACES] + \
        [" " + o for o in ioi_spec.OBJECTS]
    for t in ioi_spec.TRAIN_TEMPLATES + ioi_spec.HELDOUT_TEMPLATES + ioi_spec.FILLER_FRAMES:
        for part in t.replace("{", "|{").replace("}", "}|").split("|"):
            if part and not part.startswith("{"):
                texts.append(part)
    # tokenize whole example sentences too, since BPE merges across our split points
    rng = random.Random(0)
    for t in ioi_spec.TRAIN_TEMPLATES + ioi_spec.HELDOUT_TEMPLATES:
        for _ in range(20):
            ex = ioi_spec.make_ioi(rng, t, ioi_spec.NAMES if names else ["Mary", "John"])
            texts.append(ex["prompt"] + ex["answer"])
    texts += [" " + p for p in ioi_spec.AFTER_PLACE + ioi_spec.BEFORE_S2] + [", " + p for p in ioi_spec.BEFORE_S2] + \
        [". " + p[0].upper() + p[1:] + "," for p in ioi_spec.BEFORE_S2]
    if grammar:
        for part in grammar.phrases():
            text = part.format(place="store", place2="store", obj="a drink")
            texts += [" " + text.strip(" ,."), text]
    for f in ioi_spec.FILLER_FRAMES:
        texts.append(f.format(N="Mary" if names else "", place="store", obj="a drink"))
    return {t for seq in gpt2_tokens.encode_many(texts) for t in seq}


def nonce_names(text_vocab, grammar, names):
    """Capitalised single-token words of the text vocabulary that are not names or template words."""
    strings = gpt2_tokens.token_strings(text_vocab)
    avoid = set(ioi_spec.NAMES) | set(names) | NONCE_STOP
    frame_ids = template_vocab(names=False, grammar=grammar)
    return sorted(s.strip() for i, s in zip(text_vocab, strings)
                  if re.fullmatch(r" [A-Z][a-z]{2,}", s) and s.strip() not in avoid and i not in frame_ids)


def lowercase_words(text_vocab):
    """Lowercase single-token words of the text vocabulary (for --random-vp-share)."""
    return sorted(s.strip() for s in gpt2_tokens.token_strings(text_vocab) if re.fullmatch(r" [a-z]{2,}", s))


def ioi_docs(rng, n, names, nonce, nonce_share, grammar_share, grammar):
    exs = []
    for _ in range(n):
        # grammar_share None: no draw at all, so a run without the grammar keeps its earlier data
        if grammar_share is not None and rng.random() < grammar_share:
            template, vary = ioi_spec.grammar_template(rng, grammar), False
        else:
            template, vary = rng.choice(ioi_spec.TRAIN_TEMPLATES), True
        exs.append(ioi_spec.make_ioi(rng, template, nonce if rng.random() < nonce_share else names, vary=vary))
    ids = gpt2_tokens.encode_many([e["prompt"] + e["answer"] for e in exs])
    return [[BOS] + seq for seq in ids]


def filler_docs(rng, n):
    texts = [" ".join(ioi_spec.make_filler(rng, ioi_spec.NAMES) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    return [[BOS] + seq for seq in gpt2_tokens.encode_many(texts)]


def induction_doc(rng, pool, n_range):
    n = int(round(math.exp(rng.uniform(math.log(n_range[0]), math.log(n_range[1])))))
    r = [rng.choice(pool) for _ in range(n)]
    return [BOS] + r + r


def loss_weights(kind, doc, rng):
    """w[t] > 0: the prediction of doc[t+1] from position t enters the loss with weight w[t]."""
    T = len(doc)
    w = [int(rng.random() < KEEP_PROB[kind]) for _ in range(T)]
    if kind == "ioi":
        w[T - 2] = KEY_WEIGHT["ioi"]  # the answer (indirect object)
    elif kind == "induction":
        n = (T - 1) // 2
        for t in range(n + 1, T - 1):  # predicting repeated tokens 2..N of the second copy
            w[t] = KEY_WEIGHT["induction"]
    w[T - 1] = 0  # nothing to predict after the document
    return w


def pack(docs, rng, n_rows):
    """First-fit packing of (kind, tokens, keep) into n_rows rows of N_CTX."""
    rows_tok = np.full((n_rows, N_CTX), BOS, dtype=np.int32)
    rows_pos = np.zeros((n_rows, N_CTX), dtype=np.uint8)
    rows_w = np.zeros((n_rows, N_CTX), dtype=np.uint8)
    rows_kind = np.full((n_rows, N_CTX), 255, dtype=np.uint8)
    fill = [0] * n_rows
    open_rows, next_row, used = [], 0, 0
    for kind, doc, keep in docs:
        L = len(doc)
        r = next((r for r in open_rows if fill[r] + L <= N_CTX), None)
        if r is None:
            if next_row == n_rows:
                break
            r = next_row
            next_row += 1
            open_rows.append(r)
            if len(open_rows) > 8:
                open_rows.pop(0)
        s = fill[r]
        rows_tok[r, s:s + L] = doc
        rows_pos[r, s:s + L] = np.arange(L)
        rows_w[r, s:s + L] = keep
        rows_kind[r, s:s + L] = KINDS.index(kind)
        fill[r] += L
        used += L
    # padding: each leftover run is its own BOS "document" that never enters the loss
    for r in range(n_rows):
        if fill[r] < N_CTX:
            rows_pos[r, fill[r]:] = np.arange(N_CTX - fill[r])
    return rows_tok, rows_pos, rows_w, rows_kind, used / (n_rows * N_CTX)


def write_ioi_set(path, rng, templates, names, pool):
    """N_HELDOUT_PROMPTS IOI prompts cycling through templates, ABBA and BABA alternating per cycle.
    Every prompt token must be a trained id: an untrained one would test an unknown word, not a frame."""
    exs = []
    for i in range(N_HELDOUT_PROMPTS):
        form = ["ABBA", "BABA"][(i // len(templates)) % 2]
        exs.append(ioi_spec.make_ioi(rng, templates[i % len(templates)], names, form=form))
    trained = set(pool) | {BOS}
    untrained = {t for seq in gpt2_tokens.encode_many([e["prompt"] for e in exs]) for t in seq} - trained
    assert not untrained, f"{os.path.basename(path)}: untrained tokens {gpt2_tokens.token_strings(sorted(untrained))}"
    with open(path, "w") as f:
        for ex in exs:
            f.write(json.dumps({"prompt": ex["prompt"], "answer": ex["answer"], "wrong": ex["wrong"], "form": ex["form"]}) + "\n")


def write_eval_sets(seed, pool, eval_dir):
    os.makedirs(eval_dir, exist_ok=True)
    _, heldout_names = ioi_spec.split_names(seed)
    write_ioi_set(os.path.join(eval_dir, "ioi_heldout.jsonl"), random.Random(seed + 1000), ioi_spec.HELDOUT_TEMPLATES, heldout_names, pool)
    # The second and third held-out sets, built the same way from their own streams.
    write_ioi_set(os.path.join(eval_dir, "ioi_fresh_templates.jsonl"), random.Random(seed + 4000), ioi_spec.FRESH_TEMPLATES,
                  heldout_names, pool)
    write_ioi_set(os.path.join(eval_dir, "ioi_third_templates.jsonl"), random.Random(seed + 5000), ioi_spec.THIRD_TEMPLATES,
                  heldout_names, pool)
    rng = random.Random(seed + 2000)
    seqs = []
    for _ in range(EVAL_REPEAT_BATCH):
        r = [rng.choice(pool) for _ in range(EVAL_REPEAT_N)]
        seqs.append([BOS] + r + r)
    with open(os.path.join(eval_dir, "repeated_tokens.json"), "w") as f:
        json.dump({"description": f"BOS + N random token ids + the same N ids again (N = {EVAL_REPEAT_N}); ids drawn "
                                  "uniformly from trained_token_ids.json (minus BOS) with Python random.Random"
                                  f"({seed + 2000}). Ids outside the trained set have ~zero embeddings in this model.",
                   "n_repeat": EVAL_REPEAT_N, "bos": BOS, "sequences": seqs}, f)
        f.write("\n")
    with open(os.path.join(eval_dir, "trained_token_ids.json"), "w") as f:
        json.dump({"description": "GPT-2 token ids with trained embedding rows; every other row of wte is ~0 "
                                  "(std 1e-3) so the model never predicts it.", "ids": sorted(pool + [BOS])}, f)
        f.write("\n")


def curriculum(c_ioi_share, c_nonce_share=None):
    """STAGES, with stage C's IOI share raised to c_ioi_share at the expense of its induction
    share, and its nonce-name share set to c_nonce_share (None: as in STAGES)."""
    stages = copy.deepcopy(STAGES)
    if c_nonce_share is not None:
        stages[-1]["nonce_share"] = c_nonce_share
    if c_ioi_share is not None:
        shares = stages[-1]["token_share"]
        shares["induction"] += shares["ioi"] - c_ioi_share
        shares["ioi"] = c_ioi_share
        assert shares["induction"] >= 0, "--c-ioi-share leaves no room for stage C's induction share"
    return stages


def stage_docs(rng, stage, n_rows, train_names, nonce, text_docs, grammar_share, grammar):
    """IOI, filler and text documents of one curriculum stage (induction docs come later,
    once the vocabulary is known)."""
    budget = {k: int(stage["token_share"][k] * n_rows * N_CTX * 1.02) for k in KINDS}  # slack for packing
    # Documents per token budget: a train template averages ~18 tokens, a grammar frame ~20.
    share = None if grammar_share == 0 else (grammar_share if stage["name"] != STAGES[0]["name"] else 0.0)
    per_doc = 18 if share is None else 20
    docs = [("ioi", d) for d in ioi_docs(rng, budget["ioi"] // per_doc, train_names, nonce, stage["nonce_share"], share, grammar)]
    docs += [("filler", d) for d in filler_docs(rng, budget["filler"] // 16)]
    n_tok = 0
    while n_tok < budget["text"]:
        order = list(range(len(text_docs)))
        rng.shuffle(order)
        for i in order:
            docs.append(("text", [BOS] + text_docs[i]))
            n_tok += len(text_docs[i]) + 1
            if n_tok >= budget["text"]:
                break
    return docs, budget


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tokens", type=int, default=4_000_000, help="training tokens (rows x 128)")
    ap.add_argument("--out", default=os.path.join(HERE, "data"))
    ap.add_argument("--eval-dir", default=EVAL_DIR, help="where the eval sets go (they depend on the vocabulary)")
    ap.add_argument("--grammar-share", type=float, default=0.0,
                    help="share of IOI documents in stages B and C framed by ioi_spec.grammar_template (default 0; reproduce.sh: 0.5)")
    ap.add_argument("--extra-names", action="store_true",
                    help="add ioi_spec.EXTRA_TRAIN_NAMES to the IOI training names (off by default; on in reproduce.sh)")
    ap.add_argument("--c-ioi-share", type=float, default=None, metavar="X (0-1)",
                    help="stage C's IOI token share, taken from its induction share (default: STAGES as written; reproduce.sh: 0.65)")
    ap.add_argument("--c-nonce-share", type=float, default=None, metavar="X (0-1)",
                    help="share of stage C's IOI sentences with capitalised non-name words as names (default: STAGES)")
    ap.add_argument("--to-place-leads", action="store_true",
                    help="add ioi_spec.GRAMMAR_LEAD_TO_PLACE to the grammar's lead-ins (off by default; on in reproduce.sh)")
    ap.add_argument("--more-frames", action="store_true",
                    help="add ioi_spec's MORE_* phrases and '... when' openings to the grammar (off by default; on in reproduce.sh)")
    ap.add_argument("--random-vp-share", type=float, default=0.0, metavar="X (0-1)",
                    help="share of grammar frames whose first clause is 1-4 random lowercase text words (default 0; reproduce.sh: 0.3)")
    args = ap.parse_args()
    if args.c_ioi_share is not None and not 0 <= args.c_ioi_share <= 1:
        ap.error("--c-ioi-share must lie in [0, 1]")
    if args.c_nonce_share is not None and not 0 <= args.c_nonce_share <= 1:
        ap.error("--c-nonce-share must lie in [0, 1]")
    if not 0 <= args.random_vp_share <= 1:
        ap.error("--random-vp-share must lie in [0, 1]")
    return args


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    check_single_token_names()
    train_names, heldout_names = ioi_spec.split_names(args.seed)
    if args.extra_names:
        train_names = train_names + ioi_spec.EXTRA_TRAIN_NAMES
    stages = curriculum(args.c_ioi_share, args.c_nonce_share)
    text_docs, text_stats = text_corpus.build_text_docs(gpt2_tokens.encode_many)
    text_vocab = sorted({t for d in text_docs for t in d})
    grammar = ioi_spec.Grammar(args.to_place_leads, args.more_frames, lowercase_words(text_vocab),
                               args.random_vp_share) if args.grammar_share > 0 else None
    nonce = nonce_names(text_vocab, grammar, train_names)
    n_rows_total = args.tokens // N_CTX
    stage_rows = [int(round(st["row_share"] * n_rows_total)) for st in stages]
    stage_rows[-1] = n_rows_total - sum(stage_rows[:-1])
    per_stage = [stage_docs(rng, st, n, train_names, nonce, text_docs, args.grammar_share, grammar)
                 for st, n in zip(stages, stage_rows)]
    # The trained vocabulary: everything the documents use, plus anything a held-out template
    # could produce (those ids then still get trained embeddings through the induction data).
    vocab = sorted(({t for d in text_docs for t in d} | {t for docs, _ in per_stage for _, d in docs for t in d}
                    | template_vocab(grammar=grammar)) - {BOS})
    pool = vocab  # ids for random induction sequences: exactly the trained vocabulary
    parts = []
    for st, n, (docs, budget) in zip(stages, stage_rows, per_stage):
        n_tok = 0
        while n_tok < budget["induction"]:
            d = induction_doc(rng, pool, st["induction_n"])
            docs.append(("induction", d))
            n_tok += len(d)
        rng.shuffle(docs)
        docs = [(k, d, loss_weights(k, d, rng)) for k, d in docs]
        parts.append(pack(docs, rng, n))
    tok, pos, weight, kind = (np.concatenate([p[i] for p in parts]) for i in range(4))
    util = float(np.mean([p[4] for p in parts]))

    vocab_all = [BOS] + vocab
    assert set(np.unique(tok).tolist()) <= set(vocab_all)
    np.savez_compressed(os.path.join(args.out, "train.npz"), tokens=tok, pos=pos, weight=weight, kind=kind,
                        vocab=np.array(vocab_all, dtype=np.int32))
    kinds_tokens = {k: int((kind == i).sum()) for i, k in enumerate(KINDS)}
    kinds_loss = {k: int(((kind == i) & (weight > 0)).sum()) for i, k in enumerate(KINDS)}
    stats = {"seed": args.seed, **({"grammar_share": args.grammar_share} if grammar else {}),
             **({"more_frames": True} if args.more_frames else {}),
             **({"random_vp_share": args.random_vp_share} if args.random_vp_share else {}),
             **({"extra_names": True} if args.extra_names else {}),
             **({"to_place_leads": True} if args.to_place_leads else {}), "rows": n_rows_total, "n_ctx": N_CTX, "tokens": n_rows_total * N_CTX,
             "row_utilisation": round(util, 4), "stages": stages, "stage_rows": stage_rows,
             "tokens_by_kind": kinds_tokens, "keep_prob": KEEP_PROB, "key_weight": KEY_WEIGHT,
             "loss_positions_by_kind": kinds_loss, "active_vocab": len(vocab_all),
             "train_names": train_names, "heldout_names": heldout_names, "nonce_names": nonce,
             "n_train_templates": len(ioi_spec.TRAIN_TEMPLATES), "n_heldout_templates": len(ioi_spec.HELDOUT_TEMPLATES),
             "text": text_stats, "text_sources": {"fortunes": text_corpus.FORTUNE_FILES, "common-licenses": text_corpus.LICENSE_FILES}}
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=1)
    write_eval_sets(args.seed, pool, args.eval_dir)
    print(json.dumps({k: v for k, v in stats.items() if k not in ("train_names", "heldout_names", "text_sources", "nonce_names")}, indent=1))


if __name__ == "__main__":
    main()
