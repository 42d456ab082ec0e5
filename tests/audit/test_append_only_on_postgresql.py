"""The database itself keeps the trail: ORM paths that skip the model's save() and delete()
(queryset update and delete, bulk_update) hit the PostgreSQL trigger and change nothing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from audit.context import audit_context
from audit.models import AuditEvent
from audit.services import audit_record
from tests.conftest import IN_CI

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI runs the audit trigger tests on PostgreSQL")
        pytest.skip("the append-only trigger exists on PostgreSQL only")


def test_queryset_update_delete_and_bulk_update_are_refused(postgresql, alice):
    event = audit_record(actor=alice, action="record.read", data={"section": "notes"})
    attempts = {
        "update": lambda: AuditEvent.objects.filter(pk=event.pk).update(action="record.nothing"),
        "update data": lambda: AuditEvent.objects.filter(pk=event.pk).update(data={}),
        "delete": lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        "delete all": lambda: AuditEvent.objects.all().delete(),
        "bulk_update": lambda: AuditEvent.objects.bulk_update(
            [AuditEvent(pk=event.pk, action="record.nothing")], ["action"]
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
        kept = AuditEvent.objects.get(pk=event.pk)
        assert (kept.action, kept.data) == ("record.read", {"section": "notes"}), name


def test_raw_sql_cannot_move_the_time_or_blank_the_actor_label(postgresql, alice):
    event = audit_record(actor=alice, action="record.read")

    for statement in (
        "UPDATE audit_auditevent SET at = at - interval '1 day' WHERE id = %s",
        "UPDATE audit_auditevent SET actor_label = '', actor_id = NULL WHERE id = %s",
        "UPDATE audit_auditevent SET result = 'denied' WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])

    kept = AuditEvent.objects.get(pk=event.pk)
    assert (kept.at, kept.actor_label, kept.result) == (event.at, alice.email, "success")


def test_the_trigger_is_installed_for_update_and_delete(postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_manipulation FROM information_schema.triggers "
            "WHERE event_object_table = 'audit_auditevent' AND action_timing = 'BEFORE'"
        )
        events = {row[0] for row in cursor.fetchall()}

    assert events == {"UPDATE", "DELETE"}


def test_erasing_the_actor_cannot_rewrite_the_request_id_on_the_way(postgresql, alice):
    with audit_context(request_id="request-1"):
        event = audit_record(actor=alice, action="record.read")

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditevent SET request_id = 'request-2', actor_id = NULL WHERE id = %s",
            [event.pk],
        )

    assert AuditEvent.objects.get(pk=event.pk).request_id == "request-1"
