"""Worker liveness: a heartbeat file the Celery worker's consumer rewrites every few seconds.

The file is rewritten by a timer of the consumer (on Redis, the consumer's own event loop), and
only while the consumer is started: a worker that lost its broker connection and never got it
back, that hangs, or that was stopped (SIGSTOP) lets it go stale. `heartbeat_age()` is what the
supervisor (`manage.py supervise_worker`) and the probe (`manage.py worker_alive`) read.

Its path is settings.WORKER_LIVENESS_FILE (environment `WORKER_LIVENESS_FILE`); the supervisor
gives each worker it starts a file of its own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import bootsteps
from django.conf import settings


def liveness_file() -> Path:
    return Path(settings.WORKER_LIVENESS_FILE)


def beat(path: Path) -> None:
    """Write `<pid> <unix time>` atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{os.getpid()} {time.time():.3f}\n")
    partial.replace(path)


def heartbeat(path: Path) -> tuple[int, float] | None:
    """(pid of the worker that wrote it, seconds since it did), or None without a file."""
    try:
        pid, _at = path.read_text().split()
        return int(pid), max(0.0, time.time() - path.stat().st_mtime)
    except (OSError, ValueError):
        return None


class LivenessHeartbeat(bootsteps.StartStopStep):
    """A consumer step: started once the task consumer consumes, stopped whenever the consumer
    stops or restarts (a lost broker connection), so the file stays fresh only while tasks can
    arrive."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, parent) -> None:
        path = liveness_file()
        beat(path)
        self.timer_entry = parent.timer.call_repeatedly(
            settings.WORKER_LIVENESS_INTERVAL, beat, (path,), priority=10
        )

    def stop(self, parent) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop
