"""The compact cache format gives back every column bit for bit (no server needed)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pyarrow as pa
import pytest

from workbench.store.cache import table_from_bytes, table_to_bytes
from workbench.store.frame_codec import decode_columns, encode_columns

UTC_US = pa.timestamp("us", tz="UTC")


def _bits(table: pa.Table) -> list[np.ndarray]:
    """Each column's 8-byte patterns (so NaN == NaN and -0.0 != 0.0)."""
    return [c.combine_chunks().view(pa.int64()).to_numpy() for c in table.columns]


def _assert_same(decoded: pa.Table, table: pa.Table) -> None:
    assert decoded.schema.equals(table.schema, check_metadata=True)
    assert decoded.num_rows == table.num_rows
    for got, want in zip(_bits(decoded), _bits(table), strict=True):
        np.testing.assert_array_equal(got, want)


def _header(data: bytes) -> dict[str, object]:
    (size,) = struct.unpack_from("<I", data)
    return dict(json.loads(data[4:4 + size]))


def _candles(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    close = np.round(1e6 * np.exp(np.cumsum(rng.normal(0, 1e-3, n))), 2)
    open_ = np.round(np.concatenate([[1e6], close[:-1]]), 2)
    return pa.table({
        "ts": pa.array(1_735_689_600_000_000 + 60_000_000 * np.arange(n, dtype=np.int64)).view(UTC_US),
        "open": open_,
        "high": np.round(np.maximum(open_, close) * (1 + rng.uniform(0, 1e-3, n)), 2),
        "low": np.round(np.minimum(open_, close) * (1 - rng.uniform(0, 1e-3, n)), 2),
        "close": close,
        "volume": np.round(rng.uniform(0.1, 10, n), 8),
    })


def test_candles_round_trip_bit_for_bit_and_shrink() -> None:
    table = _candles(20_000)
    data = encode_columns(table, {"k": "v"})
    assert data is not None
    decoded, meta = decode_columns(data)
    _assert_same(decoded, table)
    assert meta == {"k": "v"}
    # 6 columns x 8 bytes raw; prices move ~0.1 % (~1,000.00 KRW = 100,000 cents: 3 bytes per delta),
    # timestamps by a constant minute (no bytes at all)
    assert len(data) < 0.4 * table.nbytes
    head = _header(data)
    assert head["columns"][0] == {"first": 1_735_689_600_000_000, "min": 60_000_000, "width": 0, "decimals": -1}
    assert [c["decimals"] for c in head["columns"][1:]] == [2, 2, 2, 2, 8]


def test_a_hand_worked_column() -> None:
    table = pa.table({"x": [1.05, 1.10, 1.00, 1.00]})
    data = encode_columns(table, {})
    assert data is not None
    # 1.05 = 105 / 10**2 exactly as a double; differences of (105, 110, 100, 100): 5, -10, 0;
    # minus their minimum -10: 15, 0, 10, all below 256, so one byte each
    assert _header(data)["columns"] == [{"first": 105, "min": -10, "width": 1, "decimals": 2}]
    _assert_same(decode_columns(data)[0], table)


@pytest.mark.parametrize("values", [
    [0.1 + 0.2, 1 / 3, 2.0**-1074],                      # no short decimal form: kept as IEEE bits
    [float("nan"), 1.0, float("inf"), -float("inf")],    # not finite
    [-0.0, 0.0, 1.5],                                    # -0.0 would come back as 0.0 if scaled
    [1e300, -1e300, 1.7976931348623157e308],             # far beyond 2**53
    [123456789.123456789, 1e-9, 5e-10],                  # more decimals than the format scales
    [1.0],                                               # one row
    [],                                                  # no rows
])
def test_awkward_floats_round_trip(values: list[float]) -> None:
    table = pa.table({"x": pa.array(values, pa.float64())})
    data = encode_columns(table, {})
    assert data is not None
    _assert_same(decode_columns(data)[0], table)


def test_int64_extremes_wrap_around_and_come_back() -> None:
    big = np.iinfo(np.int64)
    table = pa.table({"i": pa.array([big.min, big.max, 0, big.min, -1, big.max], pa.int64()),
                      "t": pa.array([0, 2**62, -(2**62), 1, 0, 5], pa.int64()).view(pa.timestamp("ns"))})
    data = encode_columns(table, {})
    assert data is not None
    _assert_same(decode_columns(data)[0], table)


def test_chunked_columns_and_schema_metadata() -> None:
    table = pa.concat_tables([_candles(300, seed=2), _candles(200, seed=3)])
    table = table.replace_schema_metadata({"origin": "test"})
    assert table.column("close").num_chunks == 2
    data = encode_columns(table, {})
    assert data is not None
    _assert_same(decode_columns(data)[0], table.combine_chunks())


@pytest.mark.parametrize("table", [
    pa.table({"x": pa.array([1.0, None, 3.0])}),              # a null
    pa.table({"s": pa.array(["a", "b"])}),                    # text
    pa.table({"f": pa.array([1.0, 2.0], pa.float32())}),      # another width
])
def test_other_tables_are_left_to_arrow_ipc(table: pa.Table) -> None:
    assert encode_columns(table, {}) is None
    data = table_to_bytes(table, "src")
    assert data.startswith(b"WBF2A")
    decoded = table_from_bytes(data, "src")
    assert decoded is not None and decoded.equals(table)


def test_source_and_version_are_checked() -> None:
    data = table_to_bytes(_candles(10), "db-a")
    assert data.startswith(b"WBF2C")
    assert table_from_bytes(data, "db-a") is not None
    assert table_from_bytes(data, "db-b") is None


@pytest.mark.parametrize("cut", [
    lambda d: d[:3],                                    # no header
    lambda d: d[:40],                                   # header cut
    lambda d: d[:-5],                                   # body cut
    lambda d: d[:4] + b"[" + d[5:],                     # header not JSON
    lambda d: d.replace(b'"rows": 100', b'"rows": 50'),   # rows do not match the body
    lambda d: d.replace(b'"width": 3', b'"width": 9'),    # impossible width
    lambda d: d.replace(b'"decimals": -1', b'"decimals": 2', 1),  # a timestamp "scaled"
    lambda d: d.replace(b'"decimals": 2', b'"decimals": 400', 1),  # 10**400 is no float
    lambda d: d.replace(b'"meta": {}', b'"meta": []', 1),          # header fields of the wrong kind
])
def test_malformed_values_raise_value_or_arrow_errors(cut: object) -> None:
    """Defence in depth: a value reaches the decoder only after its HMAC verified."""
    data = encode_columns(_candles(100), {})
    assert data is not None
    bad = cut(data)  # type: ignore[operator]
    assert bad != data
    with pytest.raises((ValueError, KeyError, TypeError, pa.ArrowException)):
        decode_columns(bad)


def test_values_of_the_earlier_format_are_not_read() -> None:
    table = _candles(10)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:   # the format before WBF2: a bare Arrow stream
        writer.write_table(table)
    with pytest.raises(ValueError, match="not a workbench frame"):
        table_from_bytes(sink.getvalue().to_pybytes(), "")
