"""Delivery holds no transaction while it renders and sends (an SMTP server or an SMS provider
may take seconds): a batch is leased in a short transaction, sent, then marked. A worker that
dies mid-batch leaves its rows to the next run once the lease is over, same Message-ID."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications.models import OutboxMessage
from notifications.services import notify, outbox_deliver_due
from notifications.services.delivery import CLAIM_LEASE
from tests.factories import UserFactory

MESSAGE = {"title": "Your appointment is booked", "body": "Code K7M2Q9", "link": "/x/"}
seen: list[tuple[bool, list[str]]] = []


class WatchingBackend(EmailBackend):
    """The locmem backend, noting for each message whether a transaction was open and the
    states of the outbox rows (all still pending: marked sent only after the batch)."""

    def send_messages(self, messages):
        seen.append(
            (
                connection.in_atomic_block,
                list(OutboxMessage.objects.values_list("state", flat=True)),
            )
        )
        return super().send_messages(messages)


class DyingBackend(EmailBackend):
    def send_messages(self, messages):
        raise SystemExit("the worker was killed mid-batch")


@pytest.fixture
def bob(transactional_db):
    return UserFactory(email="bob@example.com")


@override_settings(EMAIL_BACKEND=f"{__name__}.WatchingBackend")
def test_messages_are_sent_with_no_transaction_open(bob):
    seen.clear()
    for n in range(3):
        notify(account=bob, kind=f"t.{n}", subject=bob, context=MESSAGE, channels=("email",))

    assert outbox_deliver_due() == 3

    assert [in_transaction for in_transaction, _states in seen] == [False, False, False]
    assert all(states == ["pending"] * 3 for _in_transaction, states in seen)
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_rows_of_a_worker_killed_mid_batch_wait_for_the_lease_then_go_once(bob):
    notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE, channels=("email",))
    now = timezone.now()

    with override_settings(EMAIL_BACKEND=f"{__name__}.DyingBackend"), pytest.raises(SystemExit):
        outbox_deliver_due(now=now)

    row = OutboxMessage.objects.get()
    assert row.state == "pending" and row.attempts == 0
    # Another worker, while the lease lasts, leaves the row alone...
    assert outbox_deliver_due(now=now + CLAIM_LEASE - dt.timedelta(seconds=1)) == 0
    assert mail.outbox == []
    # ...and sends it once the lease is over, with the row's own Message-ID.
    assert outbox_deliver_due(now=now + CLAIM_LEASE) == 1
    [message] = mail.outbox
    row.refresh_from_db()
    assert message.extra_headers["Message-ID"] == row.message_id
    assert (row.state, row.attempts) == ("sent", 1)
