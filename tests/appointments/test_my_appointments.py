"""My appointments: every linked person's upcoming and past appointments, each appointment's
page with its code and QR code; another account's appointment does not exist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.services import audit_record
from tests.factories import (
    AppointmentFactory,
    PatientLinkFactory,
    SlotFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(alice):
    child = PatientLinkFactory(account=alice, patient__name="王小明").patient
    mother = PatientLinkFactory(
        account=alice, patient__name="李秀英", relationship="parent", can_book=False
    ).patient
    return {"child": child, "mother": mother}


def signed_in(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_the_list_shows_upcoming_and_past_for_every_linked_person(client, alice, family):
    soon = AppointmentFactory(
        patient=family["child"],
        booked_by=alice,
        slot__doctor__name_en="Zhou Ruoxi",
        slot__start=timezone.now() + dt.timedelta(days=2),
    )
    later = AppointmentFactory(
        patient=family["mother"], slot__start=timezone.now() + dt.timedelta(days=5)
    )
    done = AppointmentFactory(
        patient=family["child"],
        status="completed",
        slot__start=timezone.now() - dt.timedelta(days=3),
    )
    strangers = AppointmentFactory()

    page = signed_in(client, alice).get("/appointments/").content.decode()

    upcoming, past = page.split('id="past-heading"')
    assert upcoming.index(soon.code) < upcoming.index(later.code)
    assert "王小明" in upcoming and "李秀英" in upcoming and "Zhou Ruoxi" in upcoming
    assert done.code in past and "Completed" in past
    assert strangers.code not in page


def test_a_revoked_link_hides_that_persons_appointments(client, alice):
    link = PatientLinkFactory(account=alice)
    appointment = AppointmentFactory(patient=link.patient)
    link.revoked_at = timezone.now()
    link.save()

    page = signed_in(client, alice).get("/appointments/").content.decode()

    assert appointment.code not in page
    assert client.get(f"/appointments/{appointment.code}/").status_code == 404


def test_the_appointment_page_shows_the_code_a_qr_code_and_the_history(client, alice, family):
    appointment = AppointmentFactory(patient=family["child"], booked_by=alice, code="K7M2Q9")
    audit_record(actor=alice, action="appointment.book", target=appointment)

    page = signed_in(client, alice).get("/appointments/K7M2Q9/").content.decode()

    assert "K7M2Q9" in page and "<svg" in page and "<script" not in page.split("<main")[1]
    assert "Booked" in page and "by you" in page
    assert family["child"].id_number_masked in page
    assert family["child"].id_number not in page
    assert 'href="/appointments/K7M2Q9.ics"' in page


def test_another_accounts_appointment_its_ics_and_pages_are_404(client, family):
    appointment = AppointmentFactory(patient=family["child"])
    bob = UserFactory()

    signed_in(client, bob)
    assert client.get(f"/appointments/{appointment.code}/").status_code == 404
    assert client.get(f"/appointments/{appointment.code}.ics").status_code == 404
    assert client.get("/appointments/NOSUCH/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, family):
    appointment = AppointmentFactory(patient=family["child"])
    for path in ("/appointments/", f"/appointments/{appointment.code}/", "/appointments/calendar/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_appointments_is_in_the_navigation(client, alice):
    page = signed_in(client, alice).get("/").content.decode()
    assert 'href="/appointments/"' in page and 'href="/search/"' in page


@pytest.mark.parametrize("rows", [1, 8])
def test_the_list_runs_a_fixed_number_of_queries(client, alice, rows, django_assert_num_queries):
    patient = PatientLinkFactory(account=alice).patient
    for day in range(rows):
        AppointmentFactory(
            patient=patient, slot=SlotFactory(start=timezone.now() + dt.timedelta(days=day + 1))
        )
    AppointmentFactory(patient=patient, slot__start=timezone.now() - dt.timedelta(days=2))
    signed_in(client, alice)
    # session, user, the unread badge, the appointments (the navigation asks nothing more)
    with django_assert_num_queries(4):  # + the unread badge
        response = client.get("/appointments/")
    assert response.content.decode().count('class="row-') == rows + 1


def test_only_an_in_person_appointment_shows_a_qr_code_for_the_desk(client, alice, family):
    in_person = AppointmentFactory(patient=family["child"], code="INPERSON", slot__mode="in_person")
    online = AppointmentFactory(patient=family["child"], code="ONLINE01", slot__mode="online")
    cancelled = AppointmentFactory(
        patient=family["child"], code="CANCEL01", slot__mode="in_person", status="cancelled"
    )
    signed_in(client, alice)

    desk = client.get("/appointments/INPERSON/").content.decode()
    room = client.get("/appointments/ONLINE01/").content.decode()
    gone = client.get("/appointments/CANCEL01/").content.decode()

    assert '<svg viewBox="0 0 ' in desk and "at the front desk to check in" in desk
    assert "<svg" not in room and "front desk" not in room
    assert "An online consultation has no check-in at a desk" in room
    assert "<svg" not in gone and "front desk" not in gone
    assert in_person.code in desk and online.code in room and cancelled.code in gone
