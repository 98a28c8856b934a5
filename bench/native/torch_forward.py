#!/usr/bin/env python3
"""PyTorch CPU forward latency of the same GPT-2 directory, for the native benchmark table.

  /usr/bin/python3 bench/native/torch_forward.py --model DIR --threads N --T 8,32,128 [--reps 15]

A plain Hugging Face-style GPT-2 forward (tests/reference/hf_gpt2.py) under inference_mode,
median of `reps` runs after warm-up. One JSON object per T on stdout. Run with OpenBLAS
(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread): Debian's default BLAS is ~10x slower.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))

import torch  # noqa: E402

from hf_gpt2 import hf_logits  # noqa: E402
from hooked_gpt2 import load_hf_dir  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--T", default="8,32,128")
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg, sd, _ = load_hf_dir(args.model)
    g = torch.Generator().manual_seed(1234)
    for t in [int(x) for x in args.T.split(",")]:
        tokens = torch.randint(0, 50000, (t,), generator=g).tolist()
        times = []
        with torch.inference_mode():
            for r in range(args.reps + 2):
                t0 = time.perf_counter()
                hf_logits(cfg, sd, tokens)
                t1 = time.perf_counter()
                if r >= 2:
                    times.append((t1 - t0) * 1000)
        print(json.dumps({"system": "torch-cpu", "backend": torch.__version__ + ("+openblas" if "openblas" in
                          os.environ.get("LD_LIBRARY_PATH", "") else ""), "threads": args.threads, "T": t,
                          "median_ms": statistics.median(times)}), flush=True)


if __name__ == "__main__":
    main()
