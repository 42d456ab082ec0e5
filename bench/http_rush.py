"""A release rush over real HTTP, through the production topology (issue 16).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_x \\
        .venv/bin/python bench/http_rush.py [--clients 10 100 500] [--workers 3] [--profile]

Starts, on this machine, what `make serve` starts for the web (gunicorn with uvicorn workers,
`gunicorn.conf.py`, DEBUG off) on a scratch PostgreSQL database (`<name>_http_rush`, created
and dropped) and a private `redis-server` on a free port, with `BENCH_NOOP_PAGES` on so the
baseline pages exist. Creates signed-in patients (database sessions, as a sign-in leaves them),
then drives the booking pages as a release happens:

- every client opens the confirmation page before the release: its GET (with the CSRF token)
  is timed on its own; then the slots are released and the clients POST;
- (a) closed loop, for each N of `--clients`: N clients, each with its own kept-alive
  connection and session, POST one booking after another (each for another family member, on
  a slot drawn at random) over 1,000 slots of 3 places, max(4 N, 1,000) POSTs in all;
- (b) open loop: POSTs arrive at `--rate` (300) a second for `--seconds` (30) on one hot slot
  of 30 places, whatever the server's answers (latency counts from the planned send time, so
  queueing in the client is not hidden);
- the baseline, in the same run, before each booking run: the same GET then POSTs, at the same
  concurrency, against `/bench/noop/` (a signed-in form page in the site's shell; its POST
  checks the CSRF token and redirects).

A POST answered 302 is a booking; 200 with the page's refusal is a refusal; anything else, or a
broken connection, is an error. After each run the database is checked: no slot above its
capacity, `booked == active appointments + live holds`, and the hot slot sold exactly 30.

The load tool is a lean asyncio HTTP/1.1 client (uvloop, raw streams, pre-built requests). All
of it shares this machine's cores, so each run reports the load average and, from /proc, the
cores used by the load tool, the web (gunicorn), PostgreSQL and Redis. `--profile`: py-spy on
each web worker in the 100-client and hot-slot runs (var/bench/*.txt), hottest frames printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import time
import traceback
import uuid
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from benchenv import ROOT, prepare_environment
from db_watch import LockWaits
from http_load import (
    Client,
    Servers,
    closed_loop,
    cores_per_worker,
    finish_profiles,
    open_loop,
    open_pages,
    start_profiles,
)

prepare_environment()

SPREAD_SLOTS = 1000
SPREAD_PLACES = 3
HOT_PLACES = 30
VAR = ROOT / "var" / "bench"


def _scratch_url(base: str) -> tuple[str, str, str]:
    """(scratch database URL, its name, the maintenance database URL)."""
    parts = urlsplit(base)
    name = parts.path.lstrip("/") + "_http_rush"
    return (
        urlunsplit(parts._replace(path="/" + name)),
        name,
        urlunsplit(parts._replace(path="/postgres")),
    )


def _recreate_database(maintenance: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


BASE_URL = os.environ.get("DATABASE_URL", "")
if not BASE_URL.startswith("postgres"):
    sys.exit("bench/http_rush.py needs DATABASE_URL=postgres://... (a scratch database is made)")
SCRATCH_URL, SCRATCH_NAME, MAINTENANCE_URL = _scratch_url(BASE_URL)
os.environ["DATABASE_URL"] = SCRATCH_URL
os.environ["DATABASE_POOL_MIN"] = "1"
os.environ["DATABASE_POOL_MAX"] = "8"
# On a loaded machine a new connection can take long; the bench's own setup must not give up.
os.environ["DATABASE_POOL_TIMEOUT"] = "120"
os.environ.pop("REDIS_URL", None)  # the bench process itself needs no Redis
# The release (one UPDATE) is issued from the load tool's event loop, between two phases.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

# --- The city ----------------------------------------------------------------------------


def build_city():
    """One hospital, 100 doctors with accounts; slots and people are added per run."""
    from accounts.models import User
    from hospitals.models import Department, Doctor, Hospital

    hospital = Hospital.objects.create(
        slug="bench",
        name="基准医院",
        kind="hospital",
        monthly_cap_per_account=30_000,
        monthly_cap_per_phone=30_000,
    )
    departments = [
        Department.objects.create(hospital=hospital, name=f"科室{i}", slug=f"d{i}")
        for i in range(10)
    ]
    users = User.objects.bulk_create(
        User(email=f"doctor{i}@bench.example", name=f"医生{i}") for i in range(100)
    )
    doctors = Doctor.objects.bulk_create(
        Doctor(
            hospital=hospital,
            department=departments[i % 10],
            name=f"医生{i}",
            title="attending",
            user=users[i],
        )
        for i in range(100)
    )
    return hospital, doctors


def make_slots(hospital, doctors, *, count: int, capacity: int, day: int) -> list[int]:
    """Slots not yet released (the release is a later UPDATE): the GETs before it are refused
    with 'opens at', as on release day."""
    from django.utils import timezone

    from appointments.models import Slot

    now = timezone.now()
    first = (now + dt.timedelta(days=3 + day)).replace(minute=0, second=0, microsecond=0)
    slots = []
    for index in range(count):
        doctor = doctors[index % len(doctors)]
        start = first + dt.timedelta(minutes=30 * (index // len(doctors)))
        slots.append(
            Slot(
                doctor=doctor,
                site=hospital,
                department_id=doctor.department_id,
                start=start,
                end=start + dt.timedelta(minutes=30),
                mode="in_person",
                capacity=capacity,
                release_at=now + dt.timedelta(days=1),
                referral_release_at=now - dt.timedelta(days=2),
                referral_merge_at=start - dt.timedelta(hours=24),
                fee=Decimal("25.00"),
            )
        )
    return [slot.pk for slot in Slot.objects.bulk_create(slots)]


def release(slot_ids: list[int]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_slot SET release_at = now() - interval '1 second' "
            "WHERE id = ANY(%s)",
            [slot_ids],
        )
    # Called inside the event loop, whose context has a connection of its own: back to the pool.
    connection.close()


_people = 0


def make_clients(count: int, people: int) -> list[dict]:
    """`count` signed-in accounts with verified phones, `people` family members spread over
    them (each linked and consenting): [{'cookie', 'patients': [...]}, ...]."""
    global _people
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User
    from portal import sessions as clocks
    from records.idnumbers import make_id_number
    from records.models import Consent, Patient, PatientLink

    label = _people
    _people += people
    accounts = User.objects.bulk_create(
        User(
            email=f"client{label}-{i}@bench.example",
            name=f"用户{i}",
            phone=f"+86139{label + i:08d}",
            phone_verified=True,
        )
        for i in range(count)
    )
    patients = []
    for index in range(people):
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=(label + index) % 15000)
        patient = Patient(name=f"病人{label + index}", sex="female", birth_date=birth)
        patient.set_id_number(
            make_id_number(birth_date=birth, sex="female", sequence=label + index)
        )
        patients.append(patient)
    patients = Patient.objects.bulk_create(patients)
    owner = [accounts[index % count] for index in range(people)]
    PatientLink.objects.bulk_create(
        PatientLink(patient=p, account=owner[i], relationship="other", is_manager=True)
        for i, p in enumerate(patients)
    )
    Consent.objects.bulk_create(
        Consent(
            patient=p,
            kind="id_and_health_data",
            given_by=owner[i],
            on_behalf="self",
            text_version="2026-11-v1",
        )
        for i, p in enumerate(patients)
    )
    clients = []
    now = time.time()
    for account in accounts:
        store = SessionStore()
        store[SESSION_KEY] = str(account.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = account.get_session_auth_hash()
        store[clocks.STARTED_AT] = now
        store[clocks.ACTIVE_AT] = now
        store[clocks.IDLE_LIMIT] = settings.SESSION_IDLE_SECONDS_PATIENT
        store.create()
        clients.append({"cookie": f"sessionid={store.session_key}", "patients": []})
    for index, patient in enumerate(patients):
        clients[index % count]["patients"].append(patient.pk)
    return clients


def check_database(slot_ids: list[int]) -> dict:
    """Overbooked slots (above capacity, or counters that disagree with the rows)."""
    from django.db.models import Count, Q

    from appointments.models import ACTIVE_STATUSES, Slot

    rows = Slot.objects.filter(pk__in=slot_ids).annotate(
        active=Count(
            "appointments",
            filter=Q(appointments__status__in=ACTIVE_STATUSES, appointments__pool="public"),
            distinct=True,
        ),
        live=Count("holds", filter=Q(holds__state="live", holds__pool="public"), distinct=True),
    )
    overbooked = mismatched = booked = 0
    for slot in rows:
        booked += slot.active
        if slot.active + slot.live > slot.capacity or slot.booked > slot.capacity:
            overbooked += 1
        if slot.booked != slot.active + slot.live:
            mismatched += 1
    return {"overbooked": overbooked, "counter_mismatches": mismatched, "booked_in_db": booked}


# --- The runs ----------------------------------------------------------------------------


class Bench:
    def __init__(self, servers: Servers, hospital, doctors, args) -> None:
        self.servers = servers
        self.hospital = hospital
        self.doctors = doctors
        self.args = args
        self.day = 0

    def measure(self, coroutine):
        """Run `coroutine`, with the CPU the load tool and the servers used meanwhile."""
        cpu = time.process_time()
        servers, workers = self.servers.cpu_snapshot(), self.servers.worker_cpu()
        began = time.perf_counter()
        result = asyncio.run(coroutine)
        wall = time.perf_counter() - began
        after = self.servers.worker_cpu()
        return result, {
            "load_tool_cpu_cores": round((time.process_time() - cpu) / wall, 2),
            "worker_cpu_cores": cores_per_worker(workers, after, wall),
            **{
                f"{name}_cpu_cores": round((seconds - servers[name]) / wall, 2)
                for name, seconds in self.servers.cpu_snapshot().items()
            },
            "loadavg_1m": round(os.getloadavg()[0], 2),
        }

    def baseline(self, count: int, posts: int) -> dict:
        accounts = make_clients(count, count)
        clients = [Client(self.servers.port, a["cookie"]) for a in accounts]
        per_client = posts // count

        async def run():
            opened = await open_pages(clients, ["/bench/noop/"] * count, self.servers)
            began = time.perf_counter()
            work = [[("/bench/noop/", {"key": "noop"})] * per_client for _ in clients]
            tally = await closed_loop(clients, work)
            for client in clients:
                client.close()
            return opened, tally.report(time.perf_counter() - began)

        (opened, posts_report), cpu = self.measure(run())
        # A no-op POST answers 302 like a booking.
        posts_report["posts_per_second"] = posts_report.pop("bookings_per_second")
        for key in ("bookings", "refusals", "refusals_per_second", "booked", "refused"):
            posts_report.pop(key)
        return {"gets": opened, "posts": posts_report, **cpu}

    def spread(self, count: int) -> dict:
        posts = max(4 * count, 1000)
        self.day += 1
        slot_ids = make_slots(
            self.hospital, self.doctors, count=SPREAD_SLOTS, capacity=SPREAD_PLACES, day=self.day
        )
        accounts = make_clients(count, posts)
        chooser = random.Random(count)
        clients = [Client(self.servers.port, a["cookie"]) for a in accounts]
        work = [
            [
                (
                    f"/appointments/book/{chooser.choice(slot_ids)}/",
                    {"patient": p, "key": uuid.uuid4().hex},
                )
                for p in a["patients"]
            ]
            for a in accounts
        ]
        profile = self.args.profile and count == 100

        async def run():
            opened = await open_pages(clients, [items[0][0] for items in work], self.servers)
            release(slot_ids)
            spies = start_profiles(self.servers) if profile else []
            began = time.perf_counter()
            tally = await closed_loop(clients, work)
            seconds = time.perf_counter() - began
            for client in clients:
                client.close()
            return opened, tally.report(seconds), spies

        (opened, report, spies), cpu = self.measure(run())
        result = {"clients": count, "gets_before_release": opened, **report, **cpu}
        result.update(check_database(slot_ids))
        if spies:
            result["profile"] = finish_profiles(spies, self.servers)
        return result

    def hot(self) -> dict:
        self.day += 1
        (slot_id,) = make_slots(
            self.hospital, self.doctors, count=1, capacity=HOT_PLACES, day=self.day
        )
        total = int(self.args.rate * self.args.seconds)
        count = self.args.hot_clients
        accounts = make_clients(count, total)
        clients = [Client(self.servers.port, a["cookie"]) for a in accounts]
        path = f"/appointments/book/{slot_id}/"
        items = []
        for number in range(total):
            index = number % count
            patient = accounts[index]["patients"][number // count]
            items.append((index, path, {"patient": patient, "key": uuid.uuid4().hex}))

        async def run():
            opened = await open_pages(clients, [path] * count, self.servers)
            waits = LockWaits(self.servers.database_url)
            waits.start()
            release([slot_id])
            spies = start_profiles(self.servers) if self.args.profile else []
            began = time.perf_counter()
            tally, late = await open_loop(clients, items, self.args.rate)
            seconds = time.perf_counter() - began
            for client in clients:
                client.close()
            return opened, tally.report(seconds), late, spies, waits.stop()

        (opened, report, late, spies, waits), cpu = self.measure(run())
        result = {"clients": count, "planned_rate": self.args.rate, "sent_late": late}
        result.update(gets_before_release=opened, **report, **cpu, lock_waits=waits)
        result.update(check_database([slot_id]))
        result["exactly_30_booked"] = result["booked_in_db"] == HOT_PLACES
        if spies:
            result["profile"] = finish_profiles(spies, self.servers)
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, nargs="*", default=[10, 100, 500])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--pool", type=int, default=10, help="database connections per worker")
    # Serve HTTP with gunicorn's threaded WSGI workers instead (no sockets; to compare).
    parser.add_argument("--gthread", type=int, default=0, metavar="THREADS")
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--hot-clients", type=int, default=500)
    parser.add_argument("--skip-hot", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover
        pass

    _recreate_database(MAINTENANCE_URL, SCRATCH_NAME)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # DEBUG is off in the servers: the pages need the manifest `make serve` builds.
    call_command("collectstatic", interactive=False, verbosity=0)
    servers = Servers(
        root=ROOT,
        var=VAR,
        database_url=SCRATCH_URL,
        workers=args.workers,
        pool=args.pool,
        threads=args.gthread,
    )
    result: dict = {
        "bench": "http_rush",
        "topology": f"gunicorn + {args.workers} "
        + (f"gthread workers x {args.gthread} threads" if args.gthread else "uvicorn workers")
        + f", {args.pool} connections each",
        "cores": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    failed = None
    try:
        hospital, doctors = build_city()
        servers.start()
        bench = Bench(servers, hospital, doctors, args)
        result["spread"] = spread = []
        for count in args.clients:
            posts = max(4 * count, 1000)
            baseline = bench.baseline(count, posts)
            print(json.dumps({"baseline": baseline}), file=sys.stderr, flush=True)
            run = bench.spread(count)
            run["baseline"] = baseline
            run["ratio_to_baseline"] = round(
                run["bookings_per_second"] / baseline["posts"]["posts_per_second"], 3
            )
            spread.append(run)
            print(json.dumps({"progress": run}, ensure_ascii=False), file=sys.stderr, flush=True)
        if len(spread) > 1:
            result["collapse_ratio"] = round(
                spread[-1]["bookings_per_second"] / spread[0]["bookings_per_second"], 3
            )
        if not args.skip_hot:
            hot = bench.hot()
            hot["baseline"] = bench.baseline(args.hot_clients, args.hot_clients * 4)
            result["hot"] = hot
        runs = [*spread, *([result["hot"]] if "hot" in result else [])]
        result["errors"] = sum(r["errors"] + r["gets_before_release"]["errors"] for r in runs)
        result["overbooked"] = sum(r["overbooked"] for r in runs)
        result["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    except Exception as error:  # report what was measured before it
        failed = error
        result["failed"] = repr(error)
        traceback.print_exc()
    finally:
        servers.stop()
        from django.db import connections

        connections.close_all()
        _recreate_database(MAINTENANCE_URL, SCRATCH_NAME, drop_only=True)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if failed is not None:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
