"""The machinery of bench/http_rush.py that knows nothing of the portal's models: the servers
it starts (gunicorn with uvicorn workers, a private redis-server), the load tool (a lean asyncio
HTTP/1.1 client, one kept-alive connection and session per client) and the py-spy profiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from db_watch import statements_report, statements_reset


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The servers -------------------------------------------------------------------------


class Servers:
    def __init__(
        self, *, root: Path, var: Path, database_url: str, workers: int, pool: int, threads: int
    ):
        self.root = root
        # `threads`: gunicorn's threaded WSGI workers instead (an experiment: HTTP only).
        self.app = (
            ["--worker-class", "gthread", "--threads", str(threads), "portal.wsgi:application"]
            if threads
            else ["portal.asgi:application"]
        )
        self.var = var
        self.database_url = database_url
        self.redis_port = free_port()
        self.port = free_port()
        self.workers = workers
        self.pool = pool
        self.redis = None
        self.web = None

    def start(self) -> None:
        self.redis = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        self.ready_dir = self.var / "ready"
        shutil.rmtree(self.ready_dir, ignore_errors=True)
        self.ready_dir.mkdir(parents=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "DATABASE_POOL_MIN": "2",
            "DATABASE_POOL_MAX": str(self.pool),
            # 500 clients queue for a worker's connections; waiting is not failing.
            "DATABASE_POOL_TIMEOUT": "60",
            "BENCH_NOOP_PAGES": "true",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "WEB_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(self.workers),
            "WEB_BACKLOG": "4096",
            # Longer than any idle gap of a client between its page and its POSTs (the other
            # clients' pages, the release), like a proxy's keep-alive; the default 5 s raced
            # with the clients' first POSTs (a reset connection is an error here).
            "WEB_KEEPALIVE": "75",
            "LOG_LEVEL": "WARNING",
            "WEB_READY_DIR": str(self.ready_dir),
        }
        self.var.mkdir(parents=True, exist_ok=True)
        self.log = open(self.var / "http_rush_server.log", "w")  # noqa: SIM115
        self.web = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                *("--config", str(self.root / "bench" / "gunicorn_ready.py")),
                *self.app,
            ],
            cwd=self.root,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Every worker has loaded the app (bench/gunicorn_ready.py), not merely the socket open.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            ready = {int(path.name) for path in self.ready_dir.iterdir()}
            if len(ready & set(self.worker_pids())) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start: see var/bench/http_rush_server.log")

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the gunicorn master and its workers so far."""
        return sum(_cpu_of(pid)[1] for pid in [self.web.pid, *self.worker_pids()])

    def worker_cpu(self) -> dict[int, float]:
        """User + system CPU so far of each web worker, by pid."""
        return {pid: _cpu_of(pid)[1] for pid in self.worker_pids()}

    def cpu_snapshot(self) -> dict[str, float]:
        """User + system CPU so far of everything that serves a request on this machine: the
        web (gunicorn's processes), every PostgreSQL process (nothing else uses the database
        server during a run) and the bench's private Redis."""
        totals = {"servers": self.cpu_seconds(), "database": 0.0, "redis": 0.0}
        redis_pid = self.redis.pid if self.redis is not None else None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            name, seconds = _cpu_of(int(entry.name))
            if name == "postgres":
                totals["database"] += seconds
            elif int(entry.name) == redis_pid:
                totals["redis"] += seconds
        return totals

    def clients_per_worker(self) -> list[int]:
        """How many open client connections each web worker holds (from `ss`), most first. A
        kept-alive connection stays with the worker that accepted it."""
        listing = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        counts = dict.fromkeys(self.worker_pids(), 0)
        for pid in re.findall(r"pid=(\d+)", listing):
            if int(pid) in counts:
                counts[int(pid)] += 1
        return sorted(counts.values(), reverse=True)

    def stop(self) -> None:
        if self.web is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.web.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.web.wait(timeout=30)
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)


def cores_per_worker(before: dict[int, float], after: dict[int, float], wall: float) -> list:
    """Each web worker's cores over `wall` seconds (from two `worker_cpu` readings), most first."""
    return sorted((round((after[p] - before.get(p, 0.0)) / wall, 2) for p in after), reverse=True)


def _cpu_of(pid: int) -> tuple[str, float]:
    """(command name, user + system CPU seconds so far) of a process, from /proc; ("", 0.0)
    once it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "", 0.0
    head, _, rest = stat.rpartition(")")
    fields = rest.split()
    return head.partition("(")[2], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- The load tool: one kept-alive connection per client -----------------------------------

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
COOKIE = re.compile(rb"csrftoken=([^;\s]+)", re.IGNORECASE)
# A refusal re-renders the page with its sentence: the waiting-list offer's alert, or the
# form's error list for the other rules.
REFUSED = (b'role="alert"', b'class="errorlist')


class Client:
    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.token = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _send(self, raw: bytes) -> tuple[int, bytes, bytes]:
        if self.reader is not None and self.reader.at_eof():
            # The server closed the kept-alive connection while it sat idle (its keep-alive
            # timeout, e.g. while the other clients opened their pages): a new one, as
            # browsers and HTTP libraries do, rather than a request written into a dead socket.
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"content-length:")
        if at >= 0:
            length = int(lower[at + 15 : lower.find(b"\r\n", at)])
            body = await self.reader.readexactly(length)
        elif b"transfer-encoding: chunked" in lower:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                parts.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(parts)
        else:
            body = b""
        return status, head, body

    async def get(self, path: str) -> int:
        raw = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            "Accept-Language: en\r\n\r\n"
        ).encode()
        status, head, body = await self._send(raw)
        found = TOKEN.search(body)
        cookie = COOKIE.search(head)
        if status != 200 or found is None or cookie is None:
            raise RuntimeError(f"GET {path}: {status}, no form")
        self.token = found.group(1).decode()
        self.cookie = f"{self.cookie.split(';')[0]}; csrftoken={cookie.group(1).decode()}"
        return status

    async def post(self, path: str, fields: dict) -> tuple[int, bool]:
        body = urlencode({"csrfmiddlewaretoken": self.token, **fields}).encode()
        raw = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {self.cookie}\r\n"
            "Accept-Language: en\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        status, _head, answer = await self._send(raw)
        return status, any(marker in answer for marker in REFUSED)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        self.reader = None


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p99_ms": None}
    values = sorted(values)
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p99_ms": round(values[min(len(values) - 1, int(len(values) * 0.99))] * 1000, 1),
    }


class Tally:
    def __init__(self) -> None:
        self.booked: list[float] = []
        self.booked_sent: list[float] = []
        self.refused: list[float] = []
        self.refused_sent: list[float] = []  # when each refusal was sent (perf_counter)
        self.errors = 0
        self.error_samples: list[str] = []

    def outcome(self, began: float, status: int | None, refused: bool, error: str = "") -> None:
        took = time.perf_counter() - began
        if status == 302:
            self.booked.append(took)
            self.booked_sent.append(began)
        elif status == 200 and refused:
            self.refused.append(took)
            self.refused_sent.append(began)
        else:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(error or f"status {status}")

    def _refused_first_second(self) -> dict:
        """The refusals sent in the first second after the earliest one, where a rush's
        queue is (the places being taken), and their latency: is the tail there or spread?"""
        if not self.refused_sent:
            return {"refusals": 0, **percentiles([])}
        first = min(self.refused_sent + self.booked_sent)
        early = [
            took
            for sent, took in zip(self.refused_sent, self.refused, strict=True)
            if sent - first < 1.0
        ]
        return {"refusals": len(early), **percentiles(early)}

    def report(self, seconds: float) -> dict:
        posts = len(self.booked) + len(self.refused) + self.errors
        return {
            "posts": posts,
            "seconds": round(seconds, 3),
            "posts_per_second": round(posts / seconds, 1),
            "bookings": len(self.booked),
            "bookings_per_second": round(len(self.booked) / seconds, 1),
            "refusals": len(self.refused),
            "refusals_per_second": round(len(self.refused) / seconds, 1),
            "booked": percentiles(self.booked),
            "refused": percentiles(self.refused),
            "refused_sent_in_first_second": self._refused_first_second(),
            "all": percentiles(self.booked + self.refused),
            "errors": self.errors,
            "error_samples": self.error_samples,
        }


async def open_pages(clients: list[Client], paths: list[str], servers: Servers) -> dict:
    """Every client opens its page (before the release); the GETs timed on their own, and how
    the clients' connections then fall on the workers."""
    times: list[float] = []
    errors = 0

    async def one(client: Client, path: str) -> None:
        nonlocal errors
        began = time.perf_counter()
        try:
            await client.get(path)
            times.append(time.perf_counter() - began)
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            errors += 1
            client.close()

    began = time.perf_counter()
    await asyncio.gather(*(one(c, p) for c, p in zip(clients, paths, strict=True)))
    seconds = time.perf_counter() - began
    return {
        "gets": len(times),
        "gets_per_second": round(len(times) / seconds, 1),
        **percentiles(times),
        "errors": errors,
        "clients_per_worker": servers.clients_per_worker(),
    }


async def closed_loop(clients: list[Client], work: list[list[tuple[str, dict]]]) -> Tally:
    tally = Tally()

    async def run(client: Client, items: list[tuple[str, dict]]) -> None:
        for path, fields in items:
            began = time.perf_counter()
            try:
                status, refused = await client.post(path, fields)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                tally.outcome(began, None, False, repr(error))
                client.close()
                continue
            tally.outcome(began, status, refused)

    await asyncio.gather(*(run(c, w) for c, w in zip(clients, work, strict=True)))
    return tally


async def open_loop(
    clients: list[Client], items: list[tuple[int, str, dict]], rate: float
) -> tuple[Tally, int]:
    """items: (client index, path, fields), sent at `rate` a second from now. A request whose
    client is still busy waits for it; its latency counts from its planned time."""
    tally = Tally()
    locks = [asyncio.Lock() for _ in clients]
    late = 0
    start = time.perf_counter()

    async def send(planned: float, index: int, path: str, fields: dict) -> None:
        async with locks[index]:
            try:
                status, refused = await clients[index].post(path, fields)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                tally.outcome(planned, None, False, repr(error))
                clients[index].close()
                return
            tally.outcome(planned, status, refused)

    tasks = []
    for number, (index, path, fields) in enumerate(items):
        planned = start + number / rate
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.05:
            late += 1
        tasks.append(asyncio.ensure_future(send(planned, index, path, fields)))
    await asyncio.gather(*tasks)
    return tally, late


def start_profiles(servers: Servers) -> list:
    """py-spy on every web worker, writing collapsed stacks until `finish_profiles`, and the
    database's statements counted from now (bench/db_watch.py)."""
    statements_reset(servers.database_url)
    spies = []
    spy = Path(sys.executable).parent / "py-spy"
    for pid in servers.worker_pids():
        out = servers.var / f"http_rush_profile_{pid}.txt"
        spies.append(
            (
                subprocess.Popen(
                    [
                        *(str(spy), "record", "--pid", str(pid), "--format", "raw"),
                        # Only samples holding the GIL: where the worker's CPU went.
                        *("--output", str(out), "--rate", "200", "--nonblocking", "--gil"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                out,
            )
        )
    return spies


def finish_profiles(spies: list, servers: Servers) -> dict:
    """Stop py-spy and sum the collapsed stacks: the frames most often on the CPU, by self
    time and by inclusive time, over every worker; and the database's statements by time."""
    for process, _out in spies:
        process.send_signal(signal.SIGINT)
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    samples = 0
    for process, out in spies:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if not out.exists():
            continue
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            frames = stack.split(";")
            samples += count
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count

    def top(table: dict, n: int) -> list:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:n]
        return [[frame, round(100 * count / max(samples, 1), 1)] for frame, count in ranked]

    return {
        "samples": samples,
        "files": [str(out) for _p, out in spies],
        "top_self_percent": top(own, 25),
        "top_inclusive_percent": top(inclusive, 40),
        "database_statements": statements_report(servers.database_url),
    }
