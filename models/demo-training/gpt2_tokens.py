"""Python side of the GPT-2 tokenizer bridge (tokenize.mjs, js-tiktoken r50k_base)."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BOS = 50256  # <|endoftext|>, also GPT-2's EOS and TransformerLens's default BOS


def encode_many(texts, pieces=False):
    """Tokenize a list of strings with one node process; returns list of id lists
    (or, with pieces=True, lists of token strings)."""
    if not texts:
        return []
    payload = "\n".join(json.dumps(t) for t in texts) + "\n"
    cmd = ["node", os.path.join(HERE, "tokenize.mjs")] + (["--pieces"] if pieces else [])
    res = subprocess.run(cmd, input=payload.encode(),
                         stdout=subprocess.PIPE, check=True, cwd=HERE)
    ids = [json.loads(l) for l in res.stdout.decode().splitlines() if l]
    assert len(ids) == len(texts), (len(ids), len(texts))
    return ids


def encode(text):
    return encode_many([text])[0]


def token_strings(ids):
    """The string of each single token id, e.g. 5335 -> " Mary"."""
    payload = json.dumps(list(ids)) + "\n"
    res = subprocess.run(["node", os.path.join(HERE, "tokenize.mjs"), "--decode"], input=payload.encode(),
                         stdout=subprocess.PIPE, check=True, cwd=HERE)
    return json.loads(res.stdout.decode().splitlines()[0])
