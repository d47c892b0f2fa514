"""Benchmark: CSV import (memory, throughput, unchanged re-import) and the candle cache tiers.

Import: a CSV of ``--rows`` 1-minute candles in the shape exchanges export (``timestamp`` in epoch
ms, ``open,high,low,close,volume``), generated once under ``--dir``. Measured, each in a fresh child
process (so peak RSS is that of the import alone, ``ru_maxrss``):

* psql \\copy (logged, key) -- ``psql -c "\\copy t FROM file CSV HEADER"`` into a LOGGED table with the
                  CSV's five columns and a primary key on the timestamp (the strict reading of the
                  goal's baseline);
* psql \\copy (unlogged)   -- the same into an UNLOGGED table without any index (a lower bound: no WAL,
                  no index);
* psql \\copy + INSERT   -- the unlogged copy, then ``INSERT ... SELECT`` into ``candles`` (its two
                  indexes, no validation, no upsert, no rollups: marked as the workbench's writes are,
                  so the triggers of migration 0052 skip it); the same INSERT unmarked (what another
                  SQL client pays: the triggers maintain rollups and data version) is reported beside it;
* psql \\copy (candles' shape) -- ``\\copy`` of the same rows written out with symbol and timeframe
                  into a logged table made ``LIKE candles INCLUDING ALL`` (its serial id, primary key
                  and unique index): a plain \\copy into candles, the floor of any load into it (no
                  validation, no rollups) and the goal's baseline (import <= 1.5x this);
* import        -- ``workbench.ingest.importer.import_csv`` into an empty ``candles`` table
                  (every row validated, one transaction, rollups maintained);
* re-import     -- the same file again: nothing may be written (``inserted == updated == 0``) and
                  the table's size must not grow.

Every timed step starts after a ``CHECKPOINT`` (so no step pays for the WAL of the one before) and
is repeated ``--import-repeat`` times (best kept; the tables are emptied between runs).

Cache: a frame of ``--cache-rows`` 1m candles loaded from the database (no cache), from the
in-process tier (``TieredCache``, repeated load in one process), and from Redis (an empty
``TieredCache`` in front of the same Redis, as in a new process: one lookup query, Redis GET, HMAC
check, decode of the compact column format, pandas frame), interleaved over ``--repeat`` rounds (min
and median, ratios to the database load); every method's frame must equal the database's bit for bit,
and a child process reads the value back (equal too). Goals (issue 21): in-process hit >= 50x and Redis
hit >= 8x faster than the database load. ``--skip-import`` times only the cache tiers
(``--cache-rows`` rows imported once, untimed).

The database is a throwaway one on ``--server`` (dropped at the end); Redis db ``--redis-db``.

Run:  .venv/bin/python benchmarks/bench_import.py --rows 5000000      # the issue's size
      .venv/bin/python benchmarks/bench_import.py --rows 1000000 --no-cache --import-repeat 3
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

from _common import REPO, emit, fmt_int, interleaved, machine_line, ratio_text, setup_env, timing_table  # noqa: E402

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
import json, sys
import pandas as pd
from workbench.store.database import Database
from workbench.store.cache import RedisCache, TieredCache
from workbench.store.market_data import load_candles
from workbench.store.versions import cache_secret
db = Database(sys.argv[1])
inner = RedisCache.from_url(sys.argv[2], source="bench", secret=cache_secret(db))
df = load_candles(db, "KRW-BENCH", "1m", sys.argv[3], sys.argv[4], cache=TieredCache(inner))
plain = load_candles(db, "KRW-BENCH", "1m", sys.argv[3], sys.argv[4])
pd.testing.assert_frame_equal(df, plain, check_exact=True)   # the hit is the database's frame, bit for bit
print(json.dumps({"hits": inner.hits, "rows": len(df)}))
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


def _psql(url: str, sql: str) -> float:
    """Seconds ``psql -c sql`` takes (after a CHECKPOINT, so it does not pay for earlier WAL)."""
    subprocess.run(["psql", url, "-q", "-c", "CHECKPOINT"], check=True)
    t0 = time.perf_counter()
    subprocess.run(["psql", url, "-q", "-c", sql], check=True)
    return time.perf_counter() - t0


def _checkpoint(url: str) -> None:
    subprocess.run(["psql", url, "-q", "-c", "CHECKPOINT"], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cache-rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=3, help="cache loads timed per tier (best kept)")
    ap.add_argument("--import-repeat", type=int, default=1,
                    help="runs of each import step (baselines, import, re-import); best kept")
    ap.add_argument("--no-cache", action="store_true", help="skip the cache part")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/workbench-bench"))
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    ap.add_argument("--db-prefix", default="wbbench_", help="name prefix of the throwaway database")
    ap.add_argument("--skip-import", action="store_true",
                    help="time only the cache tiers (imports --cache-rows rows once, untimed)")
    args = ap.parse_args()
    if args.skip_import:
        args.rows, args.no_cache = args.cache_rows, False
    setup_env()
    import psycopg

    from workbench.store.database import Database
    from workbench.store.migrations import migrate

    csv = args.dir / f"candles_{args.rows}.csv"
    make_csv(csv, args.rows)
    size_mb = csv.stat().st_size / 2**20
    name = f"{args.db_prefix}{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.server.rsplit("/", 1)[0] + "/" + name
    print(machine_line())
    print(f"CSV: {csv} ({fmt_int(args.rows)} rows, {size_mb:,.0f} MiB)")
    best: dict[str, float] = {}
    cache: dict[str, Any] | None = None
    try:
        db = Database(url)
        migrate(db)
        if args.skip_import:
            first = run_child(_CHILD, url, str(csv))
            assert first["inserted"] == args.rows, first
            cache = _cache_part(args, db, url)
            return
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE psql_logged (timestamp BIGINT PRIMARY KEY, open FLOAT8, high FLOAT8, "
                         "low FLOAT8, close FLOAT8, volume FLOAT8)")
            conn.execute("CREATE UNLOGGED TABLE psql_stage (ts BIGINT, o FLOAT8, h FLOAT8, l FLOAT8, c FLOAT8, "
                         "v FLOAT8)")
            conn.execute("CREATE TABLE psql_candles (LIKE candles INCLUDING ALL)")
        shaped = args.dir / f"candles_{args.rows}_shaped.csv"   # the rows as candles' columns
        if not shaped.exists():
            subprocess.run(["psql", url, "-q", "-c", f"\\copy psql_stage FROM '{csv}' CSV HEADER"], check=True)
            subprocess.run(["psql", url, "-q", "-c", "\\copy (SELECT 'KRW-PSQL', '1m', to_timestamp(ts / 1000.0), "
                            f"o, h, l, c, v FROM psql_stage) TO '{shaped}' CSV"], check=True)

        def keep(key: str, seconds: float) -> None:
            best[key] = min(best.get(key, float("inf")), seconds)
            print(f"  {key}: {seconds:.2f} s", flush=True)

        for _ in range(args.import_repeat):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE psql_logged, psql_stage, psql_candles, candles, candle_rollups")
            keep("logged", _psql(url, f"\\copy psql_logged FROM '{csv}' CSV HEADER"))
            keep("shaped", _psql(url, "\\copy psql_candles (symbol, timeframe, timestamp, open_price, high_price, "
                                      f"low_price, close_price, volume) FROM '{shaped}' CSV"))
            keep("unlogged", _psql(url, f"\\copy psql_stage FROM '{csv}' CSV HEADER"))
            insert = ("INSERT INTO candles (symbol, timeframe, timestamp, open_price, high_price, low_price, "
                      "close_price, volume) SELECT 'KRW-PSQL', '1m', to_timestamp(ts / 1000.0), o, h, l, c, v "
                      "FROM psql_stage")
            # marked as the workbench marks its writes: the triggers of migration 0052 (rollups) skip it
            keep("insert", _psql(url, f"BEGIN; SET LOCAL workbench.candles_maintained = 'on'; {insert}; COMMIT"))
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE candles, candle_rollups")
            keep("insert+triggers", _psql(url, insert))   # what another SQL client's INSERT costs
        first_runs, again_runs = [], []
        size_before = size_after = 0
        for _ in range(args.import_repeat):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE candles, candle_rollups, data_versions")
            _checkpoint(url)
            first = run_child(_CHILD, url, str(csv))
            print(f"  import: {first}", flush=True)
            assert first["inserted"] == args.rows, first
            first_runs.append(first)
            with psycopg.connect(url) as conn:
                size_before = conn.execute("SELECT pg_total_relation_size('candles')").fetchone()[0]  # type: ignore[index]
            _checkpoint(url)
            again = run_child(_CHILD, url, str(csv))
            print(f"  re-import: {again}", flush=True)
            with psycopg.connect(url) as conn:
                size_after = conn.execute("SELECT pg_total_relation_size('candles')").fetchone()[0]  # type: ignore[index]
            assert again["inserted"] == 0 and again["updated"] == 0, again
            again_runs.append(again)
        first = min(first_runs, key=lambda r: r["seconds"])
        again = min(again_runs, key=lambda r: r["seconds"])
        if not args.no_cache:
            cache = _cache_part(args, db, url)
    finally:
        Database(url).dispose()
        with psycopg.connect(args.server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if cache is not None and args.skip_import:
            print_cache(args, cache)

    t_logged, t_unlogged = best["logged"], best["unlogged"]
    t_insert = t_unlogged + best["insert"]
    n = args.rows
    print()
    print(f"| import of {fmt_int(n)} rows ({size_mb:,.0f} MiB CSV), best of {args.import_repeat} | seconds | rows/s | "
          f"import vs it | peak RSS |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| psql \\copy into a logged five-column table with a primary key on the timestamp (strict reading) | "
          f"{t_logged:.1f} | {fmt_int(n / t_logged)} | {first['seconds'] / t_logged:.2f}x | - |")
    print(f"| psql \\copy into an unlogged, index-less table | {t_unlogged:.1f} | {fmt_int(n / t_unlogged)} | "
          f"{first['seconds'] / t_unlogged:.2f}x | - |")
    print(f"| psql \\copy (unlogged) + INSERT ... SELECT into candles | {t_insert:.1f} | {fmt_int(n / t_insert)} | "
          f"{first['seconds'] / t_insert:.2f}x | - |")
    t_triggers = t_unlogged + best["insert+triggers"]
    print(f"| the same INSERT by another SQL client (triggers of migration 0052: rollups, data version) | "
          f"{t_triggers:.1f} | {fmt_int(n / t_triggers)} | {first['seconds'] / t_triggers:.2f}x | - |")
    t_shaped = best["shaped"]
    print("| psql \\copy into a logged table LIKE candles (its id, key and unique index; the goal's baseline) | "
          f"{t_shaped:.1f} | "
          f"{fmt_int(n / t_shaped)} | {first['seconds'] / t_shaped:.2f}x | - |")
    print(f"| workbench import (first) | {first['seconds']:.1f} | {fmt_int(n / first['seconds'])} | - | "
          f"{first['maxrss_mb']:,.0f} MiB |")
    print(f"| workbench re-import (unchanged) | {again['seconds']:.1f} | {fmt_int(n / again['seconds'])} | - | "
          f"{again['maxrss_mb']:,.0f} MiB |")
    goal, strict = first["seconds"] / t_shaped, first["seconds"] / t_logged
    vs_insert = ratio_text(first["seconds"], t_insert, "psql \\copy + INSERT")
    print(f"\nfirst import: {goal:.2f}x a plain \\copy into a table like candles (goal <= 1.5x: "
          f"{'met' if goal <= 1.5 else 'NOT met'}), {strict:.2f}x the five-column table with a key "
          f"({'met' if strict <= 1.5 else 'NOT met'}); {vs_insert}; re-import wrote "
          f"{int(again['inserted'] + again['updated'])} rows; table {size_before / 2**20:,.0f} MiB before, "
          f"{size_after / 2**20:,.0f} MiB after")
    if cache is not None:
        print_cache(args, cache)


def print_cache(args: argparse.Namespace, c: dict[str, Any]) -> None:
    t_db, t_mem, t_redis = c["database"], c["memory"], c["redis"]
    print(f"\nload of {fmt_int(c['rows'])} 1m candles, {len(t_db.times)} interleaved rounds:\n")
    print(timing_table([t_db, t_mem, t_redis], t_db, unit="ms"))
    print(f"\nas speed-ups (database / tier): in-process {t_db.best / t_mem.best:,.1f}x (min) "
          f"{t_db.median / t_mem.median:,.1f}x (median); Redis {t_db.best / t_redis.best:,.1f}x (min) "
          f"{t_db.median / t_redis.median:,.1f}x (median)")
    emit("bench_import", f"cache, in-process hit of {fmt_int(c['rows'])} 1m candles", t_mem, t_db, goal=1 / 50,
         unit="ms")
    emit("bench_import", f"cache, Redis hit of {fmt_int(c['rows'])} 1m candles", t_redis, t_db, goal=1 / 8,
         unit="ms")
    print("\nRedis hit, stage by stage (min / median of the same rounds): "
          + ", ".join(f"{t.name} {t.best * 1000:,.1f} / {t.median * 1000:,.1f} ms" for t in c["split"]))
    print(f"Redis value: {c['value_mib']:,.1f} MiB ({c['rows'] * 6 * 8 / 2**20:,.1f} MiB of columns); "
          f"as lz4 Arrow IPC (the format before): {c['ipc_mib']:,.1f} MiB; the miss that filled it: "
          f"{c['fill'] * 1000:,.0f} ms (database load + encode + SET); read back by another process: "
          f"equal to the database's frame")


def arrow_ipc_lz4(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _cache_part(args: argparse.Namespace, db: Any, url: str) -> dict[str, Any]:
    """Interleaved load times of a frame from the database, the in-process tier and Redis (an empty
    in-process tier in front of it: a new process's first load), and a hit's stages."""
    import pandas as pd
    import redis

    from workbench.store.cache import RedisCache, TieredCache, table_from_bytes, unseal
    from workbench.store.market_data import ARROW, Frames, _kept_frame, _version_and_source, load_candles
    from workbench.store.versions import cache_secret

    r = redis.Redis.from_url(args.redis)
    r.flushdb()
    start = "2015-01-01"
    end = str(time_after(start, args.cache_rows))
    plain = load_candles(db, "KRW-BENCH", "1m", start, end)   # warms the connection
    inner = RedisCache.from_url(args.redis, source="bench", secret=cache_secret(db))
    tier = TieredCache(inner)
    t0 = time.perf_counter()
    load_candles(db, "KRW-BENCH", "1m", start, end, cache=tier)   # fills Redis and the tier
    t_fill = time.perf_counter() - t0
    (cache_key,) = r.keys("candle:*")
    value_mib = r.strlen(cache_key) / 2**20
    ipc_mib = len(arrow_ipc_lz4(Frames(db, ARROW).candles("KRW-BENCH", "1m", start, end))) / 2**20
    other = run_child(_CACHE_CHILD, url, args.redis, start, end)   # another process reads the value back
    if other["hits"] != 1 or other["rows"] != len(plain):
        sys.exit(f"another process did not hit the Redis value: {other}")
    hits_before = inner.hits
    t = interleaved({
        "database (no cache)": lambda: load_candles(db, "KRW-BENCH", "1m", start, end),
        "in-process tier": lambda: load_candles(db, "KRW-BENCH", "1m", start, end, cache=tier),
        "Redis hit": lambda: load_candles(db, "KRW-BENCH", "1m", start, end, cache=TieredCache(inner)),
    }, rounds=args.repeat, unit="ms")
    if inner.hits - hits_before != args.repeat + 1:
        sys.exit(f"the Redis method missed: {inner.hits - hits_before} hits in {args.repeat + 1} calls")
    for timing in t.values():   # every method returned the database's frame, bit for bit
        pd.testing.assert_frame_equal(timing.result, plain, check_exact=True)
    key = cache_key.decode()
    s, e = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    value = inner.client.get(key)
    payload = unseal(key, value, inner._secret)
    table = table_from_bytes(payload, inner.source)
    split = interleaved({"lookup query": lambda: _version_and_source(db, "KRW-BENCH", "1m", s, e),
                         "Redis GET": lambda: inner.client.get(key),
                         "HMAC check": lambda: unseal(key, value, inner._secret),
                         "decode": lambda: table_from_bytes(payload, inner.source),
                         "pandas frame (kept, no copy)": lambda: _kept_frame(table)}, rounds=args.repeat, unit="ms",
                        keep_result=False)
    r.flushdb()
    return {"rows": len(plain), "database": t["database (no cache)"], "memory": t["in-process tier"],
            "redis": t["Redis hit"], "split": list(split.values()), "value_mib": value_mib, "ipc_mib": ipc_mib,
            "fill": t_fill}


def time_after(start: str, minutes: int) -> object:
    import pandas as pd

    return pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=minutes)


if __name__ == "__main__":
    main()
