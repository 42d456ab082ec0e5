"""The worker's heartbeat file and the probe that reads it (`manage.py worker_alive`)."""

from __future__ import annotations

import os
import time

import pytest
from django.core.management import call_command

from portal.liveness import beat, heartbeat


@pytest.fixture
def alive(tmp_path, settings):
    settings.WORKER_LIVENESS_FILE = str(tmp_path / "worker-alive")
    return tmp_path / "worker-alive"


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_heartbeat_names_the_worker_that_wrote_it(alive):
    assert heartbeat(alive) is None
    beat(alive)
    pid, _age = heartbeat(alive)
    assert pid == os.getpid()


def test_the_probe_passes_a_fresh_heartbeat_and_fails_a_stale_or_missing_one(alive, capsys):
    with pytest.raises(SystemExit) as missing:
        call_command("worker_alive")
    assert missing.value.code == 1 and "no heartbeat" in capsys.readouterr().err

    beat(alive)
    call_command("worker_alive", stale=60)  # no exit: 0
    assert f"worker {os.getpid()}" in capsys.readouterr().out

    age(alive, 61)
    with pytest.raises(SystemExit) as stale:
        call_command("worker_alive", stale=60)
    assert stale.value.code == 1 and "no heartbeat for 61 s" in capsys.readouterr().err


def test_the_worker_runs_the_heartbeat_step():
    from portal.celery import app

    assert "portal.liveness:LivenessHeartbeat" in app.steps["consumer"]
