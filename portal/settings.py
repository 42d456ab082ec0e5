"""One settings module for every environment (12-factor).

With no environment at all it is the embedded default of DESIGN.md §5: DEBUG on, SQLite,
the in-memory channel layer, console e-mail and SMS, a local-memory cache and a Celery worker
on kombu's filesystem transport. Production differs only by environment variables;
docs/operations.md lists them.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # the embedded default's files: SQLite, the Celery queue, media

env = environ.Env()

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")

# Setting DATABASE_URL is what makes a deployment; DJANGO_DEBUG overrides either way.
DEBUG = env.bool("DJANGO_DEBUG", default=not DATABASE_URL)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the portal refuses to start without one: "
            "set SECRET_KEY to a long random string (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "django-insecure-embedded-default-for-local-development-only"  # noqa: S105

# ID numbers at rest (records/crypto.py). RECORDS_ENCRYPTION_KEYS: comma-separated Fernet
# keys, newest first (the first encrypts, all decrypt; put a new key in front to rotate, then run
# `manage.py records_rotate_key`). RECORDS_HASH_KEY: the HMAC key of the platform-unique hash.
RECORDS_ENCRYPTION_KEYS = env.list("RECORDS_ENCRYPTION_KEYS", default=[])
RECORDS_HASH_KEY = env.str("RECORDS_HASH_KEY", default="")
if not RECORDS_ENCRYPTION_KEYS or not RECORDS_HASH_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "RECORDS_ENCRYPTION_KEYS and RECORDS_HASH_KEY must both be set with DEBUG off: they "
            "protect patients' ID numbers. Make a Fernet key with python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' and a "
            "hash key with python -c 'import secrets; print(secrets.token_urlsafe(50))'. Never "
            "change the hash key of a live database."
        )
    # Development only: stable keys derived from SECRET_KEY, so `make run` needs no setup.
    _derived = hashlib.sha256(b"records-encryption:" + SECRET_KEY.encode()).digest()
    RECORDS_ENCRYPTION_KEYS = RECORDS_ENCRYPTION_KEYS or [
        base64.urlsafe_b64encode(_derived).decode()
    ]
    RECORDS_HASH_KEY = (
        RECORDS_HASH_KEY or hashlib.sha256(b"records-hash:" + SECRET_KEY.encode()).hexdigest()
    )
for _key in RECORDS_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "RECORDS_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes)."
        ) from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# How many reverse proxies in front of us append to X-Forwarded-For; 0 trusts none of it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "daphne",  # first: its runserver serves HTTP and WebSocket in development
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for the project-wide form templates below
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    # ours, in import order: a later app may import an earlier one, never the reverse
    "audit",
    "accounts",
    "notifications",
    "hospitals",
    "records",
    "appointments",
    "telemedicine",
    "appointments.familydoctors",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that audits: the address and request id for the trail (audit/context.py).
    "portal.middleware.AuditContextMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A rush's POST for a slot just found full: answered here, before the session or the
    # account is read (portal/sold_out_early.py).
    "portal.sold_out_early.SoldOutEarlyMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RateLimitedMiddleware",
    "portal.middleware.DeniedAccessAuditMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "portal.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.site_shell",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
]

# Forms render through templates/django/forms/, the site's own field layout.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's own psycopg pool; CONN_MAX_AGE must stay 0 with it.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            # How long a request waits for a connection before it fails with the 503 page.
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Server-side prepared statements for the queries run with server-side parameters
        # (search's fixed SQL, appointments.selectors.search_sql; the ORM's own queries bind
        # on the client and are never prepared): prepared after this many runs of one text on
        # a connection. Set it to "" behind a PgBouncer older than 1.21 in transaction mode
        # (1.21+ needs max_prepared_statements), which cannot keep them.
        threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(threshold) if threshold else None
else:
    # Three processes (web, worker, beat) share one file: WAL lets readers run beside the
    # writer, IMMEDIATE takes the write lock at BEGIN so two writers queue on the busy timeout
    # instead of failing with "database is locked" halfway through a transaction.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery -----------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis, or this process's memory while Redis is unreachable (portal/cache.py).
            "BACKEND": "portal.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            "TIMEOUT": 300,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's asyncio pool stops at 100 connections and then refuses instead of
                # waiting: 400 consult sockets joining at once hit it (bench/ws_relay.py).
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                        # redis-py 8 reads with a 5 s socket timeout by default, exactly as long
                        # as channels-redis's blocking BZPOPMIN: a socket with nothing to
                        # receive for 5 s died with "Timeout reading from Redis" (close 1011;
                        # django/channels_redis#422). Longer than the 5 s block, still bounded.
                        "socket_timeout": 15,
                    }
                ],
                "prefix": "portal:asgi",
                # Every socket of one ASGI process receives through ONE Redis key (channels-redis
                # names them `specific.<process>!<socket>`), and `capacity` (default 100) bounds
                # that key: with 200 consults on one process more than 100 frames can wait at
                # once, and then group_send drops frames and send() raises ChannelFull (close
                # 1011). The bound is per process: sized for a process's sockets, not one's.
                "channel_capacity": {
                    "specific.*": env.int("CHANNEL_LAYER_PROCESS_CAPACITY", default=5000)
                },
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # A task taken by a worker that died (acks_late) goes back to the queue after this long;
    # longer than CELERY_TASK_TIME_LIMIT, so a running task is never handed out twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 900}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Cannot carry a push from the worker to the web process: live figures poll here.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message for another
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
# Beat tasks (DESIGN.md §4) join here as the apps that own them land.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "generate-upcoming-slots": {
        "task": "appointments.tasks.generate_upcoming_slots",
        "schedule": crontab(hour=1, minute=0),  # 01:00 Asia/Shanghai (CELERY_TIMEZONE)
    },
    # An abandoned confirmation page keeps its place only until the hold runs out.
    "release-expired-holds": {
        "task": "appointments.tasks.release_expired_holds",
        "schedule": 60.0,
    },
    # Reminders before each appointment (REMINDER_OFFSETS_HOURS), claimed in batches.
    "send-due-reminders": {
        "task": "appointments.tasks.send_due_reminders",
        "schedule": 60.0,
    },
    # Search's next free period per doctor, recomputed when time makes it stale.
    "refresh-next-free-periods": {
        "task": "appointments.tasks.refresh_next_free_periods",
        "schedule": 20.0,
    },
    # Booked in-person appointments nobody checked in by the end of the slot + grace.
    "mark-no-shows": {
        "task": "appointments.tasks.mark_no_shows",
        "schedule": 300.0,
    },
    # The outbox (notifications/): whatever is due and was not sent on commit goes now.
    "deliver-outbox": {
        "task": "notifications.tasks.deliver_outbox",
        "schedule": 30.0,
    },
    # Consult rooms nobody ended close on their own; the no-show rules decide the outcome.
    "expire-unfinished-consults": {
        "task": "telemedicine.tasks.expire_unfinished_consults",
        "schedule": 300.0,
    },
    # Text consults past their time close on their own (telemedicine.services_text).
    "close-due-text-consults": {
        "task": "telemedicine.tasks.close_due_text_consults",
        "schedule": 300.0,
    },
    # Family-doctor follow-ups due soon: the family is reminded once (issue 20).
    "remind-due-followups": {
        "task": "appointments.familydoctors.tasks.remind_due_followups",
        "schedule": crontab(minute=15),
    },
    # "Your consult room is open" (telemedicine.opening), once per room, when it opens.
    "tell-opening-consults": {
        "task": "telemedicine.tasks.tell_opening_consults",
        "schedule": 60.0,
    },
    # Issued referrals past their validity expire (records.services.referrals.expire_referrals).
    "expire-referrals": {
        "task": "records.tasks.expire_referrals",
        "schedule": crontab(minute=5),
    },
}
# Hours before an appointment that a reminder goes out; when several are due at once, only the
# latest is sent.
REMINDER_OFFSETS_HOURS = env.list("REMINDER_OFFSETS_HOURS", cast=int, default=[24, 2])
# After a commit that wrote outbox rows, enqueue a drain at once (the beat is the safety net).
OUTBOX_DRAIN_ON_COMMIT = env.bool("OUTBOX_DRAIN_ON_COMMIT", default=True)
# ... at most once a second per process (and once more at the end of that second): a drain
# delivers every due row, and a release rush commits hundreds of bookings a second.
OUTBOX_DRAIN_COALESCE_SECONDS = env.float("OUTBOX_DRAIN_COALESCE_SECONDS", default=1.0)
# The worker rewrites this file every WORKER_LIVENESS_INTERVAL seconds while it consumes
# (portal/liveness.py); `manage.py supervise_worker` and `manage.py worker_alive` read it.
WORKER_LIVENESS_FILE = env.str(
    "WORKER_LIVENESS_FILE", default=str(VAR_DIR / "celery" / "worker-alive")
)
WORKER_LIVENESS_INTERVAL = env.float("WORKER_LIVENESS_INTERVAL", default=5.0)

# --- E-mail and SMS -------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cloud Hospital <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The portal's public host name: the right-hand side of calendar UIDs (RFC 5545 §3.8.4.7), so
# an appointment keeps one UID in every calendar it reaches.
SITE_DOMAIN = env.str("SITE_DOMAIN", default="localhost")
# Where links in e-mails, SMS, calendar files and the inbox point (no trailing slash). In
# development it is the server `make run` started (the Makefile passes http://127.0.0.1:$PORT);
# a deployment serves https://SITE_DOMAIN unless told otherwise.
SITE_URL = env.str(
    "SITE_URL", default="http://127.0.0.1:8000" if DEBUG else f"https://{SITE_DOMAIN}"
).rstrip("/")

# Dotted path of the SMS backend; the console one writes to the log with the number masked.
SMS_BACKEND = env.str("SMS_BACKEND", default="notifications.sms.ConsoleBackend")
# A provider's approved templates: "code" has ${code}, "notice" ${content} (docs/operations.md).
SMS_TEMPLATES = {n: env.str(f"SMS_TEMPLATE_{n.upper()}", default="") for n in ("code", "notice")}
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=5.0)
SMS_ALIYUN_ACCESS_KEY_ID = env.str("SMS_ALIYUN_ACCESS_KEY_ID", default="")
SMS_ALIYUN_ACCESS_KEY_SECRET = env.str("SMS_ALIYUN_ACCESS_KEY_SECRET", default="")
SMS_ALIYUN_SIGN_NAME = env.str("SMS_ALIYUN_SIGN_NAME", default="")
# The signature the provider puts before every text (【name】); it counts towards one SMS's 70
# characters, so the texts keep to what it leaves (notifications.render.sms_limit).
SMS_SIGNATURE = env.str("SMS_SIGNATURE", default=SMS_ALIYUN_SIGN_NAME)
SMS_ALIYUN_ENDPOINT = env.str("SMS_ALIYUN_ENDPOINT", default="https://dysmsapi.aliyuncs.com/")
SMS_ALIYUN_REGION = env.str("SMS_ALIYUN_REGION", default="cn-hangzhou")

# --- Accounts -------------------------------------------------------------------------------
from portal.settings_accounts import *  # noqa: E402, F403 (users, allauth, MFA, sessions)

ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Booking --------------------------------------------------------------------------------
# How long the confirmation page keeps a place (appointments.services.holds.hold_create).
BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=5)
# Holds one account, and one client address, may ask for in a minute (hold_limits.py).
HOLD_RATE_PER_MINUTE = env.int("HOLD_RATE_PER_MINUTE", default=10)
# bench/http_rush.py's baseline: a no-op GET-form/POST-redirect pair at /bench/noop/. Only the
# bench turns it on; with it off (always, outside the bench) the path is not routed at all.
BENCH_NOOP_PAGES = env.bool("BENCH_NOOP_PAGES", default=False)

# --- Clinical record -------------------------------------------------------------------------
# A referral issued from an encounter may be booked for this many days.
REFERRAL_VALID_DAYS = env.int("REFERRAL_VALID_DAYS", default=30)

# --- Consults (telemedicine) ----------------------------------------------------------------
# The room opens this long before the slot, and closes on its own this long after the slot's
# end when the doctor did not end it.
CONSULT_OPENS_MINUTES_BEFORE = env.int("CONSULT_OPENS_MINUTES_BEFORE", default=15)
CONSULT_AUTO_CLOSE_MINUTES_AFTER = env.int("CONSULT_AUTO_CLOSE_MINUTES_AFTER", default=30)
# How often an open socket (consult, desk display, inbox) checks that its sign-in still holds
# (closed with 4401 after a logout, password change, deactivation or timeout) and, while in
# use, keeps it active (portal/socket_sign_in.py).
SOCKET_SESSION_CHECK_SECONDS = env.float("SOCKET_SESSION_CHECK_SECONDS", default=30.0)
# ICE servers for the browsers (comma-separated URLs). TURN uses coturn's REST credentials
# (`use-auth-secret` with `static-auth-secret` = TURN_SHARED_SECRET).
STUN_URLS = env.list("STUN_URLS", default=[])
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SHARED_SECRET = env.str("TURN_SHARED_SECRET", default="")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Attachments in a person's record (records/attachments.py): PDF, JPEG or PNG up to this size.
RECORDS_ATTACHMENT_MAX_BYTES = env.int("RECORDS_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (quiet under `check --deploy`) ------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe /healthz over plain HTTP on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/live)?$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if TRUSTED_PROXY_COUNT:
        # Only behind our own proxy, which sets this header and strips the client's copy.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [
        # HSTS preload is a one-way commitment of the whole domain; the operator opts in
        # with SECURE_HSTS_PRELOAD=true once every subdomain serves HTTPS.
        "security.W021",
    ]

# Content-Security-Policy (django-csp 4): nothing inline and nothing from another origin, for
# scripts and styles alike. Templates pass data through data-* attributes and json_script;
# behaviour lives in static files. ('self' covers the consult's same-origin WebSocket.)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "media-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django gives its logger a console handler of its own; ours at the root is enough.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}
