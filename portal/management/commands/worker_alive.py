"""Exit 0 when this host's worker wrote its heartbeat within `--stale` seconds, 1 otherwise.

    python manage.py worker_alive [--stale 60]

The liveness probe for a worker run by systemd or Kubernetes (docs/operations.md, "Worker
liveness"); the worker and the probe must agree on WORKER_LIVENESS_FILE.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from portal.liveness import heartbeat, liveness_file


class Command(BaseCommand):
    help = "Exit 0 when the Celery worker's heartbeat is fresh, 1 when it is stale or missing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--stale", type=float, default=60.0, help="seconds (default 60)")

    def handle(self, *args, **options) -> None:
        path = liveness_file()
        beat = heartbeat(path)
        if beat is None:
            self.stderr.write(f"no heartbeat at {path}")
            sys.exit(1)
        pid, age = beat
        if age > options["stale"]:
            self.stderr.write(f"worker {pid}: no heartbeat for {age:.0f} s")
            sys.exit(1)
        self.stdout.write(f"worker {pid}: heartbeat {age:.0f} s ago")
