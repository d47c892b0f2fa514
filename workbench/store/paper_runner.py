"""One runner per paper run: the process that runs a paper run holds its runner lock, and says so.

The lock is a session-level advisory lock on a pinned connection (so the run's own transactions need no
second connection), released when the block ends or, if the process dies, when its connection closes.
The holder's host, pid and start time are kept in ``paper_run_runners`` for the refusal message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from workbench.errors import InUseError
from workbench.store.database import Database
from workbench.store.queries import Q, query

__all__ = ["hold_paper_run"]


@contextmanager
def hold_paper_run(db: Database, run_id: int) -> Iterator[None]:
    """Run paper run ``run_id`` in this process until the block ends; InUseError (naming the holder) if
    another process runs it.

    In single-connection mode (a server that serves one connection at a time, e.g. PGlite) no lock is held
    across the run: the run's own reads (ADBC) need the one connection the server serves."""
    if db.single_connection:
        yield
        return
    with db.pinned() as conn:
        params = {"id": run_id}
        took = bool(conn.execute(query(Q.PAPER_RUNNER_LOCK).text, params).scalar())
        conn.commit()
        if not took:
            holder = conn.execute(query(Q.PAPER_RUNNER_HOLDER).text, params).first()
            conn.rollback()
            who = ("another process (it is starting up)" if holder is None else
                   f"pid {holder.pid} on host {holder.host} since "
                   f"{pd.Timestamp(holder.since).tz_convert('UTC'):%Y-%m-%d %H:%M:%S} UTC")
            raise InUseError(f"paper run {run_id} is already running in another process: {who}; stop that "
                             "process (Ctrl-C) or wait for it to end before resuming")
        try:
            conn.execute(query(Q.PAPER_RUNNER_CLAIM).text, {**params, "host": socket.gethostname(),
                                                            "pid": os.getpid()})
            conn.commit()
            yield
        finally:
            if conn.in_transaction():   # a failure inside the block left one open
                conn.rollback()
            conn.execute(query(Q.PAPER_RUNNER_RELEASE).text, params)
            conn.execute(query(Q.PAPER_RUNNER_UNLOCK).text, params)
            conn.commit()
