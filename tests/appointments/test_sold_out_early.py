"""Issue 16: once a request has found a slot full, the next POSTs for it are answered before
the session or the account is read (portal/sold_out_early.py), until a place is given back; a
form that held a place, or whose key already booked, still gets its booking."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, Slot
from appointments.services import appointment_cancel
from tests.appointments.conftest import open_slot, person

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def book(client, slot, patient, key, **extra):
    return client.post(
        f"/appointments/book/{slot.pk}/", {"patient": patient.pk, "key": key, **extra}
    )


def full_and_found_full():
    """A slot of one place booked by Carol, then refused to Bob through the page."""
    slot = open_slot(capacity=1)
    carol, carol_account = person()
    assert book(signed_in(carol_account), slot, carol, "c1").status_code == 302
    bob, bob_account = person()
    refused = book(signed_in(bob_account), slot, bob, "b1")
    assert refused.status_code == 200 and "Join the waiting list" in refused.content.decode()
    return slot, (carol, carol_account), (bob, bob_account)


def test_the_next_post_for_a_full_slot_reads_nothing_and_writes_nothing():
    slot, _carol, _bob = full_and_found_full()
    dan, dan_account = person()
    client = signed_in(dan_account)

    with CaptureQueriesContext(connection) as seen:
        page = book(client, slot, dan, "d1")

    assert seen.captured_queries == []
    body = page.content.decode()
    assert page.status_code == 200
    assert "This time is fully booked" in body and 'role="alert"' in body
    assert f'href="/appointments/book/{slot.pk}/"' in body  # the waiting list, one tap away
    assert f'href="/doctors/{slot.doctor_id}/"' in body
    assert "csrfmiddlewaretoken" not in body and "sessionid" not in page.cookies
    assert Appointment.objects.filter(slot=slot).count() == 1


def test_the_early_answer_speaks_chinese_to_a_chinese_browser():
    slot, _carol, _bob = full_and_found_full()
    page = Client().post(
        f"/appointments/book/{slot.pk}/", {"key": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
    assert "This time is fully booked" not in page.content.decode()


def test_a_form_that_held_the_place_still_books():
    slot = open_slot(capacity=1)
    alice, alice_account = person()
    mine = signed_in(alice_account)
    page = mine.get(f"/appointments/book/{slot.pk}/").content.decode()
    assert 'name="held"' in page  # the hold took the only place
    bob, bob_account = person()
    assert "Join the waiting list" in book(signed_in(bob_account), slot, bob, "b1").content.decode()

    booked = book(mine, slot, alice, "a1", held="1")

    assert booked.status_code == 302
    assert Appointment.objects.get(slot=slot).patient == alice


def test_a_retried_submit_lands_on_its_booking():
    slot, (carol, carol_account), _bob = full_and_found_full()
    client = signed_in(carol_account)
    with CaptureQueriesContext(connection) as seen:
        again = book(client, slot, carol, "c1")
    appointment = Appointment.objects.get(slot=slot)
    assert again.status_code == 302 and again["Location"] == appointment.get_absolute_url()
    assert seen.captured_queries == []


def test_a_place_given_back_is_bookable_at_once(django_capture_on_commit_callbacks):
    slot, (_carol, carol_account), (bob, bob_account) = full_and_found_full()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(
            appointment=Appointment.objects.get(slot=slot),
            by=carol_account,
            reason=Appointment.CancelReason.PATIENT,
        )

    booked = book(signed_in(bob_account), slot, bob, "b2")

    assert booked.status_code == 302
    assert Appointment.objects.get(slot=slot, status="booked").patient == bob


def test_the_booking_that_takes_the_last_place_makes_the_next_post_early(
    django_capture_on_commit_callbacks,
):
    slot = open_slot(capacity=2)
    carol, carol_account = person()
    with django_capture_on_commit_callbacks(execute=True):
        assert book(signed_in(carol_account), slot, carol, "c1").status_code == 302
    bob, bob_account = person()
    bob_client = signed_in(bob_account)
    # One place was left: this one still reaches the booking.
    with django_capture_on_commit_callbacks(execute=True):
        assert book(bob_client, slot, bob, "b1").status_code == 302

    dan, dan_account = person()
    dan_client = signed_in(dan_account)
    with CaptureQueriesContext(connection) as seen:
        page = book(dan_client, slot, dan, "d1")

    # Nobody has been refused yet: the commit that filled the slot remembered it.
    assert seen.captured_queries == []
    assert "This time is fully booked" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_booking_found_full_under_the_lock_gets_the_short_page():
    """The first seconds of a release: the read before the lock let the POST through, and the
    place went to the booking that held the lock."""
    slot = open_slot(capacity=1)
    bob, bob_account = person()
    client = signed_in(bob_account)
    answers = []
    poster = threading.Thread(target=lambda: answers.append(book(client, slot, bob, "b1")))
    with transaction.atomic():
        Slot.objects.select_for_update().get(pk=slot.pk)
        poster.start()
        with connections["default"].cursor() as probe:
            for _ in range(500):  # until the POST waits on the slot's row
                probe.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if probe.fetchone()[0]:
                    break
                time.sleep(0.01)
        Slot.objects.filter(pk=slot.pk).update(booked=1)  # another booking took the place
    poster.join(10)

    (page,) = answers
    body = page.content.decode()
    assert page.status_code == 200
    assert "This time is fully booked" in body
    assert f'href="/appointments/book/{slot.pk}/"' in body
    assert not Appointment.objects.filter(slot=slot).exists()
    # And the next POST is answered without reading the database.
    dan, dan_account = person()
    dan_client = signed_in(dan_account)
    with CaptureQueriesContext(connection) as seen:
        assert "This time is fully booked" in book(dan_client, slot, dan, "d1").content.decode()
    assert seen.captured_queries == []
