"""The protocol's tensor datatypes: which feature types they carry, and their raw (binary) form,
shared by the REST binary extension and gRPC ``raw_*_contents``."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

INTS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
FLOATS = ("FP16", "FP32", "FP64")
NUMPY: dict[str, str] = {
    "BOOL": "?",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
DATATYPES = (*NUMPY, "BYTES")

# datatypes a feature of each JSON type accepts (first: the one model metadata advertises)
ACCEPTS: dict[str, tuple[str, ...]] = {
    "number": ("FP64", "FP32", "FP16", *INTS),
    "integer": ("INT64", *INTS),
    "string": ("BYTES",),
    "boolean": ("BOOL",),
    "array": ("BYTES", *FLOATS, *INTS, "BOOL"),  # BYTES holds JSON; numbers as an [N, L] tensor
    "object": ("BYTES",),
}


def from_raw(datatype: str, raw: bytes, count: int, field: str) -> list[Any]:
    """Flat Python values from a tensor's raw bytes; ``ValueError`` naming ``field`` on a size mismatch."""
    if datatype == "BYTES":
        return _split_bytes(raw, count, field)
    dtype = np.dtype(NUMPY[datatype])
    if len(raw) != count * dtype.itemsize:
        raise ValueError(f"{field}: expected {count * dtype.itemsize} bytes for {count} {datatype}, got {len(raw)}")
    return np.frombuffer(raw, dtype=dtype).tolist()  # type: ignore[no-any-return]


def _split_bytes(raw: bytes, count: int, field: str) -> list[Any]:
    out: list[Any] = []
    pos, end = 0, len(raw)
    while pos < end:
        if pos + 4 > end:
            raise ValueError(f"{field}: truncated BYTES element length at byte {pos}")
        (size,) = struct.unpack_from("<I", raw, pos)
        pos += 4
        if pos + size > end:
            raise ValueError(f"{field}: BYTES element of {size} bytes runs past the end of the data")
        out.append(raw[pos : pos + size])
        pos += size
    if len(out) != count:
        raise ValueError(f"{field}: expected {count} BYTES elements, got {len(out)}")
    return out


def to_raw(datatype: str, values: list[Any]) -> bytes:
    """The raw, row-major bytes of flat values (BYTES elements length-prefixed, little-endian)."""
    if datatype == "BYTES":
        parts = []
        for v in values:
            b = v if isinstance(v, bytes) else str(v).encode("utf-8")
            parts.append(struct.pack("<I", len(b)))
            parts.append(b)
        return b"".join(parts)
    return np.asarray(values, dtype=NUMPY[datatype]).tobytes()
