"""An account acts on an appointment only through a live link to its patient that may book:
having booked it is not enough. Once the manager revokes a guardian's link (or takes away its
right to book), the guardian can no longer cancel, reschedule or take a stopped clinic's offer
for the appointment it booked, and the appointment's pages answer 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from appointments import errors
from appointments.models import Appointment
from appointments.selectors import offer_token
from appointments.services import (
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    closure_create,
)
from appointments.services.alternatives import offer_take
from records.models import PatientLink
from records.services import link_revoke
from tests.appointments.conftest import later_slot, open_slot, person
from tests.conftest import with_totp
from tests.factories import PatientLinkFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def family():
    """A parent who manages a child, and a guardian the parent invited who booked for the
    child."""
    child, parent = person(relationship="child")
    guardian = UserFactory()
    link = PatientLinkFactory(
        patient=child, account=guardian, relationship="other", is_manager=False
    )
    slot = open_slot()
    appointment = appointment_book(patient=child, slot=slot, booked_by=guardian)
    return {
        "parent": parent,
        "guardian": guardian,
        "link": link,
        "slot": slot,
        "appointment": appointment,
    }


def revoke(family) -> None:
    link_revoke(link=family["link"], by=family["parent"])


def test_a_guardian_whose_link_was_revoked_cannot_cancel_what_it_booked(family):
    revoke(family)

    with pytest.raises(errors.PatientNotLinked):
        appointment_cancel(
            appointment=family["appointment"], by=family["guardian"], reason="patient"
        )
    assert Appointment.objects.get(pk=family["appointment"].pk).status == "booked"


def test_a_guardian_whose_link_was_revoked_cannot_reschedule_what_it_booked(family):
    revoke(family)

    with pytest.raises(errors.PatientNotLinked):
        appointment_reschedule(
            appointment=family["appointment"],
            new_slot=later_slot(family["slot"]),
            by=family["guardian"],
        )
    assert Appointment.objects.get(pk=family["appointment"].pk).status == "booked"
    assert Appointment.objects.filter(patient=family["appointment"].patient).count() == 1


def test_a_guardian_who_may_no_longer_book_cannot_cancel_what_it_booked(family):
    # Reading the record is not booking: the right to act on a booking goes with can_book.
    PatientLink.objects.filter(pk=family["link"].pk).update(can_book=False)

    with pytest.raises(errors.PatientNotLinked):
        appointment_cancel(
            appointment=family["appointment"], by=family["guardian"], reason="patient"
        )


def test_the_manager_still_cancels_the_appointment_the_revoked_guardian_booked(family):
    revoke(family)

    appointment_cancel(appointment=family["appointment"], by=family["parent"], reason="patient")

    assert Appointment.objects.get(pk=family["appointment"].pk).status == "cancelled"


def test_the_revoked_guardians_pages_answer_404(client, family):
    revoke(family)
    client.force_login(family["guardian"])
    code = family["appointment"].code

    cancel = client.post(reverse("appointment_cancel", args=[code]))
    reschedule = client.get(reverse("appointment_reschedule", args=[code]))
    detail = client.get(reverse("appointment_detail", args=[code]))

    assert (cancel.status_code, reschedule.status_code, detail.status_code) == (404, 404, 404)
    assert Appointment.objects.get(pk=family["appointment"].pk).status == "booked"


def test_a_guardian_whose_link_was_revoked_cannot_take_the_stopped_clinics_offer(client, family):
    slot = family["slot"]
    alternative = later_slot(slot, hours=24)
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(minutes=1),
        ends_at=slot.end + dt.timedelta(minutes=1),
        reason="Conference",
        by=admin,
    )
    cancelled = Appointment.objects.get(pk=family["appointment"].pk)
    assert cancelled.status == "cancelled"
    token = offer_token(appointment=cancelled, slot=alternative)
    revoke(family)

    with pytest.raises(errors.OfferRefused):
        offer_take(token=token, account=family["guardian"])
    client.force_login(family["guardian"])
    page = client.post(reverse("appointment_rebook", args=[token]))

    assert page.status_code == 410 and b"not valid" in page.content
    assert not Appointment.objects.filter(idempotency_key__startswith="rebook-").exists()
