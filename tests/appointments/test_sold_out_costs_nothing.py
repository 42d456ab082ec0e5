"""Issue 16: a request for a sold-out period (most requests of a release rush) is answered from
the slot's row as read, with no row lock and no write, and still offers the waiting list; hold
creation is limited per account and per address."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.errors import TooManyHolds
from appointments.models import Appointment, Hold
from appointments.selectors.sold_out import slot_sold_out_refusal
from appointments.services import hold_create
from tests.appointments.conftest import open_slot, person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRITES = re.compile(r"\b(UPDATE|INSERT|DELETE)\b|FOR (NO KEY )?UPDATE|SAVEPOINT", re.IGNORECASE)


def signed_in(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def sold_out_slot():
    slot = open_slot(capacity=1)
    holder = UserFactory()
    hold_create(slot=slot, account=holder)
    return slot


def written(queries) -> list[str]:
    return [q["sql"] for q in queries if WRITES.search(q["sql"])]


def test_a_sold_out_post_takes_no_lock_writes_nothing_and_offers_the_waiting_list(client, alice):
    me, _ = person(alice)
    slot = sold_out_slot()
    signed_in(client, alice).get("/appointments/")  # the session's first touch is written here

    with CaptureQueriesContext(connection) as seen:
        page = client.post(
            f"/appointments/book/{slot.pk}/", {"patient": me.pk, "key": "k1", "reason": ""}
        )

    assert page.status_code == 200
    body = page.content.decode()
    assert "This time is fully booked" in body
    assert "Join the waiting list" in body
    assert written(seen.captured_queries) == []
    assert not Appointment.objects.filter(slot=slot).exists()


# The session; the account with its roles (portal/request_reads.py); the slot; one read of the
# account's live hold, what this form's key booked and the people for the waiting-list offer
# (selectors.sold_out); the inbox badge. On SQLite the ORM reads the asker's three
# facts apart. No referral is read when the form names none, and the answer is the refusal and
# the offer, not the booking form. Nothing locked, nothing written (above).
SOLD_OUT_POST_STATEMENTS = 5 if connection.vendor == "postgresql" else 7


def test_a_sold_out_post_is_answered_in_a_fixed_handful_of_reads(client, alice):
    me, _ = person(alice)
    slot = sold_out_slot()
    signed_in(client, alice).get("/appointments/")

    with CaptureQueriesContext(connection) as seen:
        page = client.post(
            f"/appointments/book/{slot.pk}/", {"patient": me.pk, "key": "k2", "reason": ""}
        )

    assert page.status_code == 200 and "Join the waiting list" in page.content.decode()
    assert len(seen.captured_queries) <= SOLD_OUT_POST_STATEMENTS, [
        q["sql"][:120] for q in seen.captured_queries
    ]


def test_the_sold_out_answer_is_the_refusal_and_the_offer_for_every_person(client, alice):
    me, _ = person(alice)
    child, _ = person(alice, relationship="child", name="小明")
    slot = sold_out_slot()
    signed_in(client, alice)

    page = client.post(
        f"/appointments/book/{slot.pk}/", {"patient": me.pk, "key": "k3", "reason": ""}
    ).content.decode()

    assert "This time is fully booked" in page
    assert f'<option value="{me.pk}"' in page and f'<option value="{child.pk}"' in page
    assert f"/appointments/book/{slot.pk}/waitlist/" in page
    assert "Book this time" not in page  # no booking form for a period with no place
    assert slot.doctor.display_name in page  # which period was refused


def test_a_sold_out_confirmation_page_takes_no_lock_and_writes_nothing(client, alice):
    person(alice)
    slot = sold_out_slot()
    signed_in(client, alice).get("/appointments/")

    with CaptureQueriesContext(connection) as seen:
        page = client.get(f"/appointments/book/{slot.pk}/")

    assert page.status_code == 200
    assert "Join the waiting list" in page.content.decode()
    assert written(seen.captured_queries) == []
    assert not Hold.objects.filter(account=alice).exists()


def test_a_period_not_released_yet_is_refused_from_the_read_too(client, alice):
    person(alice)
    slot = open_slot(capacity=3, release_at=timezone.now() + timezone.timedelta(hours=1))
    signed_in(client, alice).get("/appointments/")

    with CaptureQueriesContext(connection) as seen:
        page = client.get(f"/appointments/book/{slot.pk}/")

    assert "opens for booking at" in page.content.decode()
    assert written(seen.captured_queries) == []


def test_reopening_the_page_of_the_last_place_one_holds_renews_the_hold(client, alice):
    person(alice)
    slot = open_slot(capacity=1)
    signed_in(client, alice).get(f"/appointments/book/{slot.pk}/")
    first = Hold.objects.get(account=alice, state="live")

    page = client.get(f"/appointments/book/{slot.pk}/").content.decode()

    assert "This place is held for you until" in page
    assert Hold.objects.get(account=alice, state="live").pk == first.pk


def test_the_holder_of_the_last_place_still_books_it(client, alice):
    me, _ = person(alice)
    slot = open_slot(capacity=1)
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)

    done = client.post(f"/appointments/book/{slot.pk}/", {"patient": me.pk, "key": key})

    assert done.status_code == 302
    assert Appointment.objects.get(slot=slot).patient == me


def test_the_read_never_refuses_a_place_the_conditional_update_would_grant():
    now = timezone.now()
    slot = open_slot(capacity=1, booked=0)
    assert slot_sold_out_refusal(slot=slot, now=now) is None
    merged = open_slot(
        capacity=1,
        booked=1,
        referral_capacity=1,
        referral_booked=0,
        referral_merge_at=now - timezone.timedelta(minutes=1),
    )
    assert slot_sold_out_refusal(slot=merged, now=now) is None
    full = open_slot(capacity=1, booked=1, referral_capacity=1, referral_booked=1)
    assert slot_sold_out_refusal(slot=full, now=now).code == "slot_full"


@pytest.fixture
def one_minute():
    """The rate limit counts in fixed one-minute windows: hold the clock inside one, so that a
    slow machine's eleven requests cannot straddle a window's edge (they did, under load)."""
    now = timezone.now().replace(second=20, microsecond=0)
    with time_machine.travel(now, tick=False):
        yield


def test_more_than_ten_holds_a_minute_from_one_account_are_refused_with_a_message(
    client, alice, one_minute
):
    person(alice)
    slots = [open_slot(capacity=3) for _ in range(11)]
    signed_in(client, alice)
    for slot in slots[:10]:
        assert client.get(f"/appointments/book/{slot.pk}/").status_code == 200

    page = client.get(f"/appointments/book/{slots[10].pk}/")

    assert page.status_code == 429
    assert "too many booking pages in the last minute" in page.content.decode()
    assert Hold.objects.filter(slot=slots[10]).count() == 0


def test_more_than_ten_holds_a_minute_from_one_address_are_refused(client, one_minute):
    slots = [open_slot(capacity=3) for _ in range(11)]
    for slot in slots[:10]:
        _, account = person()
        signed_in(client, account).get(f"/appointments/book/{slot.pk}/")
        assert Hold.objects.filter(account=account, state="live").count() == 1

    _, eleventh = person()
    page = signed_in(client, eleventh).get(f"/appointments/book/{slots[10].pk}/")

    assert page.status_code == 429
    assert not Hold.objects.filter(account=eleventh).exists()


def test_the_hold_limit_counts_without_redis_and_without_a_request(one_minute):
    """Outside a request (no address) only the account counts; the cache may be any backend."""
    account = UserFactory()
    slots = [open_slot(capacity=3) for _ in range(11)]
    person(account)
    for slot in slots[:10]:
        hold_create(slot=slot, account=account)
    with pytest.raises(TooManyHolds):
        hold_create(slot=slots[10], account=account)
