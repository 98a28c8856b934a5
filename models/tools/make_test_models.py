#!/usr/bin/env python3
"""Writes the random test models (models/testdata/<name>/model.safetensors) that the committed
fixtures were computed on, so a clone does not carry 13 MB of random numbers.

tests/fixtures/manifest.json is the one place that says which models exist: for each, the
make_random_gpt2.py command that wrote it and the SHA-256 of its files. A model whose files are
missing or differ is regenerated, and its new bytes must match the manifest: if numpy ever draws a
different stream, the fixtures no longer describe these weights, and this fails loudly instead of
letting every parity test compare against the wrong model.

    python3 models/tools/make_test_models.py          # numpy only; silent when everything matches
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MANIFEST = os.path.join(REPO, "tests", "fixtures", "manifest.json")
GENERATOR = "models/tools/make_random_gpt2.py"


def sha256(path: str) -> str | None:
    if not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mismatched(model_dir: str, expected: dict) -> list:
    return [name for name, digest in expected.items() if sha256(os.path.join(model_dir, name)) != digest]


def generator_args(command: str) -> list:
    """The make_random_gpt2.py arguments of a manifest command (the interpreter path is not ours)."""
    words = shlex.split(command)
    if GENERATOR not in words:
        raise SystemExit(f"make_test_models: manifest command does not run {GENERATOR}: {command[:120]}")
    return words[words.index(GENERATOR) + 1:]


def main() -> int:
    with open(MANIFEST) as f:
        models = json.load(f)["models"]
    sys.path.insert(0, os.path.join(REPO, "models", "tools"))
    try:
        import make_random_gpt2
    except ImportError as e:
        print(f"make_test_models: {e}; install python3-numpy (npm run deps does)", file=sys.stderr)
        return 1

    for name, info in models.items():
        model_dir = os.path.join(REPO, info["dir"])
        if not mismatched(model_dir, info["sha256"]):
            continue
        os.chdir(REPO)  # the command's --out is relative to the repository
        make_random_gpt2.main(generator_args(info["command"]))
        wrong = mismatched(model_dir, info["sha256"])
        if wrong:
            print(f"make_test_models: {name}: regenerated {', '.join(wrong)} differ from the SHA-256 in "
                  f"{os.path.relpath(MANIFEST, REPO)}; the fixtures were computed on other weights "
                  f"(numpy's random stream changed?). Regenerate everything with tests/reference/make_fixtures.py.",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
