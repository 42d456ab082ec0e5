"""The database's side of a rush (issue 16): who waits for a lock while a hot slot sells
(`LockWaits`), and where PostgreSQL's time goes, by statement (`statements_reset`,
`statements_report`, from pg_stat_statements when the server loads it; docs/scaling.md says how
to turn it on). The web workers' side is py-spy's (http_load.start_profiles)."""

from __future__ import annotations

import statistics
import threading
import time


def _connect(database_url: str):
    import psycopg

    return psycopg.connect(database_url, autocommit=True)


def _loaded(conn) -> bool:
    libraries = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
    return "pg_stat_statements" in [name.strip() for name in libraries.split(",")]


def statements_reset(database_url: str) -> bool:
    """Start counting the statements from zero; False when pg_stat_statements is not loaded."""
    with _connect(database_url) as conn:
        if not _loaded(conn):
            return False
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
        return True


def statements_report(database_url: str, top: int = 12) -> dict | None:
    """The statements of this database since the reset, by total time (planning and
    execution, including waits for locks), with their share of the total."""
    with _connect(database_url) as conn:
        if (
            not _loaded(conn)
            or not conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
            ).fetchone()
        ):
            return None
        rows = conn.execute(
            "SELECT s.query, s.calls, s.total_plan_time + s.total_exec_time AS ms "
            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() ORDER BY ms DESC"
        ).fetchall()
    total = sum(ms for _query, _calls, ms in rows) or 1.0
    return {
        "total_ms": round(total, 1),
        "calls": sum(calls for _query, calls, _ms in rows),
        "top": [
            {
                "percent": round(100 * ms / total, 1),
                "calls": calls,
                "mean_ms": round(ms / max(calls, 1), 3),
                "query": " ".join(query.split())[:160],
            }
            for query, calls, ms in rows[:top]
        ],
    }


class LockWaits:
    """Samples the database's sessions every 5 ms from a thread of its own while a rush runs:
    how many wait for a lock (on a hot slot, for its row) and, while any do, how many others
    are running a statement. A lock holder that is not running one is working in Python with
    its transaction open."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.samples: list[tuple[float, int, int]] = []  # (time, waiting, active)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with _connect(self.database_url) as conn:
            while not self._stop.is_set():
                waiting, active = conn.execute(
                    "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                    "count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                self.samples.append((time.perf_counter(), waiting, active))
                time.sleep(0.005)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        queued = [(at, waiting, active) for at, waiting, active in self.samples if waiting]
        if not queued:
            return {"seconds_with_lock_waits": 0.0, "peak_waiting": 0}
        return {
            "seconds_with_lock_waits": round(queued[-1][0] - queued[0][0], 2),
            "peak_waiting": max(waiting for _, waiting, _ in queued),
            "mean_waiting": round(statistics.mean(waiting for _, waiting, _ in queued), 1),
            "mean_running_beside_them": round(
                statistics.mean(active - waiting for _, waiting, active in queued), 2
            ),
        }
