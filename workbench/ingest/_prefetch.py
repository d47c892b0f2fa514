"""Run an iterator in a thread, a few items ahead of its consumer (reading overlaps writing)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["prefetch"]

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], *, depth: int = 2) -> Generator[T, None, None]:
    """Yield what ``items`` yields, computed in a daemon thread at most ``depth`` items ahead.

    An exception raised by ``items`` is raised here, at its place in the sequence. When the
    consumer stops early (an exception, ``break``, the generator closed), the thread stops after
    the item it is computing.
    """
    q: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as err:  # handed to the consumer
            put((_DONE, err))
            return
        put((_DONE, None))

    thread = threading.Thread(target=run, name="workbench-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is _DONE:
                return
            yield item  # type: ignore[misc]  # not the sentinel: an item of the source
    finally:
        stop.set()
        thread.join()
