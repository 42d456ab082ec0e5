"""Racing threads for the concurrency tests (PostgreSQL, `transaction=True`, xdist group)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(calls: list[Callable[[], object]], *, timeout: float = 120) -> list[object]:
    """Start every call at the same instant, each on its own thread and connection; return what
    each returned or raised, in order. Each thread closes its connection so PostgreSQL's 100
    connections are not used up."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the outcome under test, success or refusal
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
