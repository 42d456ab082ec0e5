"""How fast the consult socket relays signalling through channels-redis, and what a socket costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_consults \
        .venv/bin/python bench/ws_relay.py [--rooms 1 50 200] [--rounds 30] [--idle 1000]

Starts a PRIVATE redis-server on a free port (never the shared one) and ONE daphne process of
portal.asgi with channels-redis; works in a scratch database (`test_<name>`, created, migrated
and dropped; without DATABASE_URL a scratch SQLite file under var/). For each room count N,
N rooms of two clients (doctor and patient, admitted) run `--rounds` rounds at once: the doctor
sends a 3 KB offer, the patient relays a 3 KB answer back, the doctor receives it; the round
trip A → B → A is timed (p50/p99). Then, for each `--trio-rooms` count, rooms of three (a
remote consultation: specialist, GP, patient at home) run a mesh round: the specialist sends an
offer addressed (`to`) to each of the two others, both answer it; the round is timed until the
specialist has both answers, and no frame may reach anyone but its addressee. In the same
run, N pairs of raw Redis PUBLISH/SUBSCRIBE clients bounce the same payload A → B → A
(p50/p99), and the ratio relay/raw is reported.
Relayed frames sent and received are counted (they must be equal). Finally `--idle` sockets
are opened (signed in, not joined), and the server's resident memory growth per idle socket is
reported. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchenv import ROOT, prepare_environment

prepare_environment()

REDIS_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1"]
PAYLOAD = "v=0 " + "a" * (3 * 1024 - 4)  # a 3 KB SDP-sized string


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"process on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


REDIS_PORT = free_port()
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ["REDIS_URL"] = REDIS_URL  # the portal's channel layer: channels-redis, private

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 3),
        "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        "samples": len(values),
    }


def make_rooms(count: int) -> list[tuple[str, str, str]]:
    """(room id, patient session key, doctor session key) for `count` open rooms."""
    from tests.sockets import session_key_for
    from tests.telemedicine.conftest import open_room

    # The rooms' accounts never sign in with a password (their sessions are written here), so
    # hashing one with the production hasher (about a second of CPU each) measures nothing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    rooms = []
    for _ in range(count):
        appointment, patient, doctor = open_room()
        public_id = str(appointment.consultation.public_id)
        rooms.append((public_id, session_key_for(patient), session_key_for(doctor)))
    return rooms


def make_trios(count: int) -> list[tuple[str, str, str, str]]:
    """(room id, specialist, GP and patient session keys) for `count` remote consultations
    (issue 15) whose rooms are open, the patient invited to join from home."""
    from tests.sockets import session_key_for
    from tests.telemedicine.remote import remote_consultation

    trios = []
    for _ in range(count):
        consultation, _visit, family, gp, specialist = remote_consultation()
        trios.append(
            (
                str(consultation.public_id),
                session_key_for(specialist),
                session_key_for(gp),
                session_key_for(family),
            )
        )
    return trios


class Client:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.received = 0

    @classmethod
    async def open(cls, port: int, room: str, key: str) -> Client:
        from websockets.asyncio.client import connect

        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/consult/{room}/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"sessionid={key}"},
            open_timeout=60,
            max_size=2**20,
        )
        return cls(ws)

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def until(self, kind: str) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if frame["type"] == "error":
                raise RuntimeError(frame)
            if frame["type"] == kind:
                if kind in ("offer", "answer"):
                    self.received += 1
                return frame


async def relay_run(port: int, rooms: list, rounds: int) -> dict:
    pairs = []
    for room, patient_key, doctor_key in rooms:
        patient = await Client.open(port, room, patient_key)
        doctor = await Client.open(port, room, doctor_key)
        pairs.append((doctor, patient))
    for doctor, patient in pairs:
        await patient.send({"type": "join"})
        await patient.until("presence")
        await doctor.send({"type": "join"})
        await doctor.until("presence")
        await doctor.send({"type": "admit"})
        await doctor.until("admitted")
        await patient.until("admitted")
    times: list[float] = []
    sent = 0

    async def room_rounds(doctor: Client, patient: Client) -> None:
        nonlocal sent
        for _ in range(rounds):
            started = time.perf_counter()
            await doctor.send({"type": "offer", "sdp": PAYLOAD})
            sent += 1
            await patient.until("offer")
            await patient.send({"type": "answer", "sdp": PAYLOAD})
            sent += 1
            await doctor.until("answer")
            times.append(time.perf_counter() - started)

    wall = time.perf_counter()
    await asyncio.gather(*(room_rounds(d, p) for d, p in pairs))
    wall = time.perf_counter() - wall
    received = sum(d.received + p.received for d, p in pairs)
    for doctor, patient in pairs:
        await doctor.ws.close()
        await patient.ws.close()
    return {
        **summary(times),
        "relayed_sent": sent,
        "relayed_received": received,
        "round_trips_per_s": round(len(times) / wall, 1),
    }


async def _presence_of_three(client: Client) -> str:
    """The client's own participant id, once the room's presence names all three."""
    while True:
        presence = await client.until("presence")
        if len(presence.get("peers", [])) == 3:
            return presence["you"]


async def trio_run(port: int, trios: list, rounds: int) -> dict:
    """Rooms of three (a remote consultation's mesh): each round the specialist sends an offer
    to the GP and one to the patient, each addressed with `to`; both answer the specialist
    with `to`; the round ends when the specialist has both answers. A frame reaching anyone
    but its addressee would be counted as received and break sent == received."""
    rooms = []
    for room, specialist_key, gp_key, patient_key in trios:
        clients = [
            await Client.open(port, room, key) for key in (specialist_key, gp_key, patient_key)
        ]
        for client in clients:
            await client.send({"type": "join"})
            await client.until("presence")
        ids = [await _presence_of_three(client) for client in clients]
        await clients[0].send({"type": "admit"})
        for client in clients:
            await client.until("admitted")
        rooms.append((clients, ids))
    times: list[float] = []
    sent = 0

    async def room_rounds(clients: list[Client], ids: list[str]) -> None:
        nonlocal sent
        specialist, gp, patient = clients

        async def answer(peer: Client) -> None:
            nonlocal sent
            await peer.until("offer")
            await peer.send({"type": "answer", "sdp": PAYLOAD, "to": ids[0]})
            sent += 1

        for _ in range(rounds):
            started = time.perf_counter()
            for peer_id in ids[1:]:
                await specialist.send({"type": "offer", "sdp": PAYLOAD, "to": peer_id})
                sent += 1
            await asyncio.gather(answer(gp), answer(patient))
            await specialist.until("answer")
            await specialist.until("answer")
            times.append(time.perf_counter() - started)

    wall = time.perf_counter()
    await asyncio.gather(*(room_rounds(clients, ids) for clients, ids in rooms))
    wall = time.perf_counter() - wall
    # Anything addressed to somebody else would still be waiting in a socket: collect it.
    strays = 0
    for clients, _ids in rooms:
        for client in clients:
            with contextlib.suppress(TimeoutError):
                while True:
                    frame = json.loads(await asyncio.wait_for(client.ws.recv(), 0.05))
                    strays += frame["type"] in ("offer", "answer")
    received = sum(client.received for clients, _ids in rooms for client in clients)
    for clients, _ids in rooms:
        for client in clients:
            await client.ws.close()
    return {
        **summary(times),
        "relayed_sent": sent,
        "relayed_received": received + strays,
        "misaddressed": strays,
        "mesh_rounds_per_s": round(len(times) / wall, 1),
    }


async def raw_redis_run(pairs: int, rounds: int) -> dict:
    import redis.asyncio as redis

    times: list[float] = []

    async def pair(n: int) -> None:
        # As patient as the relay's clients (60 s): redis-py 8's 5 s connect timeout failed
        # 800 connections opened at once on a busy 2-core machine.
        a, b = (
            redis.from_url(REDIS_URL, socket_connect_timeout=60, socket_timeout=60)
            for _side in "ab"
        )
        a_sub, b_sub = a.pubsub(), b.pubsub()
        to_b, to_a = f"bench:{n}:to-b", f"bench:{n}:to-a"
        await a_sub.subscribe(to_a)
        await b_sub.subscribe(to_b)

        async def next_message(sub):
            while True:
                message = await sub.get_message(ignore_subscribe_messages=True, timeout=60)
                if message is not None:
                    return message["data"]

        for _ in range(rounds):
            started = time.perf_counter()
            await a.publish(to_b, PAYLOAD)
            data = await next_message(b_sub)
            await b.publish(to_a, data)
            await next_message(a_sub)
            times.append(time.perf_counter() - started)
        for client, sub in ((a, a_sub), (b, b_sub)):
            await sub.aclose()
            await client.aclose()

    await asyncio.gather(*(pair(n) for n in range(pairs)))
    return summary(times)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def idle_run(port: int, pid: int, rooms: list, count: int) -> dict:
    await asyncio.sleep(1)
    before = rss_kib(pid)
    clients = []
    for n in range(count):
        room, patient_key, doctor_key = rooms[n % len(rooms)]
        # Open and signed in (the room checked), not joined: joining fans presence out to
        # every socket of the room, which is the relay's cost, not an idle socket's.
        client = await Client.open(port, room, doctor_key if n % 2 else patient_key)
        clients.append(client)
    await asyncio.sleep(2)
    after = rss_kib(pid)
    for client in clients:
        await client.ws.close()
    return {
        "sockets": count,
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": round(after / 1024, 1),
        "kib_per_idle_socket": round((after - before) / count, 1),
    }


def main() -> None:
    # `kill` (SIGTERM) ends the run through the `finally` below: daphne, Redis and the scratch
    # database go with it.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument(
        "--trio-rooms",
        type=int,
        nargs="*",
        default=[1, 50],
        help="room counts of the rooms-of-three run (remote consultations); none: skip it",
    )
    # The specialist sends two frames a round, and a socket may send 20 a second after a burst
    # of 60 (CONSULT_WS_RATE): more rounds than 30 at full speed would measure the rate limit.
    parser.add_argument("--trio-rounds", type=int, default=30)
    parser.add_argument("--server-log", help="write the daphne process's log to this file")
    arguments = parser.parse_args()
    server_log = open(arguments.server_log, "w") if arguments.server_log else subprocess.DEVNULL  # noqa: SIM115
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("redis-server is not installed")
    if connection.vendor == "sqlite":
        test_file = ROOT / "var" / f"bench-ws-{uuid.uuid4().hex[:8]}.sqlite3"
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(test_file)
    redis_process = subprocess.Popen(
        [redis_server, "--port", str(REDIS_PORT), *REDIS_ARGS],
        stdout=subprocess.DEVNULL,
    )
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    daphne = None
    try:
        wait_for_port(REDIS_PORT, redis_process)
        rooms = make_rooms(max(arguments.rooms))
        trios = make_trios(max(arguments.trio_rooms)) if arguments.trio_rooms else []
        db = connection.settings_dict
        if connection.vendor == "sqlite":
            database_url = f"sqlite:///{db['NAME']}"
        else:
            database_url = (
                f"postgres://{db['USER']}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
                f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
            )
        connection.close()
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
        env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        daphne = subprocess.Popen(
            [*DAPHNE, "-p", str(port), "portal.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        wait_for_port(port, daphne)
        results: dict = {
            "asgi_processes": 1,
            "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
            "payload_bytes": len(PAYLOAD),
            "rounds_per_room": arguments.rounds,
            "runs": [],
        }
        for count in arguments.rooms:
            relay = asyncio.run(relay_run(port, rooms[:count], arguments.rounds))
            print(json.dumps({"rooms": count, "relay": relay}), file=sys.stderr, flush=True)
            raw = asyncio.run(raw_redis_run(count, arguments.rounds))
            results["runs"].append(
                run := {
                    "rooms": count,
                    "clients": 2 * count,
                    "relay": relay,
                    "raw_redis_pubsub": raw,
                    "ratio_p50": round(relay["p50_ms"] / raw["p50_ms"], 1),
                    "ratio_p99": round(relay["p99_ms"] / raw["p99_ms"], 1),
                    "sent_equals_received": relay["relayed_sent"] == relay["relayed_received"],
                }
            )
            print(json.dumps(run), file=sys.stderr, flush=True)  # a later failure keeps it
        results["runs_of_three"] = []
        for count in arguments.trio_rooms:
            mesh = asyncio.run(trio_run(port, trios[:count], arguments.trio_rounds))
            raw = asyncio.run(raw_redis_run(count, arguments.trio_rounds))
            results["runs_of_three"].append(
                run := {
                    "rooms": count,
                    "clients": 3 * count,
                    "relay": mesh,
                    "raw_redis_pubsub": raw,
                    "ratio_p50": round(mesh["p50_ms"] / raw["p50_ms"], 1),
                    "ratio_p99": round(mesh["p99_ms"] / raw["p99_ms"], 1),
                    "sent_equals_received": mesh["relayed_sent"] == mesh["relayed_received"],
                }
            )
            print(json.dumps(run), file=sys.stderr, flush=True)
        if arguments.idle:
            results["idle"] = asyncio.run(idle_run(port, daphne.pid, rooms, arguments.idle))
    finally:
        if daphne is not None:
            daphne.terminate()
            daphne.wait(timeout=10)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        redis_process.terminate()
        redis_process.wait(timeout=10)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
