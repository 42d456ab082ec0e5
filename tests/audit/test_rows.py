"""`audit.rows.rows_insert` (issue 16) writes the rows `bulk_create` writes: the same values in
every column, the keys set on the instances, a conflict skipped when asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from appointments.models import Appointment
from audit.models import AuditEvent
from audit.rows import rows_insert
from notifications.models import OutboxMessage
from records.models import CareRelationship
from tests.factories import AppointmentFactory, PatientFactory, SlotFactory, UserFactory

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(microsecond=123456)


def columns(obj, skip=()) -> dict:
    row = type(obj).objects.filter(pk=obj.pk).values().get()
    return {k: v for k, v in row.items() if k != "id" and k not in skip}


def both(model, make, skip=()):
    mine, theirs = make(), make()
    assert rows_insert(model, [mine]) == [mine]
    model.objects.bulk_create([theirs])
    assert mine.pk is not None and not mine._state.adding
    assert columns(mine, skip) == columns(theirs, skip)
    return mine


def test_an_audit_event_with_json_an_address_and_content_types():
    user, patient = UserFactory(), PatientFactory()

    def make():
        return AuditEvent(
            at=AT,
            actor=user,
            actor_label="张伟",
            action="appointment.book",
            target_type=ContentType.objects.get_for_model(Appointment),
            target_id="17",
            on_behalf_type=ContentType.objects.get_for_model(patient),
            on_behalf_id=str(patient.pk),
            data={"slot": 3, "fee": "25.00", "名字": ["a", None, 1.5]},
            ip_address="2001:db8::1",
            request_id="r-1",
        )

    both(AuditEvent, make)


def test_outbox_rows_many_at_once_and_a_conflict_skipped():
    user = UserFactory()
    kind = ContentType.objects.get_for_model(Appointment)

    def make(channel="email", subject="9"):
        return OutboxMessage(
            channel=channel,
            account=user,
            kind="appointment.booked",
            subject_type=kind,
            subject_id=subject,
            language="zh-hans",
            params={"code": "A1B2", "start_at": AT.isoformat(), "files": [{"name": "a.ics"}]},
            expires_at=AT + dt.timedelta(days=1),
        )

    # Defaults of the moment, and the subject that keeps the two rows apart.
    volatile = {"message_id", "created_at", "next_attempt_at", "subject_id"}
    subjects = iter(["1", "2"])
    both(OutboxMessage, lambda: make(subject=next(subjects)), skip=volatile)
    three = [make(channel) for channel in ("email", "sms", "inapp")]
    rows_insert(OutboxMessage, three, ignore_conflicts=True)
    again = [make("sms"), make("email", subject="10")]
    rows_insert(OutboxMessage, again, ignore_conflicts=True)
    assert OutboxMessage.objects.filter(subject_id="9").count() == 3
    assert OutboxMessage.objects.filter(subject_id="10").count() == 1


def test_a_care_grant_and_an_appointment():
    user, patient = UserFactory(), PatientFactory()
    source = AppointmentFactory()

    def grant():
        return CareRelationship(
            patient=patient,
            user=user,
            reason="booking",
            starts_at=AT,
            ends_at=AT + dt.timedelta(days=3),
            source_type=ContentType.objects.get_for_model(source),
            source_id=str(source.pk),
            source_label="A1",
        )

    both(CareRelationship, grant, skip={"created_at"})
    slot = SlotFactory(fee=Decimal("25.50"))
    codes = iter(["CODE0001", "CODE0002"])
    people = iter([patient, PatientFactory()])

    def appointment():
        return Appointment(
            code=next(codes),
            patient=next(people),
            slot=slot,
            booked_by=user,
            pool="public",
            visit_reason="咳嗽",
            idempotency_key="",
            cap_account=user,
            booked_phone="+8613900000001",
            created_at=AT,
        )

    mine = both(Appointment, appointment, skip={"code", "patient_id"})
    assert model_to_dict(Appointment.objects.get(pk=mine.pk))["visit_reason"] == "咳嗽"


def test_a_conflict_not_ignored_fails_and_writes_nothing():
    appointment = AppointmentFactory()
    clash = Appointment(
        code=appointment.code, patient=appointment.patient, slot=appointment.slot, pool="public"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Appointment, [clash])
    assert Appointment.objects.filter(code=appointment.code).count() == 1
    assert connection.vendor in ("postgresql", "sqlite")
