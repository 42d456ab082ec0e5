"""The audit trail: who did what to which object for whom, and nobody rewrites it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from audit.models import AuditEvent
from audit.selectors import audit_events_for
from audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_record_keeps_actor_action_target_and_details(alice):
    bob = UserFactory(email="bob@example.com")

    event = audit_record(
        actor=alice, action="account.example", target=bob, data={"from": "a", "to": "b"}
    )

    assert event.actor == alice
    assert event.actor_label == "alice@example.com"
    assert event.target == bob
    assert event.result == AuditEvent.Result.SUCCESS
    assert list(audit_events_for(target=bob)) == [event]
    assert list(audit_events_for(target=alice)) == []


def test_system_actions_are_labelled_system(alice):
    event = audit_record(actor=None, action="slot.generate", target=alice)

    assert event.actor is None
    assert event.actor_label == "system"


def test_an_audit_event_cannot_be_changed_or_deleted_through_the_orm(alice):
    event = audit_record(actor=alice, action="account.example")

    event.action = "account.rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_postgresql_refuses_raw_updates_and_deletes_but_erasing_the_actor_keeps_the_line(alice):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    event = audit_record(actor=alice, action="account.example")

    for statement in (
        "UPDATE audit_auditevent SET action = 'rewritten' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event.pk])

    alice.delete()

    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor is None
    assert kept.actor_label == "alice@example.com"
