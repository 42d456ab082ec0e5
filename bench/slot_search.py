"""How fast the doctor page and search read slots with 100,000 and 1,000,000 of them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/slot_search.py [--sizes 100000 1000000] [--repeats 200] [--reuse]

Each size has a scratch database of its own (`test_<name>_slots<size>`), created and migrated at
the start and dropped at the end. With `--reuse` they are kept, and a city is seeded only when its
database does not hold it yet: seeding a million slots takes minutes, so a second run measures at
once (the seeded times stay where the first run put them; drop the database to move them to
now). A city is seeded through a bench-only fast path (PostgreSQL COPY of generated rows: 500
slots per doctor over 50 days, a tenth of them already past, a third of the released ones full, a
fifth online, some closed), then ANALYZEd; the searched names and every doctor's next free period
are then written as the writes would have kept them. Then it times, in turns of the sizes (8
turns each, so that a moment when the machine is slow falls on every size alike: the ratio of one
size to another is what the bench is for), with random doctors and dates:

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


class Timings:
    """The samples of one kind of call in one city, gathered over several blocks."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.in_database: list[float] = []
        self.round_trips: list[int] = []

    def time(self, function, repeats: int) -> None:
        """`repeats` whole calls, each with the part spent in the database's round trips
        (sending, executing, receiving: every `execute` of the call), the rest being Python."""
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
                self.samples.append((time.perf_counter() - began) * 1000)
                self.in_database.append(spent[0] * 1000)
                self.round_trips.append(spent[1])

    def figures(self) -> dict:
        return {
            "p50_ms": round(statistics.median(self.samples), 3),
            "p95_ms": round(percentile(self.samples, 0.95), 3),
            "round_trips_p50_ms": round(statistics.median(self.in_database), 3),
            "queries_per_call": round(statistics.mean(self.round_trips), 2),
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


def city_prepare(size: int, rng: random.Random, *, reuse: bool) -> tuple[dict, dict]:
    """Seed the city of `size` slots in the current database (or find it there, with --reuse)
    and write what the writes keep up to date; returns its figures so far and the calls to
    time in it, by name."""
    from appointments.models import Slot
    from appointments.selectors import SearchQuery, doctor_grid, search_doctors
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
        # The names change only when a doctor, department or hospital is renamed: vacuumed,
        # as autovacuum keeps such a table, so that its covering index answers alone.
        for table in ("doctor", "department", "hospital"):
            cursor.execute(f"VACUUM ANALYZE hospitals_{table}searchname")
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
    calls = {
        "baseline_fetch_one_slot_by_pk": lambda: Slot.objects.filter(
            pk=rng.choice(slot_ids)
        ).first(),
        "doctor_page_grid": lambda: doctor_grid(doctor=rng.choice(doctor_objects)),
    }
    for name, make in shapes.items():
        calls[name] = lambda make=make: search_doctors(query=make())
    result = {
        "slots": seeded,
        "doctors": len(doctors),
        "seed_seconds": round(seed_seconds, 1),
        "reused_database": reused,
        "next_free_refresh_all_doctors_seconds": round(refresh_seconds, 2),
    }
    return result, calls


def plans() -> dict:
    """The plans of the grid and of each shape of search, in the current database."""
    from appointments.models import Slot
    from appointments.selectors import RESULT_LIMIT, SearchQuery
    from appointments.selectors.search_sql import search_statement
    from hospitals.models import Doctor

    now = timezone.now()
    doctors = Doctor.objects.order_by("pk")
    doctor = doctors[doctors.count() // 2]
    grid_query = Slot.objects.filter(
        doctor=doctor, start__gt=now, start__lt=now + dt.timedelta(days=14)
    ).order_by("start", "mode")
    afternoon = SearchQuery(day=timezone.localdate() + dt.timedelta(days=3), day_part="afternoon")

    def statement(query):
        return explain(statement=search_statement(query=query, now=now, limit=RESULT_LIMIT))

    return {
        "doctor_page_grid": explain(grid_query),
        "search_words": statement(SearchQuery(text="皮肤")),
        "search_date_and_afternoon": statement(afternoon),
        "search_online_in_a_district": statement(
            SearchQuery(mode="online", district=DISTRICTS[0][0])
        ),
        "search_no_filter": statement(SearchQuery()),
    }


class Cities:
    """One scratch database per size (`test_<name>_slots<size>`), and the connection moved
    from one to another: the sizes are timed in turns, so that what else the machine does
    meanwhile falls on every size alike, and the ratio of one size to another measures the
    code, not the moment."""

    def __init__(self, *, keep: bool) -> None:
        self.settings_dict = connection.settings_dict
        self.old_name = self.settings_dict["NAME"]
        self.old_test = dict(self.settings_dict.get("TEST") or {})
        self.keep = keep
        self.created: list[int] = []

    def name(self, size: int) -> str:
        return f"test_{self.old_name}_slots{size}"

    def create(self, size: int) -> None:
        self._leave()
        self.settings_dict.setdefault("TEST", {})["NAME"] = self.name(size)
        connection.creation.create_test_db(
            verbosity=0, keepdb=self.keep, autoclobber=True, serialize=False
        )
        self.created.append(size)

    def enter(self, size: int) -> None:
        self._leave()
        self.settings_dict["NAME"] = self.name(size)

    def _leave(self) -> None:
        connection.close()
        connection.close_pool()

    def finish(self) -> None:
        """Drop the databases made (unless kept) and point the connection back."""
        if not self.keep:
            for size in self.created:
                self.enter(size)
                connection.creation.destroy_test_db(self.old_name, verbosity=0)
        self._leave()
        self.settings_dict["NAME"], self.settings_dict["TEST"] = self.old_name, self.old_test
        django_settings.DATABASES[connection.alias]["NAME"] = self.old_name


BLOCKS = 8  # turns per size: each times every call `repeats / BLOCKS` times
WARM_CALLS = 6  # untimed calls of each kind after a move (past psycopg's prepare threshold)


def measure(sizes: list[int], repeats: int, rng: random.Random, *, reuse: bool) -> list[dict]:
    """Prepare every size, then time them in turns of `repeats / BLOCKS` calls of each kind,
    and plan each query once per size."""
    cities = Cities(keep=reuse)
    prepared = {}
    try:
        for size in sizes:
            cities.create(size)
            prepared[size] = city_prepare(size, rng, reuse=reuse)
        timings = {size: {name: Timings() for name in prepared[size][1]} for size in sizes}
        per_block = max(1, repeats // BLOCKS)
        for _block in range(BLOCKS):
            for size in sizes:
                cities.enter(size)
                for name, call in prepared[size][1].items():
                    for _ in range(WARM_CALLS):
                        call()
                    timings[size][name].time(call, per_block)
        runs = []
        for size in sizes:
            cities.enter(size)
            result = prepared[size][0]
            figures = {name: timing.figures() for name, timing in timings[size].items()}
            baseline = figures.pop("baseline_fetch_one_slot_by_pk")
            result["baseline_fetch_one_slot_by_pk"] = baseline
            for entry in figures.values():
                entry["ratio_p50_to_baseline"] = round(entry["p50_ms"] / baseline["p50_ms"], 1)
            result["doctor_page_grid"] = figures.pop("doctor_page_grid")
            result["search"] = figures
            result["explain"] = plans()
            runs.append(result)
        return runs
    finally:
        cities.finish()


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
    runs = measure(arguments.sizes, arguments.repeats, rng, reuse=arguments.reuse)
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
