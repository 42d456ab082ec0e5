"""Production is configured by environment variables only, and starts safe or not at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.internal:587",
    "SECRET_KEY": "k3y-" + "p" * 60,
    "ALLOWED_HOSTS": "portal.example.cn",
    "TRUSTED_PROXY_COUNT": "1",
    "RECORDS_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "RECORDS_HASH_KEY": "h4sh-" + "q" * 60,
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The deployment sees only its own variables, not the test process's (browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    inherited = {"PATH", "HOME", "LANG", "VIRTUAL_ENV", "PYTHONPATH"}
    clean = {k: v for k, v in os.environ.items() if k in inherited}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_with_production_variables_is_clean():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_without_secret_key_refuses_to_start_with_a_clear_message():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize("variable", ["RECORDS_ENCRYPTION_KEYS", "RECORDS_HASH_KEY"])
def test_production_without_id_number_keys_refuses_to_start_with_a_clear_message(variable):
    env = {**PRODUCTION_ENV, variable: ""}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "RECORDS_ENCRYPTION_KEYS and RECORDS_HASH_KEY must both be set" in result.stderr


def test_production_with_a_malformed_encryption_key_refuses_to_start():
    env = {**PRODUCTION_ENV, "RECORDS_ENCRYPTION_KEYS": "not-a-fernet-key"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "not a Fernet key" in result.stderr


def test_embedded_default_needs_no_environment_at_all():
    result = _manage("check", env={"DJANGO_SETTINGS_MODULE": "portal.settings"})

    assert result.returncode == 0, result.stderr


def test_ci_runs_the_suite_on_postgresql():
    if not IN_CI:
        pytest.skip("only CI promises PostgreSQL; locally the embedded SQLite is fine")
    assert connection.vendor == "postgresql"
