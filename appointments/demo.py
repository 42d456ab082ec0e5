"""Demo rotas for seed_demo: believable weekly sessions for whatever doctors exist.

Idempotent: a doctor who already has a rota is left alone, and slots_generate creates only
what is missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Mode, Slot
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
# The demo's cloud doctor (hospitals/demo.py) consults online every day, and `make run` gives
# them a period soon enough that its room opens within the first minutes (DEMO_SOON).
DEMO_CLOUD_DOCTOR = "doctor.cloud@demo.test"
DAILY_ONLINE = (dt.time(14), dt.time(16))
DEMO_SOON = dt.timedelta(minutes=5)
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
    demo_doctor = (
        Doctor.objects.filter(user__email=DEMO_CLOUD_DOCTOR, is_active=True)
        .select_related("hospital")
        .first()
    )
    if demo_doctor is not None:
        rules += online_every_day(demo_doctor, today=today)
        rules += online_period_soon(demo_doctor, now=timezone.now())
    slots = slots_generate(start=today, end=today + dt.timedelta(days=DEMO_DAYS - 1))
    return {"doctors": len(doctors), "rules_created": rules, "slots_created": slots}


def _online(doctor: Doctor, weekday: int, start: dt.time, end: dt.time, **extra) -> dict:
    return _session(
        doctor,
        doctor.hospital,
        weekday,
        start,
        end,
        mode=Mode.ONLINE,
        fee=ONLINE_FEE,
        slot_minutes=15,
        public_places=1,
        referral_places=0,
        **extra,
    )


def online_every_day(doctor: Doctor, *, today: dt.date) -> int:
    """An online afternoon on every weekday the doctor's standing rota leaves without one."""
    online_days = set(
        doctor.schedule_rules.filter(mode=Mode.ONLINE, valid_until=None).values_list(
            "weekday", flat=True
        )
    )
    added = 0
    for weekday in sorted(set(range(7)) - online_days):
        try:
            schedule_rule_create(
                **_online(doctor, weekday, *DAILY_ONLINE), valid_from=today, by=None
            )
        except ValidationError:  # the admin gave that day another session meanwhile
            continue
        added += 1
    return added


def online_period_soon(doctor: Doctor, *, now: dt.datetime) -> int:
    """A one-day rota line of two online periods starting at the first quarter hour at least
    DEMO_SOON from now, so the consult room (open 15 minutes before) opens in the first minutes
    after `make run`; none when such a free period exists already, or near midnight."""
    upcoming = Slot.objects.filter(
        doctor=doctor,
        mode=Mode.ONLINE,
        closed_at=None,
        start__gte=now + DEMO_SOON,
        start__lte=now + DEMO_SOON + dt.timedelta(minutes=15),
    )
    if any(slot.booked < slot.capacity for slot in upcoming):
        return 0
    local = (now + DEMO_SOON).astimezone(doctor.hospital.zone)
    start = local.replace(second=0, microsecond=0)
    if start < local:
        start += dt.timedelta(minutes=1)
    start += dt.timedelta(minutes=-start.minute % 15)
    end = start + dt.timedelta(minutes=30)
    if end.date() != start.date():
        return 0
    try:
        schedule_rule_create(
            **_online(doctor, start.weekday(), start.time(), end.time()),
            valid_from=start.date(),
            valid_until=start.date(),
            by=None,
        )
    except ValidationError:  # the standing rota already holds a session then
        return 0
    return 1
