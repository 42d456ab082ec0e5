"""Demo rotas for seed_demo: believable weekly sessions for whatever doctors exist.

Idempotent: a doctor who already has a rota is left alone, and slots_generate creates only
what is missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from appointments.models import Mode
from appointments.services.rota import schedule_rule_create, slots_generate
from hospitals.models import Doctor, Hospital

DEMO_DAYS = 14
SPECIALISTS = {Doctor.Title.CHIEF, Doctor.Title.ASSOCIATE_CHIEF}
FEES = {
    Doctor.Title.CHIEF: Decimal("50.00"),
    Doctor.Title.ASSOCIATE_CHIEF: Decimal("35.00"),
    Doctor.Title.ATTENDING: Decimal("20.00"),
    Doctor.Title.RESIDENT: Decimal("12.00"),
}
ONLINE_FEE = Decimal("30.00")
# Which weekdays hold the morning clinic; the other weekdays hold the afternoon one.
MORNING_PATTERNS = ((0, 2, 4), (1, 3), (0, 1, 3), (2, 4))


def _session(doctor: Doctor, site: Hospital, weekday: int, start: dt.time, end: dt.time, **extra):
    return {
        "doctor": doctor,
        "site": site,
        "weekday": weekday,
        "start_time": start,
        "end_time": end,
        **extra,
    }


def demo_sessions(doctor: Doctor, index: int, cloud: Hospital | None) -> list[dict]:
    """The weekly sessions of the index-th doctor (deterministic, so reruns agree)."""
    own = doctor.hospital
    specialist = doctor.title in SPECIALISTS
    fee = FEES.get(doctor.title, Decimal("20.00"))
    if own.kind == Hospital.Kind.CLOUD:
        mode = Mode.ONLINE if doctor.offers_online else Mode.IN_PERSON
        places = {"slot_minutes": 15, "public_places": 1, "referral_places": 0}
        return [
            _session(
                doctor, own, day, dt.time(9), dt.time(11, 30), mode=mode, fee=ONLINE_FEE, **places
            )
            for day in ((0, 2, 4) if index % 2 else (1, 3, 5))
        ] + [
            _session(
                doctor,
                own,
                (index % 5),
                dt.time(19),
                dt.time(21),
                mode=mode,
                fee=ONLINE_FEE,
                **places,
            )
        ]
    clinic = own.kind == Hospital.Kind.CLINIC
    public = 2 if clinic or specialist else 3
    places = {
        "slot_minutes": 30,
        "public_places": public,
        "referral_places": 1 if specialist else 0,
        "mode": Mode.IN_PERSON,
        "fee": fee,
    }
    mornings = MORNING_PATTERNS[index % len(MORNING_PATTERNS)]
    sessions = [
        _session(doctor, own, day, dt.time(8), dt.time(11, 30), **places) for day in mornings
    ] + [
        _session(doctor, own, day, dt.time(13, 30), dt.time(16, 30), **places)
        for day in range(5)
        if day not in mornings
    ]
    if index % 3 == 0:  # an evening clinic for people who work
        sessions.append(_session(doctor, own, mornings[0], dt.time(18), dt.time(20), **places))
    if clinic and index % 2 == 0:  # community clinics open on Saturday mornings
        sessions.append(_session(doctor, own, 5, dt.time(8), dt.time(11), **places))
    if cloud is not None and doctor.offers_online:
        online = {"slot_minutes": 15, "public_places": 1, "referral_places": 0}
        sessions.append(
            _session(
                doctor,
                cloud,
                6 if index % 2 else 5,
                dt.time(14),
                dt.time(16),
                mode=Mode.ONLINE,
                fee=ONLINE_FEE,
                **online,
            )
        )
    return sessions


def seed_rotas_and_slots() -> dict:
    """Give every active doctor without a rota a week of sessions, then publish two weeks."""
    today = timezone.localdate()
    cloud = Hospital.objects.filter(kind=Hospital.Kind.CLOUD, is_active=True).order_by("pk").first()
    doctors = list(
        Doctor.objects.filter(is_active=True, hospital__is_active=True)
        .select_related("hospital")
        .order_by("pk")
    )
    rostered = set(Doctor.objects.filter(schedule_rules__isnull=False).values_list("pk", flat=True))
    rules = 0
    for index, doctor in enumerate(doctors):
        if doctor.pk in rostered:
            continue
        for session in demo_sessions(doctor, index, cloud):
            schedule_rule_create(**session, valid_from=today, by=None)
            rules += 1
    slots = slots_generate(start=today, end=today + dt.timedelta(days=DEMO_DAYS - 1))
    return {"doctors": len(doctors), "rules_created": rules, "slots_created": slots}
