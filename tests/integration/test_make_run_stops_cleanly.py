"""`make run`'s Procfile under honcho, as a newcomer runs it: the web server listens on the port
given as PORT, and Ctrl-C (SIGINT to honcho) stops the web server and the supervised worker
before honcho's kill timer: no SIGKILL lines, no worker left behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.integration.workers import ROOT, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("integration")]

HONCHO = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "honcho")
WAIT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) == 0


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_ctrl_c_stops_web_and_worker_without_kill_spam_or_an_orphan(redis_server, tmp_path):
    port = free_port()
    env = worker_env(redis_server.url)
    env.update(PORT=str(port), WORKER_LIVENESS_FILE=str(tmp_path / "alive"))
    env["PATH"] = f"{Path(HONCHO).parent}:{env['PATH']}"
    honcho = subprocess.Popen(
        [HONCHO, "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(honcho.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (listening(port) and any("ready." in line for line in lines)):
            assert honcho.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "web or worker never started:\n" + "".join(lines)
            time.sleep(0.5)
        [worker] = [
            int(found.group(1))
            for line in lines
            if (found := re.search(r"started worker (\d+)", line))
        ]

        honcho.send_signal(signal.SIGINT)  # what Ctrl-C sends to the foreground process
        honcho.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)

    output = "".join(lines)
    assert "SIGKILL" not in output, output
    assert gone(worker), output
    assert not listening(port)
