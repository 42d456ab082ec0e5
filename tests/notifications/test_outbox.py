"""The outbox: rows are written in the caller's transaction, once per (subject, kind, recipient,
channel), and delivered at least once with a stable Message-ID; failures retry with backoff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from notifications import sms
from notifications.models import Notification, OutboxMessage
from notifications.services import notify, outbox_deliver_due
from notifications.services.delivery import MAX_ATTEMPTS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MESSAGE = {"title": "Your appointment is booked", "body": "Code K7M2Q9", "link": "/x/"}
ICS = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
# A real SMTP backend pointed at a port nothing listens on: every send is refused.
BROKEN_MAIL = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": 9,
    "EMAIL_TIMEOUT": 2,
}


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", phone="+8613812345678", phone_verified=True)


def test_notify_writes_one_row_per_channel_and_again_writes_nothing(bob):
    channels = ("email", "inapp", "sms")
    assert notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE, channels=channels)
    assert not notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE, channels=channels)

    rows = OutboxMessage.objects.order_by("channel")
    assert [(r.channel, r.address, r.state) for r in rows] == [
        ("email", "bob@example.com", "pending"),
        ("inapp", "", "pending"),
        ("sms", "+8613812345678", "pending"),
    ]
    assert len({r.message_id for r in rows}) == 3


def test_a_rolled_back_change_writes_no_message(bob):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE)
        raise RuntimeError("the booking failed")

    assert not OutboxMessage.objects.exists()
    assert outbox_deliver_due() == 0 and mail.outbox == []


def test_delivery_sends_each_channel_once_with_a_stable_message_id(bob):
    notify(
        account=bob,
        kind="t.booked",
        subject=bob,
        context=MESSAGE,
        channels=("email", "inapp", "sms"),
        ics=[("K7M2Q9.ics", ICS, "REQUEST")],
    )

    assert outbox_deliver_due() == 3
    assert outbox_deliver_due() == 0  # a second run finds nothing due

    [message] = mail.outbox
    row = OutboxMessage.objects.get(channel="email")
    assert message.extra_headers["Message-ID"] == row.message_id
    assert message.message()["Message-ID"] == row.message_id
    assert message.to == ["bob@example.com"] and message.subject == MESSAGE["title"]
    [(name, content, mimetype)] = message.attachments
    assert name == "K7M2Q9.ics" and "METHOD:REQUEST" in content
    assert mimetype.startswith("text/calendar; method=REQUEST")
    [text] = sms.outbox
    assert text.phone == "+8613812345678" and MESSAGE["title"] in text.text
    [inbox] = Notification.objects.all()
    assert (inbox.account, inbox.title, inbox.link, inbox.read_at) == (
        bob,
        MESSAGE["title"],
        "/x/",
        None,
    )
    assert set(OutboxMessage.objects.values_list("state", "attempts")) == {("sent", 1)}


def test_an_account_without_a_verified_phone_gets_no_text(db):
    carol = UserFactory(email="carol@example.com", phone="+8613900000000", phone_verified=False)
    notify(account=carol, kind="t.booked", subject=carol, context=MESSAGE, channels=("sms",))

    # Not even a pending or skipped row: the SMS channel writes only for a verified number.
    assert not OutboxMessage.objects.exists()
    assert outbox_deliver_due() == 0 and sms.outbox == []


def test_a_failed_send_waits_and_retries_then_goes_through(bob, caplog):
    notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE, channels=("email",))
    now = timezone.now()

    with override_settings(**BROKEN_MAIL):
        assert outbox_deliver_due(now=now) == 0
    row = OutboxMessage.objects.get()
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > now + dt.timedelta(seconds=10)
    assert "bob@example.com" not in caplog.text + row.last_error

    assert outbox_deliver_due(now=now + dt.timedelta(seconds=5)) == 0  # not due yet
    assert outbox_deliver_due(now=row.next_attempt_at) == 1
    row.refresh_from_db()
    assert row.state == "sent" and row.attempts == 2 and row.last_error == ""
    [message] = mail.outbox
    assert message.extra_headers["Message-ID"] == row.message_id


def test_a_message_that_keeps_failing_is_marked_failed(bob):
    notify(account=bob, kind="t.booked", subject=bob, context=MESSAGE, channels=("email",))
    moment = timezone.now()
    with override_settings(**BROKEN_MAIL):
        for _ in range(MAX_ATTEMPTS + 2):
            outbox_deliver_due(now=moment)
            moment += dt.timedelta(days=1)

    row = OutboxMessage.objects.get()
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS


def test_a_batch_takes_only_its_share(bob):
    for n in range(5):
        notify(account=bob, kind=f"t.{n}", subject=bob, context=MESSAGE, channels=("inapp",))

    assert outbox_deliver_due(batch=2) == 2
    assert outbox_deliver_due(batch=2) == 2
    assert outbox_deliver_due(batch=2) == 1
    assert Notification.objects.filter(account=bob).count() == 5


def test_a_message_still_unsent_when_it_has_become_pointless_is_skipped(bob):
    now = timezone.now()
    notify(
        account=bob,
        kind="reminder.2h",
        subject=bob,
        context=MESSAGE,
        channels=("email",),
        expires_at=now + dt.timedelta(hours=2),
    )

    assert outbox_deliver_due(now=now + dt.timedelta(hours=3)) == 0
    row = OutboxMessage.objects.get()
    assert row.state == "skipped" and mail.outbox == []


def test_the_drain_is_queued_by_the_name_of_a_task_the_worker_knows():
    # services queues the task by name (tasks imports services, not the other way round): the
    # name must stay the registered task's.
    from celery import current_app

    from notifications.drain import DELIVER_OUTBOX_TASK
    from notifications.tasks import deliver_outbox

    assert deliver_outbox.name == DELIVER_OUTBOX_TASK
    assert DELIVER_OUTBOX_TASK in current_app.tasks


@override_settings(OUTBOX_DRAIN_ON_COMMIT=True)
def test_the_drain_asked_for_after_commit_reaches_the_broker():
    from celery import current_app

    from notifications.drain import DELIVER_OUTBOX_TASK, enqueue_drain

    conf = current_app.conf
    healthy = conf.broker_url
    conf.broker_url = "memory://"  # kombu's in-process broker
    try:
        with current_app.connection_for_read() as connection:
            queue = connection.SimpleQueue(conf.task_default_queue)
            enqueue_drain()
            message = queue.get(timeout=5)
            message.ack()
            queue.close()
    finally:
        conf.broker_url = healthy

    assert message.headers["task"] == DELIVER_OUTBOX_TASK


# --- Address-only recipients and secrets (an invitation to someone who may have no account) ---

SECRET = {"title": "Set your password", "body": "One-time link: /reset/key/3-abc123/"}


def test_an_email_to_an_address_without_an_account_is_delivered_once(bob):
    for _ in range(2):
        notify(
            account=None,
            address="new.person@example.com",
            kind="t.invited",
            subject=bob,
            context=MESSAGE,
            channels=("email",),
        )

    row = OutboxMessage.objects.get()
    assert (row.account, row.address, row.state) == (None, "new.person@example.com", "pending")
    assert outbox_deliver_due() == 1
    assert [m.to for m in mail.outbox] == [["new.person@example.com"]]
    assert not Notification.objects.exists()


def test_without_an_account_only_an_email_to_an_address_can_be_written(bob):
    for channels, address in ((("email",), ""), (("email", "inapp"), "x@example.com")):
        with pytest.raises(ValueError, match="Without an account"):
            notify(
                account=None,
                address=address,
                kind="t",
                subject=bob,
                context=MESSAGE,
                channels=channels,
            )
    with pytest.raises(ValueError, match="secret"):
        notify(account=bob, kind="t", subject=bob, context=SECRET, channels=("inapp",), secret=True)
    assert not OutboxMessage.objects.exists()


def test_a_secret_is_sent_then_blanked_in_the_outbox_while_other_messages_keep_their_text(bob):
    notify(
        account=bob, kind="t.secret", subject=bob, context=SECRET, channels=("email",), secret=True
    )
    notify(account=bob, kind="t.plain", subject=bob, context=MESSAGE, channels=("email",))
    # The text is kept until it is sent.
    assert OutboxMessage.objects.get(kind="t.secret").params["text"]["body"] == SECRET["body"]

    assert outbox_deliver_due() == 2

    assert any(SECRET["body"] in m.body for m in mail.outbox)
    secret, plain = (
        OutboxMessage.objects.get(kind="t.secret"),
        OutboxMessage.objects.get(kind="t.plain"),
    )
    assert (secret.state, secret.params, secret.body) == ("sent", {}, "")
    assert (plain.state, plain.params["text"]["body"]) == ("sent", MESSAGE["body"])


def test_a_secret_that_fails_for_good_or_expires_or_has_no_address_is_blanked_too(bob, db):
    moment = timezone.now()
    no_phone = UserFactory(phone="")
    notify(
        account=bob, kind="t.fails", subject=bob, context=SECRET, channels=("email",), secret=True
    )
    notify(
        account=bob,
        kind="t.expires",
        subject=bob,
        context=SECRET,
        channels=("email",),
        secret=True,
        expires_at=moment + dt.timedelta(seconds=1),
    )
    notify(
        account=no_phone,
        kind="t.nowhere",
        subject=bob,
        context=SECRET,
        channels=("sms",),
        secret=True,
    )

    with override_settings(**BROKEN_MAIL):
        for _ in range(MAX_ATTEMPTS + 1):
            moment += dt.timedelta(days=1)
            outbox_deliver_due(now=moment)

    rows = {row.kind: row for row in OutboxMessage.objects.all()}
    assert [(k, rows[k].state, rows[k].params) for k in ("t.expires", "t.fails")] == [
        ("t.expires", "skipped", {}),
        ("t.fails", "failed", {}),
    ]
    assert "t.nowhere" not in rows  # no number: no text message row at all


@override_settings(OUTBOX_DRAIN_ON_COMMIT=True, OUTBOX_DRAIN_COALESCE_SECONDS=60)
def test_a_rush_of_commits_asks_for_one_drain_now_and_one_at_the_end_of_the_window(
    monkeypatch,
):
    """Issue 16: a drain delivers every due row, so hundreds of commits a second need not each
    reach the broker; the commits after the first ask are covered by one drain queued for the
    end of the window."""
    from celery import current_app

    from notifications import drain

    monkeypatch.setattr(drain._DrainAsks, "asked_at", -float("inf"))
    monkeypatch.setattr(drain._DrainAsks, "trailing", False)
    conf = current_app.conf
    healthy = conf.broker_url
    conf.broker_url = "memory://"
    try:
        with current_app.connection_for_read() as connection:
            queue = connection.SimpleQueue(conf.task_default_queue)
            for _ in range(50):
                drain.enqueue_drain()
            asked = []
            while True:
                try:
                    message = queue.get(timeout=1)
                except queue.Empty:
                    break
                asked.append(message.headers)
                message.ack()
            queue.close()
    finally:
        conf.broker_url = healthy

    assert [headers["task"] for headers in asked] == [drain.DELIVER_OUTBOX_TASK] * 2
    assert asked[0]["eta"] is None and asked[1]["eta"] is not None


def test_drain_asks_share_one_broker_connection_and_a_failed_one_is_opened_again(redis_url):
    """Issue 16: opening a broker connection cost an ask 10-12 ms of a web worker's CPU. The
    asks of a process go over one kept connection (the same Redis client serves every ask);
    after a broker that could not be reached, the next ask connects afresh."""
    import redis
    from celery import current_app

    from notifications import drain

    server = redis.Redis.from_url(redis_url)
    database = f"{redis_url.rsplit('/', 1)[0]}/13"  # no other test's database

    def clients_on_it() -> set[str]:
        return {c["id"] for c in server.client_list() if c["db"] == "13"}

    queue = current_app.conf.task_default_queue
    conf = current_app.conf
    healthy = conf.broker_url
    drain._Broker.drop()
    try:
        conf.broker_url = database
        seen = set()
        for _ in range(10):
            drain._ask(None)
            seen |= clients_on_it()
        waiting = redis.Redis.from_url(database).llen(queue)

        conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there
        drain._ask(None)  # logged, not raised: the beat drains
        conf.broker_url = database
        drain._ask(None)
        after_outage = redis.Redis.from_url(database).llen(queue)
    finally:
        conf.broker_url = healthy
        drain._Broker.drop()
        redis.Redis.from_url(database).delete(queue)

    assert waiting == 10
    assert 1 <= len(seen) <= 2  # kept open between asks: kombu's connection (and its channel's)
    assert after_outage == 11
