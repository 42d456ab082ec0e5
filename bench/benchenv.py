"""What every benchmark sets before Django starts: the project on the path, and throwaway keys.

A benchmark runs against PostgreSQL (DATABASE_URL), which turns DEBUG off, and production
settings refuse to start without their secrets. The benchmarks work in scratch databases they
create and drop, so throwaway keys are right here and nowhere else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_environment() -> None:
    """Call before `django.setup()`; a value already in the environment wins."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("RECORDS_ENCRYPTION_KEYS", "YmVuY2gtb25seS1rZXktZm9yLWlkLW51bWJlcnMtMzI=")
    os.environ.setdefault("RECORDS_HASH_KEY", "bench-only-hash-" + "y" * 40)
