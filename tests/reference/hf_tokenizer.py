"""Reference Hugging Face tokenizers, written from the `tokenizers` documentation and source
semantics (Debian's python3 has no `tokenizers` package), independently of hooklab's C++:

* byte-level BPE (GPT-2 style): vocab.json + merges.txt, or tokenizer.json model "BPE" with the
  ByteLevel pre-tokenizer and decoder;
* WordLevel: tokenizer.json model "WordLevel" with the Whitespace (regex \\w+|[^\\w\\s]+) or
  WhitespaceSplit pre-tokenizer; decoding joins tokens with one space.

Added tokens (and the config's bos/eos tokens) are cut out of the text first, leftmost then
longest. BPE merges are applied as the `tokenizers` BPE model does: repeatedly the adjacent pair
with the lowest merge rank, the leftmost on ties, one pair at a time, pairs of token ids (not
concatenated strings). Written for clarity (quadratic loops), not speed.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple


def bytes_to_unicode() -> Dict[int, str]:
    """openai/gpt-2 encoder.py's byte -> printable character table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}

# Unicode White_Space (PropList.txt); JavaScript's \s drops U+0085 and adds U+FEFF.
WHITE_SPACE = [(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
               (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000)]
JS_SPACE = [r for r in WHITE_SPACE if r != (0x85, 0x85)] + [(0xFEFF, 0xFEFF)]
# Other_Alphabetic code points that are not marks (circled and squared Latin letters).
OTHER_ALPHABETIC_SYMBOLS = [(0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189)]


def _ranges(predicate) -> List[Tuple[int, int]]:
    out: List[Tuple[int, int]] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF or not predicate(chr(cp)):
            continue
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _class(ranges: Sequence[Tuple[int, int]]) -> str:
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


_LETTER = _class(_ranges(lambda c: unicodedata.category(c).startswith("L")))
_NUMBER = _class(_ranges(lambda c: unicodedata.category(c).startswith("N")))
_JS_SPACE = _class(JS_SPACE)
# GPT-2's pre-tokenizer regex with \p{L}, \p{N} and \s spelled out as classes.
GPT2_PATTERN = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{_LETTER}]+| ?[{_NUMBER}]+| ?[^{_JS_SPACE}{_LETTER}{_NUMBER}]+"
    rf"|[{_JS_SPACE}]+(?![^{_JS_SPACE}])|[{_JS_SPACE}]+")
# Rust regex's Unicode \w (UTS #18: Alphabetic, marks, Nd, Pc, join controls) and \s.
_RUST_WORD = _class(_ranges(lambda c: unicodedata.category(c) in ("Nl", "Nd", "Pc") or
                            unicodedata.category(c)[0] in "LM") + [(0x200C, 0x200D)] + OTHER_ALPHABETIC_SYMBOLS)
_RUST_SPACE = _class(WHITE_SPACE)
WHITESPACE_PATTERN = re.compile(rf"[{_RUST_WORD}]+|[^{_RUST_WORD}{_RUST_SPACE}]+")
WHITESPACE_SPLIT_PATTERN = re.compile(rf"[^{_RUST_SPACE}]+")


class HfTokenizer:
    def __init__(self, kind: str, vocab: Dict[str, int], specials: Dict[str, int]):
        self.kind = kind  # "bpe" or "wordlevel"
        self.vocab = dict(vocab)  # token string (byte-level spelling for BPE) -> id
        self.specials = dict(specials)  # literal text -> id
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.id_to_special = {i: t for t, i in self.specials.items()}
        self.ranks: Dict[Tuple[str, str], int] = {}
        self.unk: Optional[str] = None
        self.add_prefix_space = False
        self.ignore_merges = False
        self.word_pattern = WHITESPACE_PATTERN

    # --- loading -------------------------------------------------------------------------
    @staticmethod
    def from_vocab_merges(vocab_json: str, merges_txt: str, special_ids: Sequence[int]) -> "HfTokenizer":
        tok = HfTokenizer("bpe", json.loads(vocab_json), {})
        lines = merges_txt.split("\n")
        if lines and lines[0].startswith("#version"):
            lines = lines[1:]
        for line in lines:
            line = line.rstrip("\r")
            if line:
                a, b = line.split(" ")
                tok.ranks.setdefault((a, b), len(tok.ranks))
        tok._add_config_specials(special_ids)
        return tok

    @staticmethod
    def from_tokenizer_json(text: str, special_ids: Sequence[int]) -> "HfTokenizer":
        root = json.loads(text)
        model = root["model"]
        added = {t["content"]: t["id"] for t in root.get("added_tokens") or []}
        # Files saved before tokenizers wrote the model type (GPT-2's on the hub) have none;
        # tokenizers tries each model in turn, and only BPE has merges.
        model_type = model.get("type", "BPE" if "merges" in model else None)
        kind = {"BPE": "bpe", "WordLevel": "wordlevel"}[model_type]
        tok = HfTokenizer(kind, model["vocab"], added)
        tok.unk = model.get("unk_token")
        if kind == "bpe":
            for entry in model["merges"]:
                a, b = entry.split(" ") if isinstance(entry, str) else entry
                tok.ranks.setdefault((a, b), len(tok.ranks))
            tok.add_prefix_space = root["pre_tokenizer"].get("add_prefix_space", True)
            tok.ignore_merges = model.get("ignore_merges", False)
        else:
            split = root["pre_tokenizer"]["type"]
            tok.word_pattern = WHITESPACE_PATTERN if split == "Whitespace" else WHITESPACE_SPLIT_PATTERN
        tok._add_config_specials(special_ids)
        return tok

    def _add_config_specials(self, special_ids: Sequence[int]) -> None:
        for i in special_ids:
            if i in self.id_to_special or i not in self.id_to_token:
                continue
            token = self.id_to_token[i]
            text = bytes(CHAR_TO_BYTE[c] for c in token).decode("utf-8", "replace") if self.kind == "bpe" else token
            self.specials[text] = i
            self.id_to_special[i] = text

    # --- encoding ------------------------------------------------------------------------
    def _split_specials(self, text: str) -> List[Tuple[str, Optional[int]]]:
        """(segment, None) for plain text, ("", id) for a special token: leftmost, then longest."""
        out: List[Tuple[str, Optional[int]]] = []
        position = 0
        while True:
            best = None
            for special in self.specials:
                at = text.find(special, position)
                if at >= 0 and (best is None or at < best[0] or (at == best[0] and len(special) > len(best[1]))):
                    best = (at, special)
            end = len(text) if best is None else best[0]
            if end > position:
                out.append((text[position:end], None))
            if best is None:
                return out
            out.append(("", self.specials[best[1]]))
            position = best[0] + len(best[1])

    def _bpe_word(self, word: str) -> List[int]:
        if self.ignore_merges and word in self.vocab:
            return [self.vocab[word]]
        parts = []
        for c in word:
            if c in self.vocab:
                parts.append(c)
            elif self.unk is not None:
                parts.append(self.unk)
            else:
                raise ValueError(f"no token for {c!r} and no unk_token")
        while len(parts) > 1:
            ranked = [(self.ranks[(parts[i], parts[i + 1])], i) for i in range(len(parts) - 1)
                      if (parts[i], parts[i + 1]) in self.ranks]
            if not ranked:
                break
            _, i = min(ranked)
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.vocab[p] for p in parts]

    def _encode_segment(self, segment: str) -> List[int]:
        if self.kind == "wordlevel":
            unk = self.vocab[self.unk]
            return [self.vocab.get(w, unk) for w in self.word_pattern.findall(segment)]
        if self.add_prefix_space and not segment.startswith(" "):
            segment = " " + segment
        ids: List[int] = []
        for piece in GPT2_PATTERN.findall(segment):
            ids += self._bpe_word("".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8")))
        return ids

    def encode(self, text: str) -> List[int]:
        ids: List[int] = []
        for segment, special in self._split_specials(text):
            ids += [special] if special is not None else self._encode_segment(segment)
        return ids

    # --- decoding ------------------------------------------------------------------------
    def decode(self, ids: Sequence[int]) -> str:
        if self.kind == "wordlevel":
            return " ".join(self.id_to_special.get(i) or self.id_to_token[i] for i in ids)
        data = b""
        for i in ids:
            if i in self.id_to_special:
                data += self.id_to_special[i].encode("utf-8")
            else:
                data += bytes(CHAR_TO_BYTE[c] for c in self.id_to_token[i])
        return data.decode("utf-8", "replace")
