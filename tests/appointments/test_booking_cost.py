"""What a booking costs (issue 16 item 2): the statements of an in-person booking that converts
a hold, with its audit events, its care grant and its e-mail, SMS and inbox rows, counted with
savepoints; no template is rendered and no broker is called inside the transaction; the hold
and the confirmation page are as lean."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext

from appointments.services import appointment_book, hold_create
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from tests.appointments.conftest import open_slot, person

pytestmark = [
    pytest.mark.django_db,
    # The pinned counts are PostgreSQL's: the one-statement hold conversion and the fixed SQL
    # reads exist only there (on SQLite the ORM's querysets take more statements).
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement counts"),
]

# The booking's savepoint and its release; the slot locked and the hold converted in one
# statement; one read of the slot and every patient rule; the appointment, the care grant,
# both audit events (one INSERT) and the three outbox rows (one INSERT).
BOOKING_STATEMENTS = 8
# Savepoint, the account's live hold, the slot locked and read, the place taken, the hold,
# its audit event, release.
HOLD_STATEMENTS = 7
# The session, the account, its roles, the slot, referrals, the link, the hold renewed (with
# its savepoint), the inbox badge and the people the account books for (the form's select
# reads them once).
CONFIRM_PAGE_STATEMENTS = 15


@pytest.fixture
def warm():
    """A process that has held and booked once: content types are cached, as in a running
    server (without the hold, the hold's content type was read inside the measured hold
    whenever no earlier test in the same worker process had made one)."""
    patient, account = person()
    hold_create(slot=open_slot(), account=account)
    appointment_book(patient=patient, slot=open_slot(), booked_by=account)


@pytest.fixture
def rendered():
    seen: list[str] = []

    def record(sender, template, context, **kwargs):
        seen.append(template.name)

    template_rendered.connect(record)
    yield seen
    template_rendered.disconnect(record)


def test_a_booking_from_a_hold_costs_eight_statements_and_renders_nothing(
    warm, rendered, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    slot = open_slot(mode="in_person")
    patient, account = person()
    assert account.phone_verified
    hold = hold_create(slot=slot, account=account)
    render_to_string("messages/text/title.txt", {"title": "x"})  # the signal is wired
    assert rendered
    rendered.clear()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        django_assert_max_num_queries(BOOKING_STATEMENTS),
    ):
        appointment = appointment_book(patient=patient, slot=slot, booked_by=account, hold=hold)

    assert rendered == []  # nothing rendered inside the booking: the worker renders
    assert callbacks  # the drain and the live push wait for the commit
    rows = OutboxMessage.objects.filter(subject_id=str(appointment.pk))
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "inapp", "sms"]
    for row in rows:
        assert row.params["code"] == appointment.code and row.language
        assert row.title == "" and row.body == ""
    actions = set(
        AuditEvent.objects.filter(action__in=("appointment.book", "care_relationship.grant"))
        .filter(at__gte=appointment.created_at)
        .values_list("action", flat=True)
    )
    assert actions == {"appointment.book", "care_relationship.grant"}


def test_the_hold_is_as_lean(warm, django_assert_max_num_queries):
    slot = open_slot()
    _patient, account = person()
    with django_assert_max_num_queries(HOLD_STATEMENTS):
        hold_create(slot=slot, account=account)


def test_the_confirmation_page_get_is_as_lean(warm, client):
    slot = open_slot()
    _patient, account = person()
    client.force_login(account)
    client.get(f"/appointments/book/{slot.pk}/")  # the session and the hold exist
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/appointments/book/{slot.pk}/")
    assert response.status_code == 200
    assert len(queries) <= CONFIRM_PAGE_STATEMENTS


# The session, the account with its roles (portal/request_reads.py), the slot; the person (the
# form's choice); then the
# booking: its savepoint, the slot locked and read with every rule's facts, the account's live
# hold and the key (one statement), the place taken, the appointment, the care grant, the
# audit events, the outbox rows, the release. Nothing read twice, no hold or key looked up
# before the lock (issue 16).
CONFIRM_POST_STATEMENTS = 13


def test_the_booking_post_is_as_lean(warm, client):
    slot = open_slot()
    patient, account = person()
    client.force_login(account)
    client.get("/")  # the session exists
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/appointments/book/{slot.pk}/", {"patient": patient.pk, "key": "k" * 32}
        )
    assert response.status_code == 302, response.content[-2000:]
    assert len(queries) <= CONFIRM_POST_STATEMENTS, "\n".join(q["sql"][:120] for q in queries)
