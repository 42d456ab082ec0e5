"""The rota and the slots it generates: verbs that change the time inventory. Each owns one
transaction and writes AuditEvents whose target is the doctor concerned, so the doctor's console
page shows the history."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments.models import Mode, ScheduleRule, Slot, Weekday
from appointments.selectors.rota import PlannedSlot, SlotPlan, slots_plan
from appointments.services.next_free import next_free_periods_refresh_later
from audit.services import audit_record
from hospitals.models import Doctor, Hospital

RULE_FIELDS = (
    "site",
    "weekday",
    "start_time",
    "end_time",
    "slot_minutes",
    "public_places",
    "referral_places",
    "mode",
    "fee",
    "valid_from",
    "valid_until",
)


def _rule_data(rule: ScheduleRule) -> dict[str, Any]:
    return {
        "rule_id": rule.pk,
        "site_id": rule.site_id,
        "weekday": rule.weekday,
        "start_time": rule.start_time.strftime("%H:%M"),
        "end_time": rule.end_time.strftime("%H:%M"),
        "slot_minutes": rule.slot_minutes,
        "public_places": rule.public_places,
        "referral_places": rule.referral_places,
        "mode": rule.mode,
        "fee": str(rule.fee),
        "valid_from": rule.valid_from.isoformat(),
        "valid_until": rule.valid_until.isoformat() if rule.valid_until else None,
    }


def _rule_validate(rule: ScheduleRule) -> None:
    """Refuse a rota line that cannot work or overlaps another line of the same doctor.

    The caller holds a lock on the doctor's row, so two admins cannot add overlapping lines at
    once."""
    errors: dict[str, list[str]] = {}
    if rule.start_time >= rule.end_time:
        errors.setdefault("end_time", []).append(_("The session must end after it starts."))
    elif not rule.slot_minutes or rule.slot_minutes < 5:
        errors.setdefault("slot_minutes", []).append(_("A slot lasts at least 5 minutes."))
    else:
        length = (
            dt.datetime.combine(dt.date.min, rule.end_time)
            - dt.datetime.combine(dt.date.min, rule.start_time)
        ).seconds // 60
        if length % rule.slot_minutes:
            errors.setdefault("slot_minutes", []).append(
                _(
                    "The session lasts %(length)d minutes, which is not a whole number of "
                    "%(slot)d-minute slots."
                )
                % {"length": length, "slot": rule.slot_minutes}
            )
    if rule.public_places + rule.referral_places < 1:
        errors.setdefault("public_places", []).append(
            _("A session needs at least one public or referral place.")
        )
    if rule.valid_until is not None and rule.valid_until < rule.valid_from:
        errors.setdefault("valid_until", []).append(
            _("The rota line must end on or after the day it starts.")
        )
    if rule.fee is None or rule.fee < Decimal(0):
        errors.setdefault("fee", []).append(_("The fee cannot be negative."))
    doctor = rule.doctor
    elsewhere = rule.site.pk != doctor.hospital_id
    if elsewhere and (rule.site.kind != Hospital.Kind.CLOUD or rule.mode != Mode.ONLINE):
        errors.setdefault("site", []).append(
            _(
                "A doctor holds sessions at their own hospital, or online sessions at the "
                "cloud hospital."
            )
        )
    if rule.mode == Mode.ONLINE and not doctor.offers_online:
        errors.setdefault("mode", []).append(_("This doctor does not offer online consults."))
    if rule.mode == Mode.REMOTE and (
        doctor.hospital.kind != Hospital.Kind.CLOUD or not doctor.offers_online
    ):
        errors.setdefault("mode", []).append(
            _("Remote consultations are held by the cloud hospital's doctors who consult online.")
        )
    if errors:
        raise ValidationError(errors)

    overlapping = (
        ScheduleRule.objects.filter(
            doctor=doctor,
            weekday=rule.weekday,
            start_time__lt=rule.end_time,
            end_time__gt=rule.start_time,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=rule.valid_from))
        .exclude(pk=rule.pk)
        .order_by("start_time")
    )
    if rule.valid_until is not None:
        overlapping = overlapping.filter(valid_from__lte=rule.valid_until)
    other = overlapping.first()
    if other is not None:
        raise ValidationError(
            _(
                "This session overlaps the doctor's %(weekday)s session %(start)s–%(end)s "
                "(from %(valid_from)s). Change the times or the dates, or edit that session."
            )
            % {
                "weekday": Weekday(other.weekday).label,
                "start": other.start_time.strftime("%H:%M"),
                "end": other.end_time.strftime("%H:%M"),
                "valid_from": other.valid_from.isoformat(),
            }
        )


def _lock_doctor(doctor: Doctor) -> Doctor:
    return (
        Doctor.objects.select_for_update(of=("self",)).select_related("hospital").get(pk=doctor.pk)
    )


def schedule_rule_create(
    *,
    doctor: Doctor,
    site: Hospital,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    slot_minutes: int,
    public_places: int,
    referral_places: int = 0,
    mode: str = Mode.IN_PERSON,
    fee: Decimal,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    by: Any,
) -> ScheduleRule:
    """Add a line to a doctor's weekly rota. Slots follow when the rota is published
    (`slots_generate`)."""
    with transaction.atomic():
        locked = _lock_doctor(doctor)
        rule = ScheduleRule(
            doctor=locked,
            site=site,
            weekday=weekday,
            start_time=start_time,
            end_time=end_time,
            slot_minutes=slot_minutes,
            public_places=public_places,
            referral_places=referral_places,
            mode=mode,
            fee=fee,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        _rule_validate(rule)
        rule.save()
        audit_record(actor=by, action="schedule_rule.create", target=locked, data=_rule_data(rule))
    return rule


def schedule_rule_update(*, rule: ScheduleRule, by: Any, **changes: Any) -> ScheduleRule:
    """Change a rota line. Existing slots change only when the rota is published, and booked
    ones never do."""
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"schedule_rule_update() got unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        locked = _lock_doctor(rule.doctor)
        current = ScheduleRule.objects.select_for_update().get(pk=rule.pk)
        before = _rule_data(current)
        for name, value in changes.items():
            setattr(current, name, value)
        current.doctor = locked
        _rule_validate(current)
        current.save()
        after = _rule_data(current)
        audit_record(
            actor=by,
            action="schedule_rule.update",
            target=locked,
            data={
                "rule_id": current.pk,
                "changes": {
                    name: [before[name], after[name]]
                    for name in after
                    if before.get(name) != after[name]
                },
            },
        )
    return current


def schedule_rule_delete(*, rule: ScheduleRule, by: Any) -> None:
    """Remove a rota line. Its unbooked future slots go at the next publish; booked ones stay
    and are reported as orphaned."""
    with transaction.atomic():
        locked = _lock_doctor(rule.doctor)
        data = _rule_data(rule)
        ScheduleRule.objects.filter(pk=rule.pk).delete()
        audit_record(actor=by, action="schedule_rule.delete", target=locked, data=data)


def slots_generate(
    *,
    start: dt.date,
    end: dt.date,
    doctors: Iterable[Doctor] | None = None,
    by: Any = None,
) -> int:
    """Bring the slots of local dates start..end (inclusive) in line with the rota; return how
    many slots were created. Running it again creates none.

    Unbooked future slots the rota no longer produces are deleted (nobody holds them; a closed
    slot is kept as the closure's record); slots with bookings are never deleted or moved but
    marked orphaned (`slots_orphaned`) so the console offers a Closure."""
    doctors = list(doctors) if doctors is not None else None
    now = timezone.now()
    with transaction.atomic():
        plan = slots_plan(start=start, end=end, doctors=doctors)
        deleted: Counter[int] = Counter()
        for chunk in _chunks(plan.to_delete, 2000):
            # The guard keeps a slot someone booked since the plan was read.
            unbooked = Slot.objects.filter(
                pk__in=chunk, booked=0, referral_booked=0, closed_at__isnull=True
            )
            deleted.update(unbooked.values_list("doctor_id", flat=True))
            unbooked.delete()
        for chunk in _chunks(plan.to_orphan, 2000):
            Slot.objects.filter(pk__in=chunk).update(orphaned_at=now)
        for chunk in _chunks(plan.to_restore, 2000):
            Slot.objects.filter(pk__in=chunk).update(orphaned_at=None)
        slots_insert(plan.to_create)
        next_free_periods_refresh_later(
            doctor_ids={p.doctor_id for p in plan.to_create} | set(deleted)
        )
        _audit_generation(plan=plan, deleted=deleted, start=start, end=end, by=by)
    return len(plan.to_create)


SLOT_INSERT_COLUMNS = (
    "doctor_id",
    "site_id",
    "department_id",
    "rule_id",
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
    "fee",
)


def slots_insert(planned: list[PlannedSlot]) -> None:
    """Insert planned slots, skipping any a concurrent run inserted first.

    The plan is a set difference, so what it returns is exact; the conflict clause only keeps
    a concurrent run from failing on the (doctor, start, mode) constraint. On PostgreSQL the
    rows go through COPY into a temporary table and one INSERT … ON CONFLICT DO NOTHING: the
    ORM's bulk_create spent most of its time building parameters (bench/slots_generate.py)."""
    if not planned:
        return
    if connection.vendor != "postgresql":
        Slot.objects.bulk_create(
            (Slot(booked=0, referral_booked=0, **_planned_fields(p)) for p in planned),
            batch_size=2000,
            ignore_conflicts=True,
        )
        return
    columns = ", ".join(f'"{name}"' for name in SLOT_INSERT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS slot_import")
        cursor.execute(
            f"CREATE TEMPORARY TABLE slot_import ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {columns} FROM appointments_slot WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY slot_import ({columns}) FROM STDIN") as copy:
            for p in planned:
                copy.write_row(
                    (
                        p.doctor_id,
                        p.site_id,
                        p.department_id,
                        p.rule_id,
                        p.start,
                        p.end,
                        p.mode,
                        p.capacity,
                        0,
                        p.referral_capacity,
                        0,
                        p.release_at,
                        p.referral_release_at,
                        p.referral_merge_at,
                        p.fee,
                    )
                )
        cursor.execute(
            f"INSERT INTO appointments_slot ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM slot_import ON CONFLICT DO NOTHING"
        )
        cursor.execute("DROP TABLE slot_import")


def _planned_fields(p: PlannedSlot) -> dict[str, Any]:
    return {
        name: getattr(p, name)
        for name in SLOT_INSERT_COLUMNS
        if name not in {"booked", "referral_booked"}
    }


def _audit_generation(
    *, plan: SlotPlan, deleted: Counter[int], start: dt.date, end: dt.date, by: Any
) -> None:
    """One event per doctor whose slots changed, on the doctor, with what changed."""
    touched: dict[int, dict[str, Any]] = {}
    for doctor_id, count in Counter(p.doctor_id for p in plan.to_create).items():
        touched.setdefault(doctor_id, {})["created"] = count
    for doctor_id, count in deleted.items():
        touched.setdefault(doctor_id, {})["removed_unbooked"] = count
    if plan.to_orphan:
        for slot in Slot.objects.filter(pk__in=plan.to_orphan).values("doctor_id", "id"):
            touched.setdefault(slot["doctor_id"], {}).setdefault("orphaned_slot_ids", []).append(
                slot["id"]
            )
    if not touched:
        return
    doctors = Doctor.objects.in_bulk(list(touched))
    for doctor_id, facts in sorted(touched.items()):
        audit_record(
            actor=by,
            action="slots.generate",
            target=doctors[doctor_id],
            data={"start": start.isoformat(), "end": end.isoformat(), **facts},
        )


def _chunks(items: list, size: int):
    for index in range(0, len(items), size):
        yield items[index : index + size]
