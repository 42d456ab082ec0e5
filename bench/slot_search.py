"""How fast the doctor page and search read slots with 100,000 and 1,000,000 of them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/slot_search.py [--sizes 100000 1000000] [--repeats 200] [--reuse]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. With `--reuse` each size keeps a database of its
own (`test_<name>_slots<size>`) that is migrated, seeded only when it does not hold that city yet,
and kept: seeding a million slots takes minutes, so a second run measures at once (the seeded
times stay where the first run put them; drop the database to move them to now). For each size
the slot table is emptied and seeded through a bench-only fast path (PostgreSQL COPY of
generated rows: 500 slots per doctor over 50 days, a tenth of them already past, a third of the
released ones full, a fifth online, some closed), then ANALYZEd; the searched names and every
doctor's next free period are then written as the writes would have kept them. Then it times,
with random doctors and dates:

- the doctor page's grid query (`doctor_grid`: 14 days of one doctor's periods),
- search in four shapes (`search_doctors`: words; a date and the afternoon; online in one
  district; no filter at all), each one statement (appointments.selectors.search_sql),
- the baseline: fetching one slot by primary key, the cheapest query the table answers,

and prints JSON with p50/p95 in milliseconds, the median time of each call spent in database
round trips (the rest is Python), the ratio of each p50 to the baseline, the load average
before and after, and the plan of every query from `EXPLAIN (ANALYZE, BUFFERS)`, with the
indexes it used (`--plans` prints them whole).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import sys
import time
from decimal import Decimal

from benchenv import prepare_environment

prepare_environment()

import django  # noqa: E402

django.setup()

from django.conf import settings as django_settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

SLOTS_PER_DOCTOR = 500  # 50 days of 10 half-hour periods
DAYS = 50
DEPARTMENTS = [
    ("皮肤科", "Dermatology"),
    ("儿科", "Paediatrics"),
    ("眼科", "Ophthalmology"),
    ("心内科", "Cardiology"),
    ("消化内科", "Gastroenterology"),
    ("骨科", "Orthopaedics"),
    ("妇科", "Gynaecology"),
    ("口腔科", "Dentistry"),
    ("神经内科", "Neurology"),
    ("耳鼻喉科", "ENT"),
]
DISTRICTS = [
    ("海曙区", "Haishu"),
    ("鄞州区", "Yinzhou"),
    ("江北区", "Jiangbei"),
    ("镇海区", "Zhenhai"),
]
TITLES = ["chief", "associate_chief", "attending", "resident"]
COLUMNS = (
    "doctor_id",
    "site_id",
    "department_id",
    "start",
    "end",
    "mode",
    "capacity",
    "booked",
    "referral_capacity",
    "referral_booked",
    "release_at",
    "referral_release_at",
    "referral_merge_at",
    "closed_at",
    "fee",
)


def build_city(doctors: int) -> list:
    from hospitals.models import Department, Doctor, Hospital

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appointments_slot RESTART IDENTITY CASCADE")
    Doctor.objects.all().delete()
    Department.objects.all().delete()
    Hospital.objects.all().delete()
    hospitals = [
        Hospital.objects.create(
            slug=f"h{i}",
            name=f"第{i}医院",
            name_en=f"No. {i} Hospital",
            kind="cloud" if i == 0 else "hospital",
            district=DISTRICTS[i % len(DISTRICTS)][0],
            district_en=DISTRICTS[i % len(DISTRICTS)][1],
        )
        for i in range(10)
    ]
    departments = [
        Department.objects.create(hospital=hospital, name=name, name_en=name_en, slug=f"d{j}")
        for hospital in hospitals
        for j, (name, name_en) in enumerate(DEPARTMENTS)
    ]
    Doctor.objects.bulk_create(
        Doctor(
            hospital=departments[i % len(departments)].hospital,
            department=departments[i % len(departments)],
            name=f"医生{i}",
            name_en=f"Doctor {i}",
            title=TITLES[i % len(TITLES)],
            specialties="湿疹 痤疮" if i % 10 == 0 else "",
            offers_online=i % 5 == 0,
        )
        for i in range(doctors)
    )
    return list(Doctor.objects.values_list("id", "hospital_id", "department_id"))


def seed_slots(doctors: list, rng: random.Random) -> int:
    """The bench-only fast path: generated rows straight into the table with COPY."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    first_day = now - dt.timedelta(days=DAYS // 10)
    quoted = ", ".join(f'"{name}"' for name in COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appointments_slot RESTART IDENTITY CASCADE")
        with cursor.cursor.copy(f"COPY appointments_slot ({quoted}) FROM STDIN") as pipe:
            for doctor_id, hospital_id, department_id in doctors:
                online = doctor_id % 5 == 0
                for day in range(DAYS):
                    # Four morning periods from 08:00, four afternoon ones from 14:00 and two
                    # evening ones from 18:30 local time (UTC+8).
                    base = first_day + dt.timedelta(days=day)
                    base = base.replace(hour=0) - dt.timedelta(hours=8)
                    for minutes in (480, 510, 540, 570, 840, 870, 900, 930, 1110, 1140):
                        start = base + dt.timedelta(minutes=minutes)
                        release_at = start - dt.timedelta(days=14)
                        released = release_at <= now
                        full = released and rng.random() < 0.33
                        capacity = 3
                        pipe.write_row(
                            (
                                doctor_id,
                                hospital_id,
                                department_id,
                                start,
                                start + dt.timedelta(minutes=30),
                                "online" if online and minutes >= 1110 else "in_person",
                                capacity,
                                capacity if full else rng.randint(0, capacity - 1),
                                1,
                                0,
                                release_at,
                                release_at - dt.timedelta(days=14),
                                start - dt.timedelta(hours=24),
                                now if rng.random() < 0.01 else None,
                                Decimal("25.00"),
                            )
                        )
                        count += 1
        cursor.execute("ANALYZE appointments_slot")
        cursor.execute("ANALYZE hospitals_doctor")
    return count


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed_ms(function, repeats: int) -> dict:
    """p50/p95 of whole calls, and the median of the part spent in the database's round trips
    (sending, executing, receiving: every `execute` of the call), the rest being Python."""
    samples, in_database, round_trips = [], [], []
    spent = [0.0, 0]

    def measured(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - began
            spent[1] += 1

    with connection.execute_wrapper(measured):
        for _ in range(repeats):
            spent[:] = [0.0, 0]
            began = time.perf_counter()
            function()
            samples.append((time.perf_counter() - began) * 1000)
            in_database.append(spent[0] * 1000)
            round_trips.append(spent[1])
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "round_trips_p50_ms": round(statistics.median(in_database), 3),
        "queries_per_call": round(statistics.mean(round_trips), 2),
    }


def explain(queryset=None, *, statement: tuple[str, dict] | None = None) -> dict:
    """The plan of a queryset, or of a (text, parameters) statement of appointments.selectors.
    search_sql sent with server-side parameters as search sends it."""
    if statement is not None:
        import psycopg

        sql, params = statement
        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
    else:
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
    text = "\n".join(plan)
    return {
        "next_free_rows_scanned": re.findall(
            r"Index Scan using next_free_(?:start|mode_district)_idx.*?rows=(\d+) loops", text
        ),
        "indexes_used": sorted(
            set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", text))
            | set(re.findall(r"Bitmap Index Scan on (\w+)", text))
        ),
        "sequential_scans_of_slots": len(re.findall(r"Seq Scan on appointments_slot", text)),
        "plan": plan,
    }


def city_seeded(size: int) -> bool:
    """Whether the scratch database already holds the city of `size` slots (with --reuse)."""
    from appointments.models import Slot
    from hospitals.models import Doctor

    return (
        Doctor.objects.count() == size // SLOTS_PER_DOCTOR
        and Slot.objects.count() == (size // SLOTS_PER_DOCTOR) * SLOTS_PER_DOCTOR
    )


def run_size(size: int, repeats: int, rng: random.Random, *, reuse: bool = False) -> dict:
    from appointments.models import Slot
    from appointments.selectors import RESULT_LIMIT, SearchQuery, doctor_grid, search_doctors
    from appointments.selectors.search_sql import search_statement
    from appointments.services import next_free_periods_refresh
    from hospitals.models import Doctor
    from hospitals.services import search_names_rebuild

    began = time.perf_counter()
    if reuse and city_seeded(size):
        seeded = Slot.objects.count()
        doctors = list(Doctor.objects.values_list("id", "hospital_id", "department_id"))
        reused = True
    else:
        doctors = build_city(size // SLOTS_PER_DOCTOR)
        seeded = seed_slots(doctors, rng)
        reused = False
    seed_seconds = time.perf_counter() - began
    # What the writes keep up to date, filled for the rows COPY wrote: the searched names and
    # every doctor's next free period (timed: the beat's worst case, all doctors at once).
    search_names_rebuild()
    began = time.perf_counter()
    next_free_periods_refresh(doctor_ids=[doctor[0] for doctor in doctors])
    refresh_seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE appointments_nextfreeperiod")
        cursor.execute("ANALYZE hospitals_doctorsearchname")
    doctor_objects = list(Doctor.objects.all())
    today = timezone.localdate()
    slot_ids = list(Slot.objects.values_list("id", flat=True)[:5000])

    shapes = {
        "words": lambda: SearchQuery(text=rng.choice(["皮肤", "dermatology", "湿疹", "No. 3"])),
        "date_and_afternoon": lambda: SearchQuery(
            day=today + dt.timedelta(days=rng.randint(1, 12)), day_part="afternoon"
        ),
        "online_in_a_district": lambda: SearchQuery(
            mode="online", district=rng.choice(DISTRICTS)[0]
        ),
        "no_filter": lambda: SearchQuery(),
    }
    result = {
        "slots": seeded,
        "doctors": len(doctors),
        "seed_seconds": round(seed_seconds, 1),
        "reused_database": reused,
        "next_free_refresh_all_doctors_seconds": round(refresh_seconds, 2),
    }
    baseline = timed_ms(lambda: Slot.objects.filter(pk=rng.choice(slot_ids)).first(), repeats)
    result["baseline_fetch_one_slot_by_pk"] = baseline
    grid = timed_ms(lambda: doctor_grid(doctor=rng.choice(doctor_objects)), repeats)
    grid["ratio_p50_to_baseline"] = round(grid["p50_ms"] / baseline["p50_ms"], 1)
    result["doctor_page_grid"] = grid
    searches = {}
    for name, make in shapes.items():
        figures = timed_ms(lambda make=make: search_doctors(query=make()), repeats)
        figures["ratio_p50_to_baseline"] = round(figures["p50_ms"] / baseline["p50_ms"], 1)
        searches[name] = figures
    result["search"] = searches

    now = timezone.now()
    doctor = doctor_objects[len(doctor_objects) // 2]
    grid_query = Slot.objects.filter(
        doctor=doctor, start__gt=now, start__lt=now + dt.timedelta(days=14)
    ).order_by("start", "mode")
    afternoon = SearchQuery(day=today + dt.timedelta(days=3), day_part="afternoon")

    def statement(query):
        return explain(statement=search_statement(query=query, now=now, limit=RESULT_LIMIT))

    result["explain"] = {
        "doctor_page_grid": explain(grid_query),
        "search_words": statement(SearchQuery(text="皮肤")),
        "search_date_and_afternoon": statement(afternoon),
        "search_online_in_a_district": statement(
            SearchQuery(mode="online", district=DISTRICTS[0][0])
        ),
        "search_no_filter": statement(SearchQuery()),
    }
    return result


def reused_run(size: int, repeats: int, rng: random.Random) -> dict:
    """One size in its own kept database: created and migrated if need be, seeded if empty."""
    settings_dict = connection.settings_dict
    old_name, old_test = settings_dict["NAME"], dict(settings_dict.get("TEST") or {})
    settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_slots{size}"
    connection.creation.create_test_db(verbosity=0, keepdb=True, serialize=False)
    try:
        return run_size(size, repeats, rng, reuse=True)
    finally:
        connection.close()
        connection.close_pool()
        settings_dict["NAME"], settings_dict["TEST"] = old_name, old_test
        django_settings.DATABASES[connection.alias]["NAME"] = old_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print whole plans, not summaries")
    parser.add_argument(
        "--reuse", action="store_true", help="keep one seeded database per size between runs"
    )
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark seeds with COPY).")
    setup_test_environment()
    rng = random.Random(arguments.seed)
    load_before = os.getloadavg()
    if arguments.reuse:
        runs = [reused_run(size, arguments.repeats, rng) for size in arguments.sizes]
    else:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            runs = [run_size(size, arguments.repeats, rng) for size in arguments.sizes]
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    teardown_test_environment()
    if not arguments.plans:
        for run in runs:
            for plan in run["explain"].values():
                plan["plan"] = [
                    line for line in plan["plan"] if "Execution Time" in line or "Planning" in line
                ]
    print(
        json.dumps(
            {
                "benchmark": "slot_search",
                "database": "PostgreSQL",
                "repeats": arguments.repeats,
                "load_average_before_and_after": [
                    [round(value, 2) for value in load_before],
                    [round(value, 2) for value in os.getloadavg()],
                ],
                "runs": runs,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
