#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/), small on purpose.

The safetensors and model-load seeds are derived from the committed tiny-c model's header
(its tensor names and layout) shrunk to width 1, plus one file per class the loader refuses;
the config seeds are tiny-c's config.json and edits of it. Run from anywhere; deterministic.
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2,
              "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def safetensors(tensors, metadata=None, pad=b" "):
    """tensors: [(name, dtype, shape, data bytes)] laid out in order, header padded to 8 bytes."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header, separators=(",", ":")).encode()
    text += pad * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def tiny_model():
    """tiny-c's tensors at width 1 (one head, n_inner 1, one position), bf16 values 0.5."""
    with open(os.path.join(ROOT, "models/testdata/tiny-c/model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    shrink = {20: 1, 60: 3, 36: 1, 12: 1}
    tensors = []
    for name, info in sorted(header.items(), key=lambda kv: kv[1].get("data_offsets", [0])[0] if kv[0] != "__metadata__" else -1):
        if name == "__metadata__":
            continue
        shape = [shrink.get(d, d) for d in info["shape"]]
        tensors.append((name, "BF16", shape, b"\x00\x3f" * numel(shape)))
    with open(os.path.join(ROOT, "models/testdata/tiny-c/config.json")) as f:
        config = json.load(f)
    config.update({"n_embd": 1, "n_head": 1, "n_inner": 1, "n_positions": 1, "n_ctx": 1})
    return tensors, config


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def main():
    small = [("a", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), ("b", "F16", [3], b"\x00\x3c" * 3),
             ("c", "BF16", [1], b"\x80\x3f"), ("d", "F64", [1], struct.pack("<d", 0.25)),
             ("e", "I64", [0], b""), ("f", "U8", [2], b"\x01\x02")]
    write("safetensors", "valid-mixed", safetensors(small, {"format": "pt"}))
    write("safetensors", "valid-empty", safetensors([]))
    write("safetensors", "trailing-bytes", safetensors(small) + b"xx")
    write("safetensors", "nul-padding", safetensors(small, pad=b"\0"))
    write("safetensors", "bom", b"\x08\0\0\0\0\0\0\0\xef\xbb\xbf{}   ")
    write("safetensors", "metadata-not-string", safetensors(small, {"step": 1}))
    tensors, config = tiny_model()
    config_text = json.dumps(config, indent=1).encode()
    model = safetensors(tensors, {"format": "pt"})
    write("model_load", "tiny-width-1", struct.pack("<H", len(config_text)) + config_text + model)
    with open(os.path.join(ROOT, "models/testdata/tiny-c/config.json"), "rb") as f:
        write("config", "tiny-c", f.read())
    write("config", "width-1", config_text)
    write("config", "hf-names", json.dumps({"model_type": "gpt2", "num_hidden_layers": 2, "hidden_size": 8,
                                            "num_attention_heads": 2, "vocab_size": 50257,
                                            "max_position_embeddings": 16, "n_inner": None}).encode())
    write("tokenizer", "encode-ascii", b"\0Hello, world! The quick brown fox's 123 tokens.")
    write("tokenizer", "encode-unicode", b"\0" + "naïve café — 東京 😀\n\t  end".encode())
    write("tokenizer", "encode-invalid-utf8", b"\0ab\xc3(\xff\xe2\x82 ok")
    write("tokenizer", "decode-ids", b"\1" + struct.pack("<6i", 464, 2068, 50256, 0, 220, 50257))
    npy_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    npy_header += " " * ((64 - (10 + len(npy_header) + 1) % 64) % 64) + "\n"
    write("npy", "f4-2x3", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(npy_header)) + npy_header.encode() +
          struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    npy8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    npy8 += " " * ((64 - (10 + len(npy8) + 1) % 64) % 64) + "\n"
    write("npy", "f8-2", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(npy8)) + npy8.encode() + struct.pack("<2d", 0.5, -2))


if __name__ == "__main__":
    main()
