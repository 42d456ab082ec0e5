from __future__ import annotations

import pytest

from tests.integration.workers import RedisServer


@pytest.fixture
def redis_server(tmp_path):
    """A private, persistent redis-server on a port of its own; restartable."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
