"""`audit.rows.rows_insert` (issue 16) writes the rows `bulk_create` writes: the same values in
every column, the keys set on the instances, a conflict skipped when asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from audit.models import AuditEvent
from audit.rows import FEW_ROWS, rows_insert
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


def both_batch(model, make, skip, count):
    """`make(n, side)` for n in range(count) written by rows_insert (side 0) and by
    bulk_create (side 1): the same columns row by row, each key back on its instance."""
    mine = [make(n, 0) for n in range(count)]
    theirs = [make(n, 1) for n in range(count)]
    with CaptureQueriesContext(connection) as seen:
        assert rows_insert(model, mine) == mine
    (insert,) = seen.captured_queries
    assert "jsonb_populate_recordset" in insert["sql"]  # one parameter, not a VALUES list
    model.objects.bulk_create(theirs)
    assert len({one.pk for one in mine}) == count
    for one, other in zip(mine, theirs, strict=True):
        assert not one._state.adding
        assert columns(one, skip) == columns(other, skip)


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


@pytest.mark.parametrize("count", [FEW_ROWS + 1, 40])
def test_a_batch_writes_what_bulk_create_writes(count):
    """The reminders' batches, sent as one JSON document: JSON fields, timestamps, addresses,
    Chinese, empty and missing values, each row's key back on its instance in order."""
    user = UserFactory()
    kind = ContentType.objects.get_for_model(Appointment)

    def outbox(n, side):
        return OutboxMessage(
            channel=("email", "sms", "inapp")[n % 3],
            account=user if n % 2 else None,
            address="" if n % 2 else f"p{n}@example.com",
            body=f"第{n}号 reminder\nline two",
            secret=bool(n % 3),
            kind="appointment.reminder",
            subject_type=kind,
            subject_id=f"{side}-{n}",
            language="zh-hans",
            params={"code": f"C{n}", "start_at": AT.isoformat(), "名字": "张伟", "n": [n, None]},
            expires_at=AT + dt.timedelta(hours=n) if n % 4 else None,
        )

    volatile = {"message_id", "created_at", "next_attempt_at", "subject_id"}
    both_batch(OutboxMessage, outbox, volatile, count)

    def event(n, side):
        return AuditEvent(
            at=AT + dt.timedelta(seconds=n),
            actor=user if n % 2 else None,
            action="appointment.remind",
            target_type=kind,
            target_id=str(n),
            data={"slot": n, "note": "提醒", "nested": {"ok": True}},
            ip_address="2001:db8::1" if n % 2 else None,
            request_id=f"r-{n}",
        )

    both_batch(AuditEvent, event, set(), count)


def test_a_value_not_of_its_columns_type_is_converted_as_the_orm_converts_it():
    """Values of the column's own type are sent as they are; any other (a number in a text
    column, a translated text still lazy, a number as text in a key) takes the field's own
    conversion, as `bulk_create` does."""
    from django.utils.translation import gettext_lazy

    user = UserFactory()
    kind = ContentType.objects.get_for_model(Appointment)
    subjects = iter([41, 42])

    def make():
        return OutboxMessage(
            channel="inapp",
            account_id=str(user.pk),
            kind="t.mixed",
            subject_type=kind,
            subject_id=next(subjects),
            language="en",
            title=gettext_lazy("Booked"),
            params={},
        )

    mine = both(
        OutboxMessage, make, skip={"message_id", "created_at", "next_attempt_at", "subject_id"}
    )
    row = columns(mine)
    assert (row["subject_id"], row["title"], row["account_id"]) == ("41", "Booked", user.pk)


def test_each_value_sent_is_what_the_field_itself_prepares():
    """The short way for values of their column's own type sends exactly what the ORM would,
    down to the integer's parameter type (psycopg's Int2/Int4 on PostgreSQL)."""
    from audit.rows import insert_values

    appointment = AppointmentFactory(sequence=2, visit_reason="咳嗽")
    user = UserFactory()
    rows = [
        appointment,
        OutboxMessage(
            channel="sms",
            account=user,
            kind="appointment.booked",
            subject_type=ContentType.objects.get_for_model(Appointment),
            subject_id=str(appointment.pk),
            language="zh-hans",
            params={"code": appointment.code},
            attempts=3,
        ),
        AuditEvent(actor=user, action="appointment.book", data={"slot": 1}),
    ]
    for obj in rows:
        fields = [f for f in obj._meta.concrete_fields if not f.primary_key]
        expected = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        sent = insert_values(obj)
        assert [(type(v), repr(v)) for v in sent] == [(type(v), repr(v)) for v in expected]
