"""Test settings: the real settings plus test-only speed-ups and capture backends.

The database and Redis come from the environment as in production (CI exports DATABASE_URL and
REDIS_URL); with neither set the suite runs on the embedded default.
"""

import os

# CI exports DATABASE_URL, which turns DEBUG off; the suite supplies its own throwaway key.
os.environ.setdefault("SECRET_KEY", "tests-only-" + "x" * 50)
# Likewise the ID-number keys (records/crypto.py); tests that rotate keys override the setting.
os.environ.setdefault("RECORDS_ENCRYPTION_KEYS", "dGVzdHMtb25seS1rZXktZm9yLWlkLW51bWJlcnMtMzI=")
os.environ.setdefault("RECORDS_HASH_KEY", "tests-only-hash-" + "y" * 40)

# Each test process gets a Redis database of its own (1 without xdist, 2, 3, … for gw0, gw1,
# …), so a test that clears the cache never wipes another worker's rate-limit counters.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "") or "main"
_redis_db = int(_worker[2:]) + 2 if _worker.startswith("gw") else 1
if os.environ.get("REDIS_URL"):
    from urllib.parse import urlparse

    _redis = urlparse(os.environ["REDIS_URL"])
    os.environ["REDIS_URL"] = _redis._replace(path=f"/{_redis_db % 16}").geturl()

from portal.settings import *  # noqa: E402, F403
from portal.settings import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "notifications.sms.LocmemBackend"
# Tests deliver the outbox themselves (outbox_deliver_due); the on-commit drain has its own test.
OUTBOX_DRAIN_ON_COMMIT = False
OUTBOX_DRAIN_MIN_INTERVAL = 0  # a test that turns the drain on sees every ask
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
LANGUAGE_CODE = "en"  # tests read English unless they switch; the site's default stays zh-hans

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: live-server and thread tests need a database other threads can see.
    VAR_DIR.mkdir(exist_ok=True)  # noqa: F405 - a fresh clone has no var/ yet
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{_worker}.sqlite3")}  # noqa: F405

# Serve static files from the apps' folders, as in development: no collectstatic before tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The race tests run ~30 threads at once (one xdist group, so one worker at a time): give
    # each a connection instead of queueing them on production's pool of 10.
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 35
