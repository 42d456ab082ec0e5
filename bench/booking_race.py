"""How appointment_book holds up when many clients book at once, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_booking_core \
        .venv/bin/python bench/booking_race.py [--clients 10 100 500] [--pool 20]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. N client threads share a bounded connection pool
(Django's psycopg pool, `--pool` connections; each request checks a connection out and gives
it back, as a web request does). For each N:

- (a) hot: one slot of 30 public places; max(N, 300) requests, each for its own person;
- (b) spread: 1,000 slots of 3 places; max(N, 2,000) requests on slots drawn at random;
- the ceiling: the same number of requests at the same concurrency, each a plain single-row
  `UPDATE appointments_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity`
  through the same pool, on the same slot(s).

Counts successes, refusals (typed `BookingRefused`) and errors (anything else: must be 0),
bookings and requests per second, p50/p99 latency, the ratio to the ceiling, and the collapse
ratio rate(max N)/rate(min N). After each run the invariants are checked: `booked ==
active public appointments + live public holds` for every slot, never above capacity, and the
hot slot sells exactly min(requests, 30) places. Prints JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import threading
import time
from decimal import Decimal

from benchenv import prepare_environment

prepare_environment()


def _pool_size() -> int:
    for index, argument in enumerate(sys.argv):
        if argument == "--pool" and index + 1 < len(sys.argv):
            return int(sys.argv[index + 1])
    return 20


os.environ["DATABASE_POOL_MAX"] = str(_pool_size())
# How long a client waits for one of the pool's connections. The settings' 10 s suits a web
# request; 500 clients queueing on 20 connections wait longer than that at this machine's
# rate, and a wait is not a failure of booking, so the bench lets them queue (and reports it
# in the latencies).
POOL_WAIT_SECONDS = 120
os.environ.setdefault("DATABASE_POOL_MIN", "4")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

HOT_PLACES = 30
SPREAD_SLOTS = 1000
SPREAD_PLACES = 3


class City:
    """One hospital, 100 doctors with accounts, and the people who will book."""

    def __init__(self) -> None:
        from accounts.models import User
        from hospitals.models import Department, Doctor, Hospital

        self.hospital = Hospital.objects.create(
            slug="bench",
            name="基准医院",
            kind="hospital",
            monthly_cap_per_account=30_000,
            monthly_cap_per_phone=30_000,
        )
        self.departments = [
            Department.objects.create(hospital=self.hospital, name=f"科室{i}", slug=f"d{i}")
            for i in range(10)
        ]
        users = User.objects.bulk_create(
            User(email=f"doctor{i}@bench.example", name=f"医生{i}") for i in range(100)
        )
        self.doctors = Doctor.objects.bulk_create(
            Doctor(
                hospital=self.hospital,
                department=self.departments[i % 10],
                name=f"医生{i}",
                title="attending",
                user=users[i],
            )
            for i in range(100)
        )
        self.people = 0
        self.start = (timezone.now() + dt.timedelta(days=3)).replace(
            minute=0, second=0, microsecond=0
        )

    def slots(self, count: int, capacity: int, label: int) -> list:
        from appointments.models import Slot

        now = timezone.now()
        slots = []
        for index in range(count):
            doctor = self.doctors[index % len(self.doctors)]
            start = self.start + dt.timedelta(days=label, minutes=30 * (index // len(self.doctors)))
            slots.append(
                Slot(
                    doctor=doctor,
                    site=self.hospital,
                    department_id=doctor.department_id,
                    start=start,
                    end=start + dt.timedelta(minutes=30),
                    mode="in_person",
                    capacity=capacity,
                    release_at=now - dt.timedelta(days=1),
                    referral_release_at=now - dt.timedelta(days=2),
                    referral_merge_at=start - dt.timedelta(hours=24),
                    fee=Decimal("25.00"),
                )
            )
        return Slot.objects.bulk_create(slots)

    def clients(self, count: int, requests: int) -> list[list[tuple]]:
        """`count` accounts; `requests` people spread over them, each linked and consenting."""
        from accounts.models import User
        from records.idnumbers import make_id_number
        from records.models import Consent, Patient, PatientLink

        label = self.people
        accounts = User.objects.bulk_create(
            User(email=f"client{label}-{i}@bench.example", name=f"用户{i}") for i in range(count)
        )
        patients = []
        for index in range(requests):
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=(label + index) % 15000)
            patient = Patient(name=f"病人{label + index}", sex="female", birth_date=birth)
            patient.set_id_number(
                make_id_number(birth_date=birth, sex="female", sequence=label + index)
            )
            patients.append(patient)
        self.people += requests
        patients = Patient.objects.bulk_create(patients)
        PatientLink.objects.bulk_create(
            PatientLink(
                patient=patient,
                account=accounts[index % count],
                relationship="other",
                is_manager=True,
            )
            for index, patient in enumerate(patients)
        )
        Consent.objects.bulk_create(
            Consent(
                patient=patient,
                kind="id_and_health_data",
                given_by=accounts[index % count],
                on_behalf="self",
                text_version="2026-11-v1",
            )
            for index, patient in enumerate(patients)
        )
        per_client: list[list[tuple]] = [[] for _ in range(count)]
        for index, patient in enumerate(patients):
            per_client[index % count].append((accounts[index % count], patient))
        return per_client


def _run_clients(per_client: list[list], request) -> dict:
    """Start every client at once; each runs its requests one after another."""
    from appointments.errors import BookingRefused

    barrier = threading.Barrier(len(per_client) + 1)
    latencies: list[float] = []
    outcome = {"successes": 0, "refusals": 0, "errors": 0}
    refusal_codes: dict[str, int] = {}
    error_samples: list[str] = []
    lock = threading.Lock()

    def client(work: list) -> None:
        mine: list[float] = []
        counts = {"successes": 0, "refusals": 0, "errors": 0}
        codes: dict[str, int] = {}
        try:
            barrier.wait()
            for item in work:
                began = time.perf_counter()
                try:
                    ok = request(item)
                    counts["successes" if ok else "refusals"] += 1
                except BookingRefused as refusal:
                    counts["refusals"] += 1
                    codes[refusal.code] = codes.get(refusal.code, 0) + 1
                except Exception as error:  # counted: must stay 0
                    counts["errors"] += 1
                    with lock:
                        if len(error_samples) < 5:
                            error_samples.append(repr(error))
                finally:
                    connection.close()  # back to the pool, as at the end of a web request
                mine.append(time.perf_counter() - began)
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)
                for key, value in counts.items():
                    outcome[key] += value
                for key, value in codes.items():
                    refusal_codes[key] = refusal_codes.get(key, 0) + value

    threads = [threading.Thread(target=client, args=(work,)) for work in per_client]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    requests = len(latencies)
    return {
        **outcome,
        "requests": requests,
        "refusal_codes": refusal_codes,
        "error_samples": error_samples,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(requests / elapsed, 1),
        "bookings_per_second": round(outcome["successes"] / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(requests - 1, int(requests * 0.99))] * 1000, 1),
    }


def _check_invariants(slots: list) -> None:
    from django.db.models import Count, Q

    from appointments.models import ACTIVE_STATUSES, Slot

    rows = Slot.objects.filter(pk__in=[s.pk for s in slots]).annotate(
        active=Count(
            "appointments",
            filter=Q(appointments__status__in=ACTIVE_STATUSES, appointments__pool="public"),
            distinct=True,
        ),
        live=Count("holds", filter=Q(holds__state="live", holds__pool="public"), distinct=True),
    )
    for slot in rows:
        assert slot.booked == slot.active + slot.live, (slot.pk, slot.booked, slot.active)
        assert 0 <= slot.booked <= slot.capacity, (slot.pk, slot.booked)
    connection.close()


def _book(slot_for):
    from appointments.services import appointment_book

    def request(item) -> bool:
        account, patient = item
        appointment_book(patient=patient, slot=slot_for(), booked_by=account)
        return True

    return request


def _plain_update(slot_for):
    def request(_item) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE appointments_slot SET booked = booked + 1 "
                "WHERE id = %s AND booked < capacity",
                [slot_for().pk],
            )
            return cursor.rowcount == 1

    return request


def run(clients: list[int]) -> dict:

    city = City()
    random.seed(5)
    results = []
    for label, count in enumerate(clients):
        row: dict = {"clients": count}
        # (a) one hot slot of 30 places
        hot_requests = max(count, 300)
        hot = city.slots(1, HOT_PLACES, label=2 * label)[0]
        per_client = city.clients(count, hot_requests)
        connection.close()
        booking = _run_clients(per_client, _book(lambda hot=hot: hot))
        _check_invariants([hot])
        assert booking["successes"] == min(hot_requests, HOT_PLACES), booking
        # The ceiling on a fresh copy: as many plain UPDATEs, same concurrency, same row.
        ceiling_slot = city.slots(1, HOT_PLACES, label=2 * label + 1)[0]
        connection.close()
        ceiling = _run_clients(per_client, _plain_update(lambda s=ceiling_slot: s))
        row["hot"] = {
            "booking": booking,
            "ceiling_plain_update": ceiling,
            "ratio_requests_per_second_to_ceiling": round(
                booking["requests_per_second"] / ceiling["requests_per_second"], 3
            ),
        }
        # (b) spread over 1,000 slots
        spread_requests = max(count, 2000)
        spread = city.slots(SPREAD_SLOTS, SPREAD_PLACES, label=100 + 2 * label)
        per_client = city.clients(count, spread_requests)
        connection.close()
        picks = iter([random.randrange(SPREAD_SLOTS) for _ in range(spread_requests)])
        pick_lock = threading.Lock()

        def spread_slot(spread=spread, picks=picks, pick_lock=pick_lock):
            with pick_lock:
                return spread[next(picks)]

        booking = _run_clients(per_client, _book(spread_slot))
        _check_invariants(spread)
        ceiling_slots = city.slots(SPREAD_SLOTS, SPREAD_PLACES, label=101 + 2 * label)
        connection.close()
        picks2 = iter([random.randrange(SPREAD_SLOTS) for _ in range(spread_requests)])

        def ceiling_pick(ceiling_slots=ceiling_slots, picks=picks2, pick_lock=pick_lock):
            with pick_lock:
                return ceiling_slots[next(picks)]

        ceiling = _run_clients(per_client, _plain_update(ceiling_pick))
        row["spread"] = {
            "booking": booking,
            "ceiling_plain_update": ceiling,
            "ratio_requests_per_second_to_ceiling": round(
                booking["requests_per_second"] / ceiling["requests_per_second"], 3
            ),
        }
        results.append(row)
        print(json.dumps(row), file=sys.stderr)

    first, last = results[0], results[-1]
    return {
        "benchmark": "booking_race",
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "pool_connections": _pool_size(),
        "pool_wait_seconds": POOL_WAIT_SECONDS,
        "hot_slot_places": HOT_PLACES,
        "spread_slots": SPREAD_SLOTS,
        "spread_places_per_slot": SPREAD_PLACES,
        "runs": results,
        "collapse_ratio": {
            "clients": [first["clients"], last["clients"]],
            "hot_requests_per_second": round(
                last["hot"]["booking"]["requests_per_second"]
                / first["hot"]["booking"]["requests_per_second"],
                3,
            ),
            "spread_bookings_per_second": round(
                last["spread"]["booking"]["bookings_per_second"]
                / first["spread"]["booking"]["bookings_per_second"],
                3,
            ),
        },
        "errors_total": sum(
            r[kind][part]["errors"]
            for r in results
            for kind in ("hot", "spread")
            for part in ("booking", "ceiling_plain_update")
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--pool", type=int, default=20)
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    connection.settings_dict["OPTIONS"]["pool"]["timeout"] = POOL_WAIT_SECONDS
    # A scratch database of its own, so a test run on the same server never meets it.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = (
        f"bench_{connection.settings_dict['NAME']}_booking_race"
    )
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = run(arguments.clients)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
