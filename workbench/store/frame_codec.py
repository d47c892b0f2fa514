"""Compact bytes for cached frames: delta-coded integer columns, packed narrow, compressed with zstd.

A candle frame is a timestamp column and float64 columns. Each column becomes a vector of int64 ``q``:

* timestamps and int64 columns: their integer values;
* float64 columns whose every value is ``k / 10**d`` exactly (prices with a tick, volumes with a
  fixed number of decimals; ``d`` in 0..9, the smallest that fits the first 1,024 values): the
  integers ``k``, decoded as ``k / 10**d``, which is checked bit for bit over the whole column when
  encoding (so ``-0.0``, NaN or a value with more decimals is never scaled);
* other float64 columns: their IEEE bit patterns (lossless, compresses less).

``q`` is stored as its first value and the differences of neighbours minus their minimum: small
non-negative numbers for time-ordered candles, ``width`` bytes wide (0 when they are all equal),
kept as parts of 2 bytes (the lowest first) and a last single byte when ``width`` is odd, so that
the nearly constant high parts compress apart from the noisy low ones. All parts (each padded to 8
bytes) are compressed together. Integer arithmetic is modulo 2**64 both ways, so every int64
round-trips. Decoding is a few vectorised passes per column into one int64 block (widen, shift/or,
add, cumulative sum, and for scaled floats a division in place), and the Arrow arrays are built on
that block without another copy.

Tables with nulls or other column types are not handled here (:func:`encode_columns` returns None).
"""

from __future__ import annotations

import json
import struct
from typing import Any, Final

import numpy as np
import pyarrow as pa

from workbench.errors import ValidationError

__all__ = ["decode_columns", "encode_columns"]

_CODEC: Final = "zstd"
_LEVEL: Final = 1
_MAX_DECIMALS: Final = 9
_SAMPLE: Final = 1024
_HEADER: Final = struct.Struct("<I")


def _decimals(x: np.ndarray) -> tuple[int, np.ndarray] | None:
    """``(d, k)`` with ``k / 10**d == x`` bit for bit (smallest d that fits the first values), or None.

    The check is the decoder's own computation (int64 ``k`` divided by ``10**d``) compared bit for
    bit, so whatever passes decodes exactly; NaN, infinities and values beyond int64 fail it (their
    cast gives a value that does not divide back).
    """
    sample = x[:_SAMPLE]
    with np.errstate(invalid="ignore", over="ignore"):
        for d in range(_MAX_DECIMALS + 1):
            scale = float(10**d)
            if np.array_equal((np.rint(sample * scale).astype(np.int64) / scale).view(np.int64),
                              sample.view(np.int64)):
                q = np.rint(x * scale).astype(np.int64)
                return (d, q) if np.array_equal((q / scale).view(np.int64), x.view(np.int64)) else None
    return None


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


def _parts(width: int) -> list[tuple[int, str]]:
    """(shift in bits, little-endian type) of the parts of a ``width``-byte number: 2-byte groups,
    then one byte if ``width`` is odd."""
    return [(8 * at, "<u2" if width - at >= 2 else "<u1") for at in range(0, width, 2)]


def _padded(size: int) -> int:
    return size + -size % 8


def _pack(q: np.ndarray) -> tuple[dict[str, int], list[np.ndarray]]:
    """Header fields and the parts of the differences (minus their minimum) of int64 ``q``."""
    if len(q) < 2:
        return {"first": int(q[0]) if len(q) else 0, "min": 0, "width": 0}, []
    with np.errstate(over="ignore"):
        d = np.diff(q)  # modulo 2**64
        low = int(d.min())
        u = d.view(np.uint64) - np.uint64(low & 0xFFFF_FFFF_FFFF_FFFF)  # modulo 2**64: 0 .. max - min
    width = (int(u.max()).bit_length() + 7) // 8
    parts = []
    for shift, type_ in _parts(width):
        part = (u >> np.uint64(shift)).astype(type_).view(np.uint8)  # astype keeps the low bytes
        parts += [part, np.zeros(-len(part) % 8, np.uint8)]  # padded: the next part stays aligned
    return {"first": int(q[0]), "min": low, "width": width}, parts


def _unpack(q: np.ndarray, field: dict[str, Any], packed: memoryview, scratch: np.ndarray) -> None:
    """Inverse of :func:`_pack`, into ``q`` (int64, the column's length); ``scratch``: n - 1 uint64."""
    n = len(q)
    if n == 0:
        return
    tail = q[1:]
    at = 0
    with np.errstate(over="ignore"):
        for shift, type_ in _parts(int(field["width"])):
            part = np.frombuffer(packed[at:at + (n - 1) * np.dtype(type_).itemsize], type_)
            at += _padded(part.nbytes)
            if shift == 0:
                np.copyto(tail, part, casting="unsafe")
            else:
                np.left_shift(part, shift, dtype=np.uint64, out=scratch)
                np.bitwise_or(tail.view(np.uint64), scratch, out=tail.view(np.uint64))
        if at == 0:
            tail.fill(0)
        np.add(tail, np.int64(field["min"]), out=tail)
        q[0] = field["first"]
        np.cumsum(q, out=q)


def _size(n: int, field: dict[str, Any]) -> int:
    return sum(_padded((n - 1) * np.dtype(t).itemsize) for _, t in _parts(int(field["width"]))) if n > 1 else 0


def encode_columns(table: pa.Table, meta: dict[str, str]) -> bytes | None:
    """The compact bytes of ``table`` with ``meta`` (text) in the header; None if a column does not fit."""
    fields = []
    chunks = []
    for column in table.columns:
        ints = _as_ints(column)
        if ints is None:
            return None
        field, parts = _pack(ints[1])
        field["decimals"] = -1 if ints[0] is None else ints[0]
        fields.append(field)
        chunks += parts
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
        raise ValidationError("too short for a frame header")
    (size,) = _HEADER.unpack_from(view)
    head = json.loads(bytes(view[_HEADER.size:_HEADER.size + size]))
    if not (isinstance(head, dict) and isinstance(head.get("meta"), dict) and isinstance(head.get("columns"), list)
            and all(isinstance(f, dict) for f in head["columns"])):
        raise ValidationError("frame header is not the expected object")
    schema = pa.ipc.read_schema(pa.py_buffer(bytes.fromhex(head["schema"])))
    n = int(head["rows"])
    fields = head["columns"]
    if len(fields) != len(schema) or any(not (0 <= int(f["width"]) <= 8 and -1 <= int(f["decimals"]) <= _MAX_DECIMALS)
                                         for f in fields):
        raise ValidationError("frame header does not match its schema")
    try:
        raw = pa.Codec(_CODEC).decompress(view[_HEADER.size + size:], decompressed_size=int(head["size"]),
                                          asbytes=False)
    except OSError as err:  # pyarrow reports a corrupt or cut zstd frame as OSError
        raise ValidationError(f"frame body does not decompress ({err})") from err
    packed = memoryview(raw)
    sizes = [_size(n, f) for f in fields]
    if len(packed) != sum(sizes):
        raise ValidationError("frame body has the wrong size")
    block = np.empty((len(fields), n), np.int64)  # one allocation; each column a row, decoded in place
    scratch = np.empty(max(n - 1, 0), np.uint64)
    arrays = []
    at = 0
    for q, field, size, type_ in zip(block, fields, sizes, schema.types, strict=True):
        _unpack(q, field, packed[at:at + size], scratch)
        at += size
        decimals = int(field["decimals"])
        if pa.types.is_float64(type_):
            if decimals >= 0:  # k / 10**d, as checked when encoding
                np.divide(q, float(10**decimals), out=q.view(np.float64))
        elif decimals >= 0 or not (pa.types.is_timestamp(type_) or pa.types.is_int64(type_)):
            raise ValidationError(f"column type {type_} does not match its encoding")
        arrays.append(pa.Array.from_buffers(type_, n, [None, pa.py_buffer(q)]))
    return pa.Table.from_arrays(arrays, schema=schema), {str(k): str(v) for k, v in head["meta"].items()}
