"""Compact bytes for cached frames: delta-coded integer columns, packed narrow, compressed with zstd.

A candle frame is a timestamp column and float64 columns. Each column becomes a vector of int64 ``q``:

* timestamps and int64 columns: their integer values;
* float64 columns whose every value is ``k / 10**d`` exactly for some ``d`` in 0..9 (prices with a
  tick, volumes with a fixed number of decimals): the integers ``k``, decoded as ``k / 10**d``, which
  is checked bit for bit when encoding (so ``-0.0``, NaN or a value with more decimals is never
  scaled);
* other float64 columns: their IEEE bit patterns (lossless, compresses less).

``q`` is stored as its first value and the differences of neighbours minus their minimum, which
are small non-negative numbers for time-ordered candles, as 1-, 2-, 4- or 8-byte unsigned integers
(the narrowest that holds them; none when they are all equal); the columns' bytes (each padded to
8) are compressed together. Integer arithmetic is modulo 2**64 both ways, so every int64
round-trips. Decoding is a few vectorised passes per column (widen, add, cumulative sum, divide) and
builds the Arrow arrays on the decoded numpy buffers without another copy.

Tables with nulls or other column types are not handled here (:func:`encode_columns` returns None).
"""

from __future__ import annotations

import json
import struct
from typing import Any, Final

import numpy as np
import pyarrow as pa

__all__ = ["decode_columns", "encode_columns"]

_CODEC: Final = "zstd"
_LEVEL: Final = 1
_MAX_DECIMALS: Final = 9
_SAMPLE: Final = 1024
_HEADER: Final = struct.Struct("<I")
#: byte width -> little-endian unsigned type of the packed differences
_WIDTHS: Final = {0: "<u1", 1: "<u1", 2: "<u2", 4: "<u4", 8: "<u8"}


def _decimals(x: np.ndarray) -> tuple[int, np.ndarray] | None:
    """``(d, k)`` with ``k / 10**d == x`` bit for bit (smallest d), or None."""
    sample = x[:_SAMPLE]
    with np.errstate(invalid="ignore", over="ignore"):
        if not np.isfinite(sample).all():
            return None
        for d in range(_MAX_DECIMALS + 1):
            scale = float(10**d)
            k = np.rint(sample * scale)
            if np.abs(k).max(initial=0.0) >= 2.0**53:
                return None
            if np.array_equal((k.astype(np.int64) / scale).view(np.int64), sample.view(np.int64)):
                break
        else:
            return None
        if not np.isfinite(x).all():
            return None
        k = np.rint(x * scale)
        if np.abs(k).max(initial=0.0) >= 2.0**53:
            return None
        q = k.astype(np.int64)
        return (d, q) if np.array_equal((q / scale).view(np.int64), x.view(np.int64)) else None


def _as_ints(column: pa.ChunkedArray) -> tuple[int | None, np.ndarray] | None:
    """``(decimals, q)`` of a column (decimals None: q is the value or the float's bits), or None."""
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if arr.null_count:
        return None
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_int64(t):
        return None, arr.view(pa.int64()).to_numpy(zero_copy_only=False)
    if pa.types.is_float64(t):
        x = arr.to_numpy(zero_copy_only=False)
        scaled = _decimals(x)
        return scaled if scaled is not None else (None, x.view(np.int64))
    return None


def _pack(q: np.ndarray) -> tuple[dict[str, int], np.ndarray]:
    """Header fields and the differences (minus their minimum) of int64 ``q``, in the narrowest of
    1, 2, 4 or 8 bytes (0 when they are all equal)."""
    if len(q) < 2:
        return {"first": int(q[0]) if len(q) else 0, "min": 0, "width": 0}, np.empty(0, np.uint8)
    with np.errstate(over="ignore"):
        d = np.diff(q)  # modulo 2**64
        low = int(d.min())
        u = d.view(np.uint64) - np.uint64(low & 0xFFFF_FFFF_FFFF_FFFF)  # modulo 2**64: 0 .. max - min
    top = int(u.max())
    width = next(w for w in _WIDTHS if top < 1 << (8 * w))
    packed = u.astype(_WIDTHS[width]).view(np.uint8) if width else np.empty(0, np.uint8)
    return {"first": int(q[0]), "min": low, "width": width}, packed


def _unpack(n: int, field: dict[str, Any], packed: memoryview) -> np.ndarray:
    """Inverse of :func:`_pack`."""
    q = np.empty(n, np.int64)
    if n == 0:
        return q
    width = int(field["width"])
    with np.errstate(over="ignore"):
        if width:
            u = np.frombuffer(packed, _WIDTHS[width])
            np.add(u.view(np.int64) if width == 8 else u, np.int64(field["min"]), out=q[1:], casting="unsafe")
        else:
            q[1:] = field["min"]
        q[0] = field["first"]
        np.cumsum(q, out=q)
    return q


def encode_columns(table: pa.Table, meta: dict[str, str]) -> bytes | None:
    """The compact bytes of ``table`` with ``meta`` (text) in the header; None if a column does not fit."""
    fields = []
    chunks = []
    for column in table.columns:
        ints = _as_ints(column)
        if ints is None:
            return None
        field, packed = _pack(ints[1])
        field["decimals"] = -1 if ints[0] is None else ints[0]
        fields.append(field)
        chunks.append(packed)
        chunks.append(np.zeros(-len(packed) % 8, np.uint8))  # keeps the next column aligned
    raw = np.concatenate(chunks) if chunks else np.empty(0, np.uint8)
    body = pa.Codec(_CODEC, compression_level=_LEVEL).compress(raw, asbytes=True)
    header = json.dumps({"rows": table.num_rows, "size": int(raw.nbytes), "meta": meta, "columns": fields,
                         "schema": table.schema.serialize().to_pybytes().hex()}).encode()
    return _HEADER.pack(len(header)) + header + bytes(body)


def decode_columns(data: bytes | memoryview) -> tuple[pa.Table, dict[str, str]]:
    """Inverse of :func:`encode_columns`: the table and its ``meta``.

    Raises ValueError (or ``pyarrow.ArrowException``) for bytes that are not such a value.
    """
    view = memoryview(data)
    if len(view) < _HEADER.size:
        raise ValueError("too short for a frame header")
    (size,) = _HEADER.unpack_from(view)
    head = json.loads(bytes(view[_HEADER.size:_HEADER.size + size]))
    schema = pa.ipc.read_schema(pa.py_buffer(bytes.fromhex(head["schema"])))
    n = int(head["rows"])
    fields = head["columns"]
    if len(fields) != len(schema) or any(int(f["width"]) not in _WIDTHS for f in fields):
        raise ValueError("frame header does not match its schema")
    raw = pa.Codec(_CODEC).decompress(view[_HEADER.size + size:], decompressed_size=int(head["size"]),
                                      asbytes=False)
    packed = memoryview(raw)
    sizes = [int(f["width"]) * max(n - 1, 0) for f in fields]
    if len(packed) != sum(size + -size % 8 for size in sizes):
        raise ValueError("frame body has the wrong size")
    arrays = []
    at = 0
    for field, size, type_ in zip(fields, sizes, schema.types, strict=True):
        q = _unpack(n, field, packed[at:at + size])
        at += size + -size % 8
        decimals = int(field["decimals"])
        if pa.types.is_float64(type_):
            values = q / float(10**decimals) if decimals >= 0 else q.view(np.float64)
        elif decimals < 0 and (pa.types.is_timestamp(type_) or pa.types.is_int64(type_)):
            values = q
        else:
            raise ValueError(f"column type {type_} does not match its encoding")
        arrays.append(pa.Array.from_buffers(type_, n, [None, pa.py_buffer(values)]))
    return pa.Table.from_arrays(arrays, schema=schema), {str(k): str(v) for k, v in head["meta"].items()}
