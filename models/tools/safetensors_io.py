"""Minimal safetensors reader/writer (numpy only; no `safetensors` package needed).

Format (https://huggingface.co/docs/safetensors): an 8-byte little-endian u64 N, then N bytes of
UTF-8 JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the data section. Offsets are relative to the start of the data section; tensors are stored
contiguously, little-endian, C order. The writer pads the header with spaces to a multiple of 8 and
orders tensors by (item size descending, name) so every tensor is aligned to its item size and the
data section has no holes (the official library rejects holes).

bfloat16 has no numpy dtype: the reader returns BF16 tensors upcast to float32 (exact), the writer
converts float32 input to BF16 with round-to-nearest-even.
"""

from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

# safetensors dtype string -> (numpy dtype used for storage, item size)
_DTYPES = {
    "F64": (np.dtype("<f8"), 8),
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),  # raw bits; converted on read/write
    "I64": (np.dtype("<i8"), 8),
    "I32": (np.dtype("<i4"), 4),
    "I16": (np.dtype("<i2"), 2),
    "I8": (np.dtype("i1"), 1),
    "U8": (np.dtype("u1"), 1),
    "BOOL": (np.dtype("?"), 1),
}


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    """uint16 bfloat16 bit patterns -> float32 (exact)."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> uint16 bfloat16 bit patterns, round to nearest, ties to even (finite inputs)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("f32_to_bf16_bits: non-finite input")
    u = x.view(np.uint32).astype(np.uint64)
    rounding = ((u >> np.uint64(16)) & np.uint64(1)) + np.uint64(0x7FFF)
    return ((u + rounding) >> np.uint64(16)).astype(np.uint16)


def read_header(path: str) -> Tuple[dict, int]:
    """Returns (header dict, byte offset of the data section)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000:
            raise ValueError(f"{path}: implausible header length {n}")
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str], Dict[str, str]]:
    """Reads every tensor. Returns (tensors, metadata, dtypes).

    tensors[name] is a numpy array: F32/F16/F64/ints as stored, BF16 upcast to float32.
    dtypes[name] is the safetensors dtype string as stored in the file.
    """
    header, data_start = read_header(path)
    with open(path, "rb") as f:
        f.seek(data_start)
        data = f.read()
    metadata = header.pop("__metadata__", None) or {}
    tensors: Dict[str, np.ndarray] = {}
    dtypes: Dict[str, str] = {}
    spans = []
    for name, info in header.items():
        dt = info["dtype"]
        if dt not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dt}")
        np_dt, size = _DTYPES[dt]
        shape = [int(s) for s in info["shape"]]
        begin, end = (int(v) for v in info["data_offsets"])
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * size or end > len(data) or begin < 0:
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {begin}..{end} for {dt}{shape}")
        arr = np.frombuffer(data, dtype=np_dt, count=count, offset=begin).reshape(shape)
        if dt == "BF16":
            arr = bf16_bits_to_f32(arr)
        else:
            arr = arr.copy()
        tensors[name] = arr
        dtypes[name] = dt
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError(f"{path}: data section has a hole or overlap at byte {pos}")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes after the last tensor")
    return tensors, {str(k): str(v) for k, v in metadata.items()}, dtypes


def write_safetensors(
    path: str,
    tensors: Mapping[str, Tuple[str, np.ndarray]],
    metadata: Optional[Mapping[str, str]] = None,
) -> None:
    """Writes tensors given as {name: (dtype string, array)}.

    Arrays are converted to the stated dtype (BF16 from float32 with round-to-nearest-even).
    """
    prepared = []
    for name, (dt, arr) in tensors.items():
        if dt not in _DTYPES:
            raise ValueError(f"unsupported dtype {dt}")
        arr = np.asarray(arr)
        if dt == "BF16":
            raw = f32_to_bf16_bits(arr.astype(np.float32))
        else:
            raw = np.ascontiguousarray(arr.astype(_DTYPES[dt][0]))
        prepared.append((name, dt, list(arr.shape), raw.tobytes(order="C")))
    prepared.sort(key=lambda t: (-_DTYPES[t[1]][1], t[0]))
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    off = 0
    for name, dt, shape, raw in prepared:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-len(hbytes)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for _, _, _, raw in prepared:
            f.write(raw)
