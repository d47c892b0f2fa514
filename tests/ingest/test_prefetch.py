"""prefetch: same items in the same order, errors where they happen, the thread stopped on close."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from workbench.ingest._prefetch import prefetch


def test_items_in_order_and_the_error_at_its_place() -> None:
    def items() -> Iterator[int]:
        yield from range(5)
        raise ValueError("bad chunk")

    got = []
    with pytest.raises(ValueError, match="bad chunk"):
        for x in prefetch(items(), depth=2):
            got.append(x)
    assert got == [0, 1, 2, 3, 4]


def test_closing_early_stops_the_thread() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    gen = prefetch(items(), depth=2)
    assert next(gen) == 0
    gen.close()
    assert not any(t.name == "workbench-prefetch" for t in threading.enumerate())
    assert len(produced) <= 5   # at most the queue (2), the item being put and one in hand
