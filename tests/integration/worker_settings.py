"""Settings for a Celery worker that a test in tests/integration starts: the test settings, on
the test's own database (WORKER_DB_NAME) and the test's private Redis (REDIS_URL)."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["WORKER_DB_NAME"]
