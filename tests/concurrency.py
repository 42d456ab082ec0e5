"""Racing threads for the concurrency tests (PostgreSQL, `transaction=True`, xdist group)."""

from __future__ import annotations

import threading
import time
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


# Statements that take row locks (Django writes these keywords in upper case).
_LOCKING = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def _takes_row_locks(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("UPDATE", "DELETE")) or any(word in sql for word in _LOCKING)


def lock_step(
    calls: list[Callable[[], object]],
    *,
    pause_after: list[int] | None = None,
    timeout: float = 30,
) -> list[object]:
    """Run each call on its own thread and connection so that every call takes its FIRST row
    lock before any call takes its second (or its `pause_after[i]`-th before the next, for
    paths whose orders cross later): after that locking statement a call waits until
    every other call has taken its own first lock, or is queued in PostgreSQL behind a lock (the
    two want the same first row, so they cannot cross). Two code paths that lock the same rows
    in opposite orders then deadlock every time; in one order they never do. Returns what each
    call returned or raised, in order.

    The pause is injected through Django's `connection.execute_wrapper`, between the first
    locking statement and the next; PostgreSQL itself decides who waits. `deadlock_timeout` is
    lowered for these transactions so a deadlock is reported in a tenth of a second, and
    `lock_timeout` turns a hang into an error."""
    lock = threading.Condition()
    pids: list[int | None] = [None] * len(calls)
    arrived = [False] * len(calls)
    results: list[object] = [None] * len(calls)
    deadline = time.monotonic() + timeout

    def waiting_for_a_lock(cursor, pid: int | None) -> bool:
        if pid is None:
            return False
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid]
        )
        return bool(cursor.fetchone()[0])

    def rendezvous(index: int) -> None:
        with lock:
            arrived[index] = True
            lock.notify_all()
        with connection.connection.cursor() as cursor:  # beside the caller's cursor
            while True:
                others = [i for i in range(len(calls)) if i != index and not arrived[i]]
                if all(waiting_for_a_lock(cursor, pids[i]) for i in others):
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError("lock_step: another call neither locked nor waited")
                with lock:
                    lock.wait(0.01)

    def run(index: int, call: Callable[[], object]) -> None:
        locks_taken = 0
        pause_at = pause_after[index] if pause_after else 1

        def pause_after_first_lock(execute, sql, params, many, context):
            nonlocal locks_taken
            if locks_taken >= pause_at or not _takes_row_locks(sql):
                return execute(sql, params, many, context)
            if locks_taken == 0:
                raw = context["cursor"].cursor
                raw.execute("SET LOCAL deadlock_timeout = '100ms'")
                raw.execute("SET LOCAL lock_timeout = '20s'")
            result = execute(sql, params, many, context)
            locks_taken += 1
            if locks_taken == pause_at:
                rendezvous(index)
            return result

        try:
            connection.ensure_connection()
            pids[index] = connection.connection.info.backend_pid
            with connection.execute_wrapper(pause_after_first_lock):
                results[index] = call()
        except Exception as exc:  # the outcome under test, success or refusal
            results[index] = exc
        finally:
            with lock:  # a call that ended without locking must not keep the others waiting
                arrived[index] = True
                lock.notify_all()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
