"""How fast slots_generate publishes 30 days of rota for 1,000 doctors on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_schedules \
        .venv/bin/python bench/slots_generate.py [--doctors 1000] [--days 30] [--repeats 3]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. Each repeat empties the slot table and times:

- `slots_generate` (rota → instants → release times → set difference → COPY into a temporary
  table → INSERT … ON CONFLICT DO NOTHING),
- a second, idempotent `slots_generate` over the same range (creates nothing),
- the baseline: a plain PostgreSQL `COPY` of exactly the rows the first run created,
- `bulk_create` of the same rows through the ORM (what the first version of slots_generate
  used, and the floor for any generator built on it).

Prints JSON: medians, slots/second, the ratio to the COPY baseline, and peak memory (Python
allocations during one generate, by tracemalloc, and the process's peak RSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal

from benchenv import prepare_environment

prepare_environment()

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from appointments.services import SLOT_INSERT_COLUMNS as COLUMNS  # noqa: E402


def build_city(doctors: int) -> None:
    from appointments.models import ScheduleRule
    from hospitals.models import Department, Doctor, Hospital

    hospital = Hospital.objects.create(slug="bench", name="基准医院", kind="hospital")
    departments = [
        Department.objects.create(hospital=hospital, name=f"科室{i}", slug=f"d{i}")
        for i in range(20)
    ]
    Doctor.objects.bulk_create(
        Doctor(
            hospital=hospital,
            department=departments[i % len(departments)],
            name=f"医生{i}",
            title="attending",
        )
        for i in range(doctors)
    )
    rules = []
    for doctor in Doctor.objects.all():
        for weekday in range(5):  # weekday mornings: 8 slots of 30 minutes
            rules.append((doctor, weekday, dt.time(8), dt.time(12), 1))
        for weekday in (0, 2, 4):  # three afternoons: 6 slots with a referral place
            rules.append((doctor, weekday, dt.time(14), dt.time(17), 1))
    ScheduleRule.objects.bulk_create(
        ScheduleRule(
            doctor=doctor,
            site=hospital,
            weekday=weekday,
            start_time=start,
            end_time=end,
            slot_minutes=30,
            public_places=3,
            referral_places=referral,
            fee=Decimal("25.00"),
            valid_from=dt.date(2020, 1, 1),
        )
        for doctor, weekday, start, end, referral in rules
    )


def empty_slots() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE appointments_slot RESTART IDENTITY CASCADE")


def timed(function):
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def run(doctors: int, days: int, repeats: int) -> dict:
    from appointments.models import Slot
    from appointments.services import slots_generate

    start = dt.date.today() + dt.timedelta(days=1)
    end = start + dt.timedelta(days=days - 1)
    build_city(doctors)

    generate, rerun, copy, orm = [], [], [], []
    created = 0
    for _repeat in range(repeats):
        empty_slots()
        seconds, created = timed(lambda: slots_generate(start=start, end=end))
        generate.append(seconds)
        seconds, again = timed(lambda: slots_generate(start=start, end=end))
        assert again == 0, "slots_generate is not idempotent"
        rerun.append(seconds)

        rows = list(Slot.objects.order_by("id").values_list(*COLUMNS))
        empty_slots()
        quoted = ", ".join(f'"{name}"' for name in COLUMNS)

        def copy_rows(rows=rows, quoted=quoted):
            sql = f"COPY appointments_slot ({quoted}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as pipe:
                for row in rows:
                    pipe.write_row(row)

        seconds, _ = timed(copy_rows)
        copy.append(seconds)
        empty_slots()
        objects = [Slot(**dict(zip(COLUMNS, row, strict=True))) for row in rows]
        seconds, _ = timed(lambda objects=objects: Slot.objects.bulk_create(objects, 2000))
        orm.append(seconds)

    empty_slots()
    tracemalloc.start()
    slots_generate(start=start, end=end)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = statistics.median
    return {
        "benchmark": "slots_generate",
        "database": f"PostgreSQL {connection.pg_version // 10000}",
        "doctors": doctors,
        "days": days,
        "repeats": repeats,
        "slots_created": created,
        "generate_seconds_median": round(median(generate), 3),
        "generate_slots_per_second": round(created / median(generate)),
        "idempotent_rerun_seconds_median": round(median(rerun), 3),
        "baseline_copy_seconds_median": round(median(copy), 3),
        "baseline_copy_rows_per_second": round(created / median(copy)),
        "orm_bulk_create_seconds_median": round(median(orm), 3),
        "orm_bulk_create_rows_per_second": round(created / median(orm)),
        "ratio_generate_to_copy": round(median(generate) / median(copy), 2),
        "ratio_generate_to_orm_bulk_create": round(median(generate) / median(orm), 2),
        "generate_seconds_all": [round(s, 3) for s in generate],
        "peak_python_allocations_mib_during_generate": round(peak / 2**20, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doctors", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark needs COPY).")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        result = run(arguments.doctors, arguments.days, arguments.repeats)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
