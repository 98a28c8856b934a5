"""Plain English text from Debian packages, cut to a small closed vocabulary.

Sources (both installed by Debian packages):
  * fortunes  (apt-get install fortunes): /usr/share/games/fortunes/<file>, the files in
    FORTUNE_FILES (quotations, jokes, definitions); files of ASCII art, song lyrics,
    book/TV quotes and the ones marked as possibly offensive are left out.
  * base-files: /usr/share/common-licenses/<file> for LICENSE_FILES (licence prose).

Every text is split into sentences; a sentence is kept only if all its GPT-2 tokens are
among the TOP_K most frequent tokens of the whole corpus. That keeps the model's active
vocabulary at a few thousand ids, which is what makes 2-core training feasible.
"""
import collections
import os
import re

FORTUNE_DIR = "/usr/share/games/fortunes"
FORTUNE_FILES = """computers cookie definitions education food fortunes goedel humorists kids law linux
linuxcookie literature love magic medicine miscellaneous news paradoxum people pets platitudes politics
riddles science sports tao wisdom work""".split()
LICENSE_DIR = "/usr/share/common-licenses"
LICENSE_FILES = ["GPL-3", "LGPL-3", "Apache-2.0", "GFDL-1.3", "MPL-2.0", "Artistic", "CC0-1.0"]
TOP_K = 6000
MAX_DOC_TOKENS = 100  # text documents are runs of consecutive kept sentences up to this length

_SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-Z"])')


def _sentences(text):
    text = re.sub(r"\s+", " ", text).strip()
    return [s for s in _SENTENCE_END.split(text) if len(s) > 15]


def load_passages():
    """List of (source, [sentences]) in file order."""
    out = []
    for name in FORTUNE_FILES:
        path = os.path.join(FORTUNE_DIR, name)
        if not os.path.exists(path):
            raise SystemExit(f"{path} missing: run `apt-get install -y fortunes`")
        with open(path, encoding="utf-8", errors="replace") as f:
            for fortune in f.read().split("\n%\n"):
                out.append(("fortunes/" + name, _sentences(fortune)))
    for name in LICENSE_FILES:
        with open(os.path.join(LICENSE_DIR, name), encoding="utf-8") as f:
            for para in f.read().split("\n\n"):
                out.append(("common-licenses/" + name, _sentences(para)))
    return out


def build_text_docs(encode_many):
    """Returns (docs, stats): docs are token-id lists (no BOS) of kept, consecutive sentences."""
    passages = load_passages()
    flat = [(src, s) for src, sents in passages for s in sents]
    # A leading space makes a sentence tokenize the way it does mid-text ("I" -> " I").
    ids = encode_many([(" " + s) for _, s in flat])
    counts = collections.Counter(t for seq in ids for t in seq)
    top = {t for t, _ in counts.most_common(TOP_K)}
    docs, cur, cur_src = [], [], None
    n_kept = 0
    for (src, _), seq in zip(flat, ids):
        keep = all(t in top for t in seq) and len(seq) <= MAX_DOC_TOKENS
        if not keep or src != cur_src or len(cur) + len(seq) > MAX_DOC_TOKENS:
            if cur:
                docs.append(cur)
            cur, cur_src = [], src
        if keep:
            cur = cur + seq
            n_kept += 1
    if cur:
        docs.append(cur)
    stats = {"sentences_total": len(flat), "sentences_kept": n_kept, "docs": len(docs),
             "tokens": sum(map(len, docs)), "distinct_tokens": len({t for d in docs for t in d}),
             "corpus_tokens": sum(counts.values()), "corpus_distinct_tokens": len(counts)}
    return docs, stats
