"""Named SQL queries, kept as ``.sql`` files in ``workbench/store/schema/queries/`` with ``:name`` parameters.

Every query is named by a member of :class:`Q` (``query(Q.ENSURE_USER)``), never by a string built at
the call site, so a renamed or deleted file fails type checking, and ``tests/store/test_queries.py``
fails on a ``.sql`` file without a member, a member without a file, and a member nothing uses.

The same text serves SQLAlchemy (``text()``, bound parameters) and ADBC (values rendered as quoted
literals, so the statement can be streamed with COPY).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import sqlalchemy as sa

from workbench.errors import UnknownNameError

__all__ = ["Q", "Query", "query"]

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Q(StrEnum):
    """The name of every query: its file is ``schema/queries/<value>.sql``. To add a query: write the
    file, add its member here (alphabetical), use it."""

    ADVISORY_LOCK = "advisory_lock"
    ADVISORY_UNLOCK = "advisory_unlock"
    ARCHIVE_FILE_COMMIT = "archive_file_commit"
    ARCHIVE_FILE_DROP_OTHERS = "archive_file_drop_others"
    ARCHIVE_FILE_PENDING = "archive_file_pending"
    ARCHIVE_FILES_ALL = "archive_files_all"
    ARCHIVE_FILES_PARTITION = "archive_files_partition"
    ARCHIVE_GUARD = "archive_guard"
    ARCHIVE_MONTHS = "archive_months"
    ARCHIVE_RETENTION = "archive_retention"
    ARCHIVE_ROWS = "archive_rows"
    ARCHIVE_WATERMARK_BEGIN = "archive_watermark_begin"
    ARCHIVE_WATERMARK_COMMIT = "archive_watermark_commit"
    BACKTEST_GET = "backtest_get"
    BACKTEST_INSERT = "backtest_insert"
    BACKTEST_OWNER = "backtest_owner"
    BACKTEST_RUNS = "backtest_runs"
    BACKTEST_SHARE = "backtest_share"
    BACKTEST_VISIBLE = "backtest_visible"
    CANDLE_INVENTORY = "candle_inventory"
    CANDLES = "candles"
    CANDLES_FROM_TRANSACTIONS = "candles_from_transactions"
    CANDLES_FROM_TRANSACTIONS_TSDB = "candles_from_transactions_tsdb"
    CANDLES_LOCK = "candles_lock"
    CANDLES_LOOKUP = "candles_lookup"
    CANDLES_MAINTAINED = "candles_maintained"
    CANDLES_RANGE_TAKEN = "candles_range_taken"
    CANDLES_RESAMPLED = "candles_resampled"
    CANDLES_RESAMPLED_TSDB = "candles_resampled_tsdb"
    CANDLES_ROLLUP = "candles_rollup"
    DATA_VERSION_BUMP = "data_version_bump"
    DATA_VERSION_GET = "data_version_get"
    ENSURE_USER = "ensure_user"
    HAS_TIMESCALEDB = "has_timescaledb"
    INDICATORS = "indicators"
    MANIFEST_INSERT = "manifest_insert"
    MIGRATIONS_APPLIED = "migrations_applied"
    MIGRATIONS_LOCK = "migrations_lock"
    MIGRATIONS_RECORD = "migrations_record"
    MIGRATIONS_TABLE = "migrations_table"
    MONITOR_ARCHIVE = "monitor_archive"
    MONITOR_CONNECTIONS = "monitor_connections"
    MONITOR_HAS_PG_STAT_STATEMENTS = "monitor_has_pg_stat_statements"
    MONITOR_HYPERTABLE_SIZES = "monitor_hypertable_sizes"
    MONITOR_SERVER_CONNECTIONS = "monitor_server_connections"
    MONITOR_SLOW_QUERIES = "monitor_slow_queries"
    MONITOR_TABLE_SIZES = "monitor_table_sizes"
    NOTIFY_RECIPIENT = "notify_recipient"
    NOTIFY_USER_ID = "notify_user_id"
    ORDERBOOKS = "orderbooks"
    PAPER_EQUITY = "paper_equity"
    PAPER_EQUITY_INSERT = "paper_equity_insert"
    PAPER_EXECUTION_INSERT = "paper_execution_insert"
    PAPER_EXECUTIONS = "paper_executions"
    PAPER_ORDER_CLOSE = "paper_order_close"
    PAPER_ORDER_FILL = "paper_order_fill"
    PAPER_ORDER_FILL_PART = "paper_order_fill_part"
    PAPER_ORDER_ID = "paper_order_id"
    PAPER_ORDER_INSERT = "paper_order_insert"
    PAPER_ORDERS = "paper_orders"
    PAPER_PORTFOLIO_INSERT = "paper_portfolio_insert"
    PAPER_PORTFOLIO_LINK = "paper_portfolio_link"
    PAPER_PORTFOLIO_REBALANCED = "paper_portfolio_rebalanced"
    PAPER_PORTFOLIO_UPDATE = "paper_portfolio_update"
    PAPER_POSITION_ADD = "paper_position_add"
    PAPER_POSITION_CLOSE = "paper_position_close"
    PAPER_POSITION_MARK = "paper_position_mark"
    PAPER_POSITION_OPEN = "paper_position_open"
    PAPER_POSITIONS = "paper_positions"
    PAPER_RUN_GET = "paper_run_get"
    PAPER_RUN_INSERT = "paper_run_insert"
    PAPER_RUN_LOCK = "paper_run_lock"
    PAPER_RUN_STATE = "paper_run_state"
    PAPER_RUN_STATUS = "paper_run_status"
    PAPER_RUN_UPDATE = "paper_run_update"
    PAPER_RUN_VISIBLE = "paper_run_visible"
    PAPER_RUNNER_CLAIM = "paper_runner_claim"
    PAPER_RUNNER_HOLDER = "paper_runner_holder"
    PAPER_RUNNER_LOCK = "paper_runner_lock"
    PAPER_RUNNER_RELEASE = "paper_runner_release"
    PAPER_RUNNER_UNLOCK = "paper_runner_unlock"
    PAPER_RUNS_LIST = "paper_runs_list"
    PAPER_TRADE_INSERT = "paper_trade_insert"
    ROLLUPS_EDGES_MINUTES = "rollups_edges_minutes"
    ROLLUPS_EDGES_ROLLUPS = "rollups_edges_rollups"
    ROLLUPS_EXISTING = "rollups_existing"
    ROLLUPS_MAINTAIN = "rollups_maintain"
    ROLLUPS_STALE_DONE = "rollups_stale_done"
    ROLLUPS_STALE_GET = "rollups_stale_get"
    ROLLUPS_UPSERT_STAGED = "rollups_upsert_staged"
    SECRET_GET = "secret_get"  # noqa: S105 (a query name)
    SECRET_INIT = "secret_init"  # noqa: S105 (a query name)
    SESSION_GET = "session_get"
    SESSION_INSERT = "session_insert"
    SESSION_REVOKE = "session_revoke"
    SESSION_REVOKE_USER = "session_revoke_user"
    STRATEGY_AGGREGATE = "strategy_aggregate"
    STRATEGY_BACKTESTING_ENTER = "strategy_backtesting_enter"
    STRATEGY_BACKTESTING_LAST = "strategy_backtesting_last"
    STRATEGY_BACKTESTING_LEAVE = "strategy_backtesting_leave"
    STRATEGY_BACKTESTING_RELEASE = "strategy_backtesting_release"
    STRATEGY_FIND = "strategy_find"
    STRATEGY_GET = "strategy_get"
    STRATEGY_GET_BY_NAME = "strategy_get_by_name"
    STRATEGY_INSERT = "strategy_insert"
    STRATEGY_LOCK = "strategy_lock"
    STRATEGY_SET_BACKTESTING = "strategy_set_backtesting"
    STRATEGY_UPDATE = "strategy_update"
    SWEEP_ITEM_INSERT = "sweep_item_insert"
    SWEEP_ITEMS = "sweep_items"
    TICKERS = "tickers"
    TRANSACTIONS = "transactions"
    TSDB_REFRESH_ROLLUP = "tsdb_refresh_rollup"
    UPSERT_CANDLE_INDICATORS = "upsert_candle_indicators"
    UPSERT_CANDLES = "upsert_candles"
    UPSERT_ORDERBOOKS = "upsert_orderbooks"
    UPSERT_TECHNICAL_INDICATORS = "upsert_technical_indicators"
    UPSERT_TICKERS = "upsert_tickers"
    UPSERT_TRANSACTIONS = "upsert_transactions"
    USER_GET = "user_get"
    USER_INSERT = "user_insert"
    USER_KEYS_GET = "user_keys_get"
    USER_KEYS_SET = "user_keys_set"
    USER_LAST_LOGIN = "user_last_login"
    USER_LIST = "user_list"
    USER_SET_ACTIVE = "user_set_active"
    USER_SET_PASSWORD = "user_set_password"  # noqa: S105 (a query name)


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    sql: str

    @property
    def text(self) -> sa.TextClause:
        """The statement for SQLAlchemy, carrying its name for the query timings
        (:mod:`workbench.store.query_timings`)."""
        return sa.text(self.sql).execution_options(workbench_query=self.name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PARAM.findall(self.sql)))

    def literal(self, params: Mapping[str, object]) -> str:
        """The query with each ``:name`` replaced by ``params[name]`` quoted as an SQL literal by
        psycopg (``psycopg.sql.Literal``: strings escaped, datetimes typed), for statements that must
        carry no bind parameters (COPY)."""
        from psycopg import sql

        missing = [n for n in self.param_names if n not in params]
        if missing:
            raise UnknownNameError(f"query {self.name!r} needs parameter(s) {missing}")
        return _PARAM.sub(lambda m: sql.Literal(params[m.group(1)]).as_string(None), self.sql)


@cache
def query(name: Q) -> Query:
    """Load query ``name`` from the package's ``store/schema/queries`` folder."""
    try:
        member = Q(name)
    except ValueError:
        raise UnknownNameError(f"no query named {name!r}") from None
    path = resources.files("workbench.store") / "schema" / "queries" / f"{member.value}.sql"
    try:
        return Query(member.value, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UnknownNameError(f"no query file {member.value}.sql") from None
