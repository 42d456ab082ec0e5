"""Run the suite with the clock moved, to find tests that pass only at some hours:

    TEST_CLOCK=2026-12-31T23:56:30 .venv/bin/python -m pytest -p tests.moved_clock -n 2 \
        --dist loadgroup --ignore=tests/e2e --ignore=tests/integration

Every test starts at TEST_CLOCK (Shanghai time) and the clock runs from there. Two kinds of
failure are this plugin's own, not the test's: the permission matrix's world is built once per
module, before a test moves the clock (tests/security/test_matrix.py), and the worker's
heartbeat is a file whose age the kernel measures (tests/portal/test_worker_liveness.py)."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
import time_machine

# Read once, when the plugin loads: without TEST_CLOCK the run stops here, not at every test.
MOMENT = dt.datetime.fromisoformat(os.environ["TEST_CLOCK"]).replace(
    tzinfo=ZoneInfo("Asia/Shanghai")
)


@pytest.fixture(autouse=True)
def _moved_clock():
    with time_machine.travel(MOMENT, tick=True):
        yield
