#!/usr/bin/env python3
"""Generates tests/fixtures/own-tokenizer/: small Hugging Face tokenizers of every kind hooklab
reads, each in a model directory with a tiny random GPT-2 whose vocab_size fits it, plus
encodings.json: the reference tokenizer's (tests/reference/hf_tokenizer.py) ids and decoded text
for a few hundred strings (ASCII, Unicode, whitespace runs, unknown words, special tokens).

  bpe-files      vocab.json + merges.txt, a byte-level BPE learned from a small corpus, ids
                 shuffled (not GPT-2's layout), plus merges that spell an existing token by a
                 second pair (Hugging Face ranks pairs, not strings)
  bpe-json       the same BPE as tokenizer.json: merges as [a, b] pairs, add_prefix_space,
                 the control bytes left out of the vocabulary (they become unk_token "<unk>"),
                 added tokens "<|pad|>" past the vocabulary and the model's vocab_size padded
  wordlevel      tokenizer.json WordLevel + Whitespace, unk "[UNK]", added "[BOS]" "[EOS]"
  wordlevel-split  WordLevel + WhitespaceSplit

Output is a pure function of this script (fixed seeds). Run:
  /usr/bin/python3 tests/reference/make_tokenizer_fixtures.py
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "tools"))
from hf_tokenizer import BYTE_TO_CHAR, GPT2_PATTERN, WHITESPACE_PATTERN, HfTokenizer  # noqa: E402
from make_random_gpt2 import write_model  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "own-tokenizer")

NAMES = ["Mary", "John", "Alice", "Bob", "Zoë", "José", "Ana", "Tom"]
PLACES = ["store", "park", "school", "garden", "station", "café", "museum"]
THINGS = ["a drink", "a book", "the keys", "an apple", "two tickets", "3 pens", "some water"]
VERBS = ["gave", "handed", "passed", "showed", "sent"]


def corpus(rng: random.Random, n: int) -> list:
    lines = []
    for _ in range(n):
        a, b = rng.sample(NAMES, 2)
        lines.append(f"When {a} and {b} went to the {rng.choice(PLACES)}, {b} {rng.choice(VERBS)} "
                     f"{rng.choice(THINGS)} to {a}.")
    lines += ["It's a test: don't panic, we'll see what I'd do.", "Numbers 12345 and 3.14 and 2026-12-04!",
              "naïve café résumé — «quoted» text", "日本語のテキストです。", "Line one\nLine two\n\n  indented",
              "tabs\tand  double  spaces", "emoji 🙂 and symbols ≈ √ ∑"]
    return lines


def train_bpe(lines: list, merges_wanted: int) -> tuple:
    """Byte-level BPE training: the most frequent adjacent pair (ties: smallest pair) each step."""
    words = collections.Counter()
    for line in lines:
        for piece in GPT2_PATTERN.findall(line):
            words[tuple(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))] += 1
    merges = []
    for _ in range(merges_wanted):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = collections.Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    return merges


def second_spellings(merges: list, vocab: set, limit: int) -> list:
    """Pairs (u, v) not yet merged whose concatenation is already a token."""
    known = set(merges)
    extra = []
    for a, b in merges:
        token = a + b
        for cut in range(1, len(token)):
            pair = (token[:cut], token[cut:])
            if pair not in known and pair[0] in vocab and pair[1] in vocab:
                extra.append(pair)
                known.add(pair)
                break
        if len(extra) >= limit:
            break
    return extra


def write_json(path: str, value) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def write_model_dir(name: str, vocab_size: int, bos: int, eos: int, seed: int) -> str:
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    write_model(out, layers=1, d_model=16, heads=2, d_mlp=32, n_ctx=64, vocab=vocab_size, seed=seed,
                command="tests/reference/make_tokenizer_fixtures.py")
    os.remove(os.path.join(out, "README.md"))
    with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config.update(bos_token_id=bos, eos_token_id=eos)
    write_json(os.path.join(out, "config.json"), config)
    return out


def byte_level_bpe(rng: random.Random, lines: list) -> tuple:
    merges = train_bpe(lines, 300)
    tokens = [BYTE_TO_CHAR[b] for b in range(256)] + [a + b for a, b in merges]
    tokens = list(dict.fromkeys(tokens))  # a merge may recreate a token
    merges += second_spellings(merges, set(tokens), 12)
    tokens.append("<|endoftext|>")
    rng.shuffle(tokens)
    return {t: i for i, t in enumerate(tokens)}, merges


def make_bpe_files(vocab: dict, merges: list) -> str:
    eot = vocab["<|endoftext|>"]
    out = write_model_dir("bpe-files", len(vocab), eot, eot, seed=11)
    write_json(os.path.join(out, "vocab.json"), vocab)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    return out


def make_bpe_json(vocab: dict, merges: list) -> str:
    controls = {BYTE_TO_CHAR[b] for b in range(1, 9)}
    kept = [t for t in sorted(vocab, key=vocab.get) if t not in controls] + ["<unk>"]
    ids = {t: i for i, t in enumerate(kept)}
    merges = [m for m in merges if m[0] not in controls and m[1] not in controls]
    pad = len(ids)
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": ids["<|endoftext|>"], "content": "<|endoftext|>", "single_word": False,
                          "lstrip": False, "rstrip": False, "normalized": True, "special": True},
                         {"id": pad, "content": "<|pad|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": ids, "merges": [list(m) for m in merges]},
    }
    out = write_model_dir("bpe-json", pad + 1 + 5, ids["<|endoftext|>"], ids["<|endoftext|>"], seed=12)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)
    return out


def make_word_level(name: str, split: str, lines: list, seed: int) -> str:
    counts = collections.Counter(w for line in lines for w in WHITESPACE_PATTERN.findall(line))
    words = ["[UNK]"] + sorted(counts, key=lambda w: (-counts[w], w))[:150]
    if split == "WhitespaceSplit":
        words += sorted({w for line in lines for w in line.split()} - set(words))[:60]
    ids = {w: i for i, w in enumerate(words)}
    bos, eos = len(ids), len(ids) + 1
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": bos, "content": "[BOS]", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True},
                         {"id": eos, "content": "[EOS]", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": {"type": split}, "post_processor": None, "decoder": None,
        "model": {"type": "WordLevel", "vocab": ids, "unk_token": "[UNK]"},
    }
    out = write_model_dir(name, eos + 1, bos, eos, seed=seed)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer)
    return out


def test_strings(rng: random.Random, lines: list) -> list:
    fixed = ["", " ", "Hello world", "hello  world", "  leading", "trailing  ", "a\n\nb", "\n\n\n", "\t\ttab",
             "x \u00a0 y", "x\u3000y", "a \u0085 b", "a\ufeffb", "café naïve résumé", "e\u0301cole", "Zoë José",
             "日本語のテキスト", "emoji 🙂👍🏽!", "Ⓐⓑ circled", "x\u200dy", "snake_case_name", "x²+y³", "Ω≈ç√∫",
             "It's", "I'll don't we've", "3.14159", "2026-12-04", "<|endoftext|>", "a<|endoftext|>b",
             "<|endoftext|><|endoftext|>", " <|endoftext|> ", "[BOS] Mary [EOS]", "[BOS][EOS]", "<|pad|>x",
             "control\x01\x02bytes", "\x07", "unknownword xyzzy qwerty", "supercalifragilistic", "!!!???...",
             "«quoted» — dash", "tabs\tand  double  spaces", "When Mary and John went to the store"]
    alphabet = list("abcdefghij MJ.,'!?\n\t") + ["é", "日", "🙂", "\u0301", "  ", "<|endoftext|>", "[BOS]", "ö"]
    randoms = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(120)]
    return fixed + corpus(random.Random(99), 140)[:140] + randoms


def main() -> int:
    rng = random.Random(2026)
    lines = corpus(random.Random(7), 400)
    vocab, merges = byte_level_bpe(rng, lines)
    dirs = [make_bpe_files(vocab, merges), make_bpe_json(vocab, merges),
            make_word_level("wordlevel", "Whitespace", lines, 13),
            make_word_level("wordlevel-split", "WhitespaceSplit", lines, 14)]
    strings = test_strings(random.Random(5), lines)
    for out in dirs:
        with open(os.path.join(out, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        specials = [config["bos_token_id"], config["eos_token_id"]]
        if os.path.exists(os.path.join(out, "tokenizer.json")):
            with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
                tok = HfTokenizer.from_tokenizer_json(f.read(), specials)
        else:
            with open(os.path.join(out, "vocab.json"), encoding="utf-8") as f, \
                 open(os.path.join(out, "merges.txt"), encoding="utf-8") as g:
                tok = HfTokenizer.from_vocab_merges(f.read(), g.read(), specials)
        cases = [{"text": s, "ids": tok.encode(s), "decoded": tok.decode(tok.encode(s))} for s in strings]
        write_json(os.path.join(out, "encodings.json"),
                   {"tokenizer": tok.kind, "generated_by": "tests/reference/make_tokenizer_fixtures.py",
                    "cases": cases})
        print(f"{os.path.relpath(out, ROOT)}: {tok.kind}, {len(cases)} strings, "
              f"{sum(len(c['ids']) for c in cases)} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
