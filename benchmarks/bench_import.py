"""Benchmark: CSV import (memory, throughput, unchanged re-import) and the candle cache tiers.

Import: a CSV of ``--rows`` 1-minute candles in the shape exchanges export (``timestamp`` in epoch
ms, ``open,high,low,close,volume``), generated once under ``--dir``. Measured, each in a fresh child
process (so peak RSS is that of the import alone, ``ru_maxrss``):

* psql \\copy   -- ``psql -c "\\copy stage FROM file CSV HEADER"`` into an unlogged table of the same
                  columns (no validation, no upsert): the plain alternative;
* import        -- ``workbench.ingest.importer.import_csv`` into an empty ``candles`` table
                  (every row validated, staged, one upsert, one transaction);
* re-import     -- the same file again: nothing may be written (``inserted == updated == 0``) and
                  the table's size must not grow.

Cache: a frame of ``--cache-rows`` 1m candles loaded from the database (no cache), from the
in-process tier (``TieredCache``, repeated load in one process), and from Redis by another process
(a fresh ``TieredCache`` on the same Redis: one lookup query, Redis GET, HMAC check, decode of the
compact column format, pandas frame); the child checks that its frame equals the database's bit
for bit. ``--skip-import`` times only the cache tiers (``--cache-rows`` rows imported once, untimed).

The database is a throwaway one on ``--server`` (dropped at the end); Redis db ``--redis-db``.

Run:  .venv/bin/python benchmarks/bench_import.py --rows 5000000      # the issue's size
      .venv/bin/python benchmarks/bench_import.py --rows 1000000 --cache-rows 500000
      .venv/bin/python benchmarks/bench_import.py --skip-import --cache-rows 500000 --repeat 7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, fmt_int, machine_line, ratio_text, setup_env  # noqa: E402

_CHILD = r"""
import json, resource, sys, time
from workbench.store.database import Database
from workbench.ingest.importer import import_csv
db = Database(sys.argv[1])
t0 = time.perf_counter()
r = import_csv(db, sys.argv[2], "candles", symbol="KRW-BENCH", timeframe="1m")
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rows": r.rows, "inserted": r.inserted, "updated": r.updated,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_CACHE_CHILD = r"""
import json, sys, time
from workbench.store.database import Database
from workbench.store.cache import RedisCache, TieredCache
from workbench.store.market_data import load_candles
from workbench.store.versions import cache_secret
db = Database(sys.argv[1])
cache = TieredCache(RedisCache.from_url(sys.argv[2], source="bench", secret=cache_secret(db)))
import pandas as pd
plain = load_candles(db, "KRW-BENCH", "1m", sys.argv[3], sys.argv[4])   # warms the connection (no cache)
times = []
for _ in range(int(sys.argv[5])):
    fresh = TieredCache(cache.inner)          # a new process's empty tier: the value comes from Redis
    t0 = time.perf_counter()
    df = load_candles(db, "KRW-BENCH", "1m", sys.argv[3], sys.argv[4], cache=fresh)
    times.append(time.perf_counter() - t0)
    assert cache.inner.hits > 0 and len(df)
pd.testing.assert_frame_equal(df, plain, check_exact=True)   # the hit is the database's frame, bit for bit
# the stages of a hit, each best of the same number of runs
from workbench.store.cache import table_from_bytes, unseal
from workbench.store.market_data import _frame, _version_and_source
redis_cache = cache.inner
s, e = pd.Timestamp(sys.argv[3], tz="UTC"), pd.Timestamp(sys.argv[4], tz="UTC")
(key,) = redis_cache.client.keys("candle:*")
key = key.decode()
stages = {"lookup query": lambda: _version_and_source(db, "KRW-BENCH", "1m", s, e),
          "Redis GET": lambda: redis_cache.client.get(key)}
value = redis_cache.client.get(key)
stages["HMAC check"] = lambda: unseal(key, value, redis_cache._secret)
payload = unseal(key, value, redis_cache._secret)
stages["decode"] = lambda: table_from_bytes(payload, redis_cache.source)
table = table_from_bytes(payload, redis_cache.source)
stages["to pandas"] = lambda: _frame(table, "pandas")
split = {}
for name, fn in stages.items():
    runs = []
    for _ in range(int(sys.argv[5])):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    split[name] = min(runs)
print(json.dumps({"best": min(times), "rows": len(df), "split": split}))
"""


def make_csv(path: Path, rows: int) -> None:
    import numpy as np
    import pandas as pd

    if path.exists():
        return
    print(f"generating {path} ({fmt_int(rows)} rows) ...", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    start = int(pd.Timestamp("2015-01-01", tz="UTC").timestamp() * 1000)
    chunk = 1_000_000
    with path.open("w") as fh:
        fh.write("timestamp,open,high,low,close,volume\n")
        price = 1_000_000.0
        for i in range(0, rows, chunk):
            n = min(chunk, rows - i)
            ts = start + (np.arange(i, i + n, dtype=np.int64) * 60_000)
            close = price * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
            open_ = np.concatenate([[price], close[:-1]])
            high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.001, n))
            low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.001, n))
            vol = rng.uniform(0.1, 10, n)
            price = float(close[-1])
            pd.DataFrame({"timestamp": ts, "open": open_.round(2), "high": high.round(2), "low": low.round(2),
                          "close": close.round(2), "volume": vol.round(6)}).to_csv(fh, header=False, index=False)


def run_child(code: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        sys.exit(f"child failed:\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cache-rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/workbench-bench"))
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    ap.add_argument("--db-prefix", default="wbbench_", help="name prefix of the throwaway database")
    ap.add_argument("--skip-import", action="store_true",
                    help="time only the cache tiers (imports --cache-rows rows once, untimed)")
    args = ap.parse_args()
    if args.skip_import:
        args.rows = args.cache_rows
    setup_env()
    import psycopg
    import redis

    from workbench.store.cache import RedisCache, TieredCache
    from workbench.store.database import Database
    from workbench.store.market_data import load_candles
    from workbench.store.migrations import migrate
    from workbench.store.versions import cache_secret

    csv = args.dir / f"candles_{args.rows}.csv"
    make_csv(csv, args.rows)
    size_mb = csv.stat().st_size / 2**20
    name = f"{args.db_prefix}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.server.rsplit("/", 1)[0] + "/" + name
    print(machine_line())
    print(f"CSV: {csv} ({fmt_int(args.rows)} rows, {size_mb:,.0f} MiB)")
    try:
        db = Database(url)
        migrate(db)
        if args.skip_import:
            first = run_child(_CHILD, url, str(csv))
            assert first["inserted"] == args.rows, first
        else:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE UNLOGGED TABLE psql_stage (ts BIGINT, o FLOAT8, h FLOAT8, l FLOAT8, c FLOAT8, "
                             "v FLOAT8)")
            t0 = time.perf_counter()
            subprocess.run(["psql", url, "-q", "-c", f"\\copy psql_stage FROM '{csv}' CSV HEADER"], check=True)
            t_psql = time.perf_counter() - t0
            print(f"psql \\copy: {t_psql:.1f} s")
            t0 = time.perf_counter()
            subprocess.run(["psql", url, "-q", "-c", "INSERT INTO candles (symbol, timeframe, timestamp, open_price, "
                            "high_price, low_price, close_price, volume) SELECT 'KRW-PSQL', '1m', "
                            "to_timestamp(ts / 1000.0), o, h, l, c, v FROM psql_stage"], check=True)
            t_psql_insert = t_psql + time.perf_counter() - t0
            print(f"psql \\copy + INSERT into candles: {t_psql_insert:.1f} s")
            first = run_child(_CHILD, url, str(csv))
            print(f"import: {first}")
            assert first["inserted"] == args.rows, first
            with psycopg.connect(url) as conn:
                size_before = conn.execute("SELECT pg_total_relation_size('candles')").fetchone()[0]  # type: ignore[index]
            again = run_child(_CHILD, url, str(csv))
            print(f"re-import: {again}")
            with psycopg.connect(url) as conn:
                size_after = conn.execute("SELECT pg_total_relation_size('candles')").fetchone()[0]  # type: ignore[index]
            assert again["inserted"] == 0 and again["updated"] == 0, again

        # ---- cache tiers on a --cache-rows frame
        r = redis.Redis.from_url(args.redis)
        r.flushdb()
        start = "2015-01-01"
        end = str(time_after(start, args.cache_rows))
        db_times = []
        for _ in range(args.repeat + 1):
            t0 = time.perf_counter()
            df = load_candles(db, "KRW-BENCH", "1m", start, end)
            db_times.append(time.perf_counter() - t0)
        t_db = min(db_times[1:])
        tier = TieredCache(RedisCache.from_url(args.redis, source="bench", secret=cache_secret(db)))
        t0 = time.perf_counter()
        load_candles(db, "KRW-BENCH", "1m", start, end, cache=tier)   # fills Redis and the tier
        t_fill = time.perf_counter() - t0
        (cache_key,) = r.keys("candle:*")
        value_mib = r.strlen(cache_key) / 2**20
        ipc_mib = len(arrow_ipc_lz4(load_candles(db, "KRW-BENCH", "1m", start, end, backend="arrow"))) / 2**20
        mem_times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            load_candles(db, "KRW-BENCH", "1m", start, end, cache=tier)
            mem_times.append(time.perf_counter() - t0)
        t_mem = min(mem_times)
        other = run_child(_CACHE_CHILD, url, args.redis, start, end, str(args.repeat))
        t_redis = other["best"]
        r.flushdb()
    finally:
        Database(url).dispose()
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print()
    if not args.skip_import:
        print_import(args.rows, size_mb, t_psql, t_psql_insert, first, again, size_before, size_after)
    print(f"\n| load of {fmt_int(len(df))} 1m candles | best of {args.repeat} | vs database |")
    print("| --- | --- | --- |")
    print(f"| database (no cache) | {t_db * 1000:,.0f} ms | - |")
    print(f"| in-process tier (repeat in one process) | {t_mem * 1000:,.1f} ms | {t_db / t_mem:,.1f}x faster |")
    print(f"| Redis hit from another process | {t_redis * 1000:,.0f} ms | {t_db / t_redis:,.1f}x faster |")
    print("\nRedis hit, stage by stage (best of the same runs): "
          + ", ".join(f"{k} {v * 1000:,.1f} ms" for k, v in other["split"].items()))
    print(f"Redis value: {value_mib:,.1f} MiB ({df.shape[0] * (df.shape[1] + 1) * 8 / 2**20:,.1f} MiB of columns); "
          f"as lz4 Arrow IPC (the format before): {ipc_mib:,.1f} MiB; the miss that filled it: "
          f"{t_fill * 1000:,.0f} ms (database load + encode + SET)")


def print_import(rows: int, size_mb: float, t_psql: float, t_psql_insert: float, first: dict[str, float],
                 again: dict[str, float], size_before: int, size_after: int) -> None:
    print(f"| import of {fmt_int(rows)} rows ({size_mb:,.0f} MiB CSV) | seconds | rows/s | peak RSS |")
    print("| --- | --- | --- | --- |")
    print(f"| psql \\copy (plain, no validation/upsert) | {t_psql:.1f} | {fmt_int(rows / t_psql)} | - |")
    print(f"| psql \\copy + INSERT ... SELECT into candles (plain SQL, no validation) | {t_psql_insert:.1f} | "
          f"{fmt_int(rows / t_psql_insert)} | - |")
    print(f"| workbench import (first) | {first['seconds']:.1f} | {fmt_int(rows / first['seconds'])} | "
          f"{first['maxrss_mb']:,.0f} MiB |")
    print(f"| workbench re-import (unchanged) | {again['seconds']:.1f} | {fmt_int(rows / again['seconds'])} | "
          f"{again['maxrss_mb']:,.0f} MiB |")
    vs_psql = (ratio_text(first["seconds"], t_psql, "psql \\copy") + "; "
               + ratio_text(first["seconds"], t_psql_insert, "psql \\copy + INSERT"))
    print(f"\nfirst import: {vs_psql}; re-import wrote "
          f"{int(again['inserted'] + again['updated'])} rows; table {size_before / 2**20:,.0f} MiB before, "
          f"{size_after / 2**20:,.0f} MiB after")


def arrow_ipc_lz4(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def time_after(start: str, minutes: int) -> object:
    import pandas as pd

    return pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=minutes)


if __name__ == "__main__":
    main()
