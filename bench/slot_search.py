"""How fast the doctor page and search read slots with 100,000 and 1,000,000 of them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_booking_pages \
        .venv/bin/python bench/slot_search.py [--sizes 100000 1000000] [--repeats 200]

Everything happens in a scratch database (Django's test database, `test_<name>`), created and
migrated at the start and dropped at the end. For each size the slot table is emptied and
seeded through a bench-only fast path (PostgreSQL COPY of generated rows: 500 slots per doctor
over 50 days, a tenth of them already past, a third of the released ones full, a fifth online,
some closed), then ANALYZEd. Then it times, with random doctors and dates:

- the doctor page's grid query (`doctor_grid`: 14 days of one doctor's periods),
- search in four shapes (`search_doctors`: words; a date and the afternoon; online in one
  district; no filter at all), each two queries,
- the baseline: fetching one slot by primary key, the cheapest query the table answers,

and prints JSON with p50/p95 in milliseconds, the ratio of each p50 to the baseline, and the
plan of every query from `EXPLAIN (ANALYZE, BUFFERS)`, with the indexes it used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
    }


def explain(queryset) -> dict:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    text = "\n".join(plan)
    return {
        "indexes_used": sorted(
            set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", text))
            | set(re.findall(r"Bitmap Index Scan on (\w+)", text))
        ),
        "sequential_scans_of_slots": len(re.findall(r"Seq Scan on appointments_slot", text)),
        "plan": plan,
    }


def run_size(size: int, repeats: int, rng: random.Random) -> dict:
    from appointments.models import Slot
    from appointments.selectors import (
        SearchQuery,
        doctor_grid,
        doctors_matching,
        matching_slots,
        search_doctors,
    )
    from hospitals.models import Doctor

    doctors = build_city(size // SLOTS_PER_DOCTOR)
    began = time.perf_counter()
    seeded = seed_slots(doctors, rng)
    seed_seconds = time.perf_counter() - began
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
    result = {"slots": seeded, "doctors": len(doctors), "seed_seconds": round(seed_seconds, 1)}
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
    found = list(doctors_matching(query=afternoon, now=now)[:30])
    result["explain"] = {
        "doctor_page_grid": explain(grid_query),
        "search_doctors_words": explain(
            doctors_matching(query=SearchQuery(text="皮肤"), now=now)[:30]
        ),
        "search_doctors_date_and_afternoon": explain(
            doctors_matching(query=afternoon, now=now)[:30]
        ),
        "search_doctors_no_filter": explain(doctors_matching(query=SearchQuery(), now=now)[:30]),
        "search_periods_date_and_afternoon": explain(
            matching_slots(query=afternoon, now=now)
            .filter(doctor_id__in=[d.pk for d in found])
            .order_by("doctor_id", "start", "mode")
        ),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--plans", action="store_true", help="print whole plans, not summaries")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark seeds with COPY).")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rng = random.Random(arguments.seed)
    try:
        runs = [run_size(size, arguments.repeats, rng) for size in arguments.sizes]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    if not arguments.plans:
        for run in runs:
            for plan in run["explain"].values():
                plan["plan"] = [line for line in plan["plan"] if "Execution Time" in line]
    print(
        json.dumps(
            {
                "benchmark": "slot_search",
                "database": "PostgreSQL",
                "repeats": arguments.repeats,
                "runs": runs,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
