"""bench/db_watch.py, the instrument behind the hot slot's lock figures and the database's
profile (docs/scaling.md, eighth pass): it must see a session that waits for a lock, and say
plainly when pg_stat_statements is not there to count statements."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _db_watch():
    spec = importlib.util.spec_from_file_location("db_watch", ROOT / "bench" / "db_watch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def database_url():
    """The test database's conninfo, password included where the settings have one."""
    if connection.vendor != "postgresql":
        pytest.skip("bench/db_watch.py reads PostgreSQL's own views")
    from psycopg.conninfo import make_conninfo

    settings = connection.settings_dict
    return make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )


def _until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_session_waiting_for_a_lock_is_counted_and_the_holder_is_not(database_url):
    import psycopg

    db_watch = _db_watch()
    key = 7_316_016  # an advisory lock of this test's own
    with (
        psycopg.connect(database_url, autocommit=True) as holder,
        psycopg.connect(database_url, autocommit=True) as waiter,
    ):
        holder.execute("SELECT pg_advisory_lock(%s)", [key])
        waits = db_watch.LockWaits(database_url)
        waits.start()
        blocked = threading.Thread(
            target=lambda: waiter.execute("SELECT pg_advisory_lock(%s)", [key])
        )
        blocked.start()
        seen = _until(lambda: any(waiting for _at, waiting, _active in waits.samples))
        holder.execute("SELECT pg_advisory_unlock(%s)", [key])
        blocked.join(timeout=20)
        waiter.execute("SELECT pg_advisory_unlock(%s)", [key])
        report = waits.stop()

    assert seen
    assert report["peak_waiting"] == 1
    assert report["seconds_with_lock_waits"] >= 0


def test_nothing_waiting_reports_no_waits(database_url):
    db_watch = _db_watch()
    waits = db_watch.LockWaits(database_url)
    waits.start()
    assert _until(lambda: len(waits.samples) >= 3)
    assert waits.stop() == {"seconds_with_lock_waits": 0.0, "peak_waiting": 0}


def test_the_statements_are_counted_only_where_pg_stat_statements_is_loaded(database_url):
    db_watch = _db_watch()
    counting = db_watch.statements_reset(database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
    report = db_watch.statements_report(database_url)
    if not counting:
        # Not loaded on this server: the bench says so (null) rather than an empty profile.
        assert report is None
    else:
        assert report["calls"] >= 1
        assert any("django_migrations" in row["query"] for row in report["top"])
