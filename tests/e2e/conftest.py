"""Browser tests: Debian's Chromium driven by Playwright; nothing downloads a browser."""

from __future__ import annotations

import os
import shutil

import pytest
from channels.testing import ChannelsLiveServerTestCase
from daphne.testing import DaphneProcess
from django.db import connections

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no internet: without these Chromium keeps dialling Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ForkSafeDaphneProcess(DaphneProcess):
    """Channels' live server is a forked process. A pooled PostgreSQL connection open here at
    the fork would be shared by both processes, each reading the other's answers (seen as
    "TableInfo.__new__() takes 4 positional arguments but 12 were given" in a flush). Close
    every connection and pool first; each process opens its own afterwards.

    Channels' `setup` (set_database_connection) is dropped: it prefixes the database name once
    more ("test_test_portal"), while the forked child already holds the test database's name.
    """

    def __init__(self, host, get_application, kwargs=None, setup=None, teardown=None, port=None):
        super().__init__(host, get_application, kwargs=kwargs, teardown=teardown, port=port)

    def start(self) -> None:
        for connection in connections.all(initialized_only=True):
            if connection.in_atomic_block:
                continue
            connection.close()
            if connection.vendor == "postgresql":
                connection.close_pool()
        super().start()


ChannelsLiveServerTestCase.ProtocolServerProcess = ForkSafeDaphneProcess


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in this thread; Django's ORM must still work.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def htmx_at_rest(page) -> None:
    """Wait (bounded) until no htmx request, swap or settle is under way. Polled from here:
    Playwright's wait_for_function evaluates a string in the page, which the policy refuses."""
    busy = "!!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    for _ in range(150):
        if not page.evaluate(busy):
            return
        page.wait_for_timeout(100)
    raise AssertionError("htmx still busy after 15 s")
