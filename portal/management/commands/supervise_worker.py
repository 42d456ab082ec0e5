"""Run the Celery worker, watch its heartbeat, restart it when it dies or stops consuming.

    python manage.py supervise_worker [--stale 60] [--grace 120] [--check-every 5] \
        [--stop-timeout 60] [-- celery -A portal worker --beat --loglevel INFO]

What `make run` starts (Procfile). The worker runs in a process group of its own with a
heartbeat file of its own (portal/liveness.py); every `--check-every` seconds the supervisor
reads it. A worker that exited is started again (with a growing pause when it keeps dying at
start); a worker whose heartbeat is older than `--stale` seconds (or that wrote none within
`--grace` seconds of starting) is killed with its pool (SIGKILL: a stopped process ignores
anything else) and started again. Tasks it held are `acks_late`: the broker hands them out again
and the rows they check make a repeat harmless. SIGTERM or SIGINT stop the worker at once (a warm
shutdown; killed with its pool after `--stop-timeout` seconds) and then the supervisor. `make
run` gives it 3 s: honcho kills what still runs 5 s after Ctrl-C, and a worker in a session of its
own would outlive that kill. In production use systemd or Kubernetes instead
(docs/operations.md, "Worker liveness").
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.liveness import heartbeat

DEFAULT_WORKER = ["celery", "-A", "portal", "worker", "--beat", "--loglevel", "INFO"]


class Command(BaseCommand):
    help = "Run the Celery worker and restart it when it dies or its heartbeat goes stale."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stale", type=float, default=60.0, help="seconds (default 60)")
        parser.add_argument("--grace", type=float, default=120.0, help="seconds (default 120)")
        parser.add_argument("--check-every", type=float, default=5.0, help="seconds")
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=60.0,
            help="seconds a stopping worker may take before it is killed (default 60)",
        )
        parser.add_argument(
            "--heartbeat", default="", help="heartbeat file (default: settings', .supervised)"
        )
        parser.add_argument("worker", nargs="*", help="the worker's command line, after --")

    def handle(self, *args, **options) -> None:
        command = options["worker"] or DEFAULT_WORKER
        if options["stale"] <= settings.WORKER_LIVENESS_INTERVAL:
            raise CommandError("--stale must be longer than WORKER_LIVENESS_INTERVAL")
        path = Path(options["heartbeat"] or f"{settings.WORKER_LIVENESS_FILE}.supervised")
        supervisor = Supervisor(
            command,
            heartbeat_file=path,
            stale=options["stale"],
            grace=options["grace"],
            check_every=options["check_every"],
            stop_timeout=options["stop_timeout"],
            say=lambda text: self.stderr.write(f"supervise_worker: {text}"),
        )
        supervisor.run()


class Supervisor:
    def __init__(
        self, command, *, heartbeat_file, stale, grace, check_every, say, stop_timeout=60.0
    ) -> None:
        self.command = command
        self.heartbeat_file = heartbeat_file
        self.stale = stale
        self.grace = grace
        self.check_every = check_every
        self.stop_timeout = stop_timeout
        self.say = say
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        # Set by SIGTERM/SIGINT; waiting on it (not sleeping) starts the shutdown at once.
        self.stop_requested = threading.Event()
        self.quick_deaths = 0

    @property
    def stopping(self) -> bool:
        return self.stop_requested.is_set()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self._start()
        while not self.stopping:
            if self.stop_requested.wait(self.check_every):
                break
            problem = self._problem()
            if problem:
                self.say(f"worker {self.process.pid} {problem}; restarting it")
                self._kill()
                self._pause_if_it_keeps_dying()
                if not self.stopping:
                    self._start()
        self._terminate()

    def _problem(self) -> str | None:
        assert self.process is not None
        if self.process.poll() is not None:
            return f"exited with {self.process.returncode}"
        running_for = time.monotonic() - self.started_at
        beat = heartbeat(self.heartbeat_file)
        if beat is None:
            if running_for > self.grace:
                return f"wrote no heartbeat in {self.grace:.0f} s"
            return None
        _pid, age = beat  # the file is removed before each start: this worker wrote it
        if age > self.stale:
            return f"stopped consuming (no heartbeat for {age:.0f} s)"
        return None

    def _start(self) -> None:
        self.heartbeat_file.unlink(missing_ok=True)
        env = {**os.environ, "WORKER_LIVENESS_FILE": str(self.heartbeat_file)}
        # A process group of its own, so a kill takes the pool's children (and beat) with it.
        self.process = subprocess.Popen(  # noqa: S603 - the operator's own command line
            self.command, env=env, start_new_session=True
        )
        self.started_at = time.monotonic()
        self.say(f"started worker {self.process.pid}: {' '.join(self.command)}")

    def _pause_if_it_keeps_dying(self) -> None:
        if time.monotonic() - self.started_at < self.grace:
            self.quick_deaths += 1
            pause = min(2**self.quick_deaths, 60)
            self.say(f"it died soon after starting; waiting {pause} s")
            deadline = time.monotonic() + pause
            self.stop_requested.wait(max(0.0, deadline - time.monotonic()))
        else:
            self.quick_deaths = 0

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _kill(self) -> None:
        self._signal_group(signal.SIGKILL)
        self.process.wait()

    def _terminate(self) -> None:
        """A warm shutdown (Celery finishes the task at hand), then SIGKILL after
        `stop_timeout` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGCONT)  # a stopped worker cannot shut down
        # To the worker alone: it stops its pool itself (a pool child signalled directly would
        # be replaced in the middle of the shutdown).
        self.process.terminate()
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            self.say(
                f"worker {self.process.pid} killed: not stopped within {self.stop_timeout:g} s"
            )
            return
        self.say(f"worker {self.process.pid} stopped")

    def _stop(self, signum, frame) -> None:
        self.stop_requested.set()
