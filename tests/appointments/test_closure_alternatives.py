"""A stopped clinic's notice ranks alternatives (the same doctor's next session, a doctor of the
same title in the same department, the cloud hospital's online clinic) and each 'take this one'
link rebooks the same patient in one click; a used, expired, forged or foreign link is refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from appointments.models import Appointment
from appointments.selectors import OFFER_MAX_AGE, Rank, closure_alternatives, offer_token
from appointments.selectors.alternatives import OFFER_LEAD
from appointments.services import appointment_book, closure_create
from notifications.models import Notification
from notifications.services import outbox_deliver_due
from tests.appointments.conftest import later_slot, open_slot, person
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    """A booked appointment and, for each rank, one place it could move to (plus decoys)."""
    slot = open_slot()
    doctor = slot.doctor
    patient, account = person()
    appointment = appointment_book(patient=patient, slot=slot, booked_by=account)
    same_doctor = later_slot(slot, hours=24)
    later_slot(slot, hours=48)  # later than the first: not offered
    colleague = DoctorFactory(department=doctor.department, title=doctor.title)
    same_title = SlotFactory(doctor=colleague, start=slot.start + dt.timedelta(hours=3))
    senior = DoctorFactory(department=doctor.department, title="chief")
    SlotFactory(doctor=senior, start=slot.start + dt.timedelta(hours=1))  # other title
    cloud = HospitalFactory(kind="cloud")
    online_doctor = DoctorFactory(
        department=DepartmentFactory(hospital=cloud, slug=doctor.department.slug)
    )
    online = SlotFactory(
        doctor=online_doctor, mode="online", start=slot.start + dt.timedelta(hours=5)
    )
    return {
        "slot": slot,
        "appointment": appointment,
        "account": account,
        "expected": [same_doctor, same_title, online],
    }


def stop(slot):
    admin = with_totp(StaffMembershipFactory(hospital=slot.site).user)
    closure_create(
        scope="doctor",
        doctor=slot.doctor,
        starts_at=slot.start - dt.timedelta(minutes=1),
        ends_at=slot.end + dt.timedelta(minutes=1),
        reason="Conference",
        by=admin,
    )


def test_alternatives_are_ranked_same_doctor_then_same_title_then_online(clinic):
    stop(clinic["slot"])
    appointment = Appointment.objects.get(pk=clinic["appointment"].pk)

    ranked = closure_alternatives(appointment=appointment)

    assert [a.rank for a in ranked] == [Rank.SAME_DOCTOR, Rank.SAME_TITLE, Rank.ONLINE]
    assert [a.slot for a in ranked] == clinic["expected"]


def test_a_full_or_closed_alternative_is_not_offered(clinic):
    same_doctor, same_title, _online = clinic["expected"]
    same_title.booked = same_title.capacity
    same_title.save()
    stop(clinic["slot"])

    ranked = closure_alternatives(appointment=Appointment.objects.get(pk=clinic["appointment"].pk))

    assert Rank.SAME_TITLE not in [a.rank for a in ranked]
    assert ranked[0].slot == same_doctor


def links_in(text: str) -> list[str]:
    return re.findall(r"https://[^/\s]+(/appointments/rebook/[^/\s]+/)", text)


def test_the_notice_offers_them_and_one_click_rebooks_the_same_patient(client, clinic):
    stop(clinic["slot"])
    outbox_deliver_due()
    [message] = [m for m in mail.outbox if m.subject.startswith("Clinic stopped")]
    links = links_in(message.body)
    assert len(links) == 3 and "Take this one" in message.body
    note = Notification.objects.get(account=clinic["account"], title=message.subject)
    assert links_in(note.body) and "Conference" in message.body and "Conference" in note.body

    client.force_login(clinic["account"])
    page = client.get(links[0])
    assert page.status_code == 200 and b"Book this time" in page.content
    response = client.post(links[0])

    new = Appointment.objects.get(idempotency_key=f"rebook-{clinic['appointment'].pk}")
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert new.patient == clinic["appointment"].patient and new.slot == clinic["expected"][0]
    assert new.booked_by == clinic["account"]


def test_the_appointment_page_offers_them_too_until_one_is_taken(client, clinic):
    stop(clinic["slot"])
    client.force_login(clinic["account"])
    url = clinic["appointment"].get_absolute_url()

    page = client.get(url).content.decode()
    links = re.findall(r'href="(/appointments/rebook/[^"]+/)"', page)
    assert len(links) == 3

    client.post(links[1])
    assert "/appointments/rebook/" not in client.get(url).content.decode()


def test_a_used_link_is_refused(client, clinic):
    stop(clinic["slot"])
    appointment = Appointment.objects.get(pk=clinic["appointment"].pk)
    first, second = (
        offer_token(appointment=appointment, slot=slot) for slot in clinic["expected"][:2]
    )
    client.force_login(clinic["account"])
    client.post(f"/appointments/rebook/{first}/")

    for token in (first, second):  # one offer per cancelled appointment
        response = client.post(f"/appointments/rebook/{token}/")
        assert response.status_code == 410 and b"already been used" in response.content
    assert Appointment.objects.filter(status="booked", patient=appointment.patient).count() == 1


def test_an_expired_link_is_refused(client, clinic):
    stop(clinic["slot"])
    token = offer_token(appointment=clinic["appointment"], slot=clinic["expected"][0])

    with time_machine.travel(dt.datetime.now(dt.UTC) + OFFER_MAX_AGE + dt.timedelta(minutes=1)):
        client.force_login(clinic["account"])  # then, not now: sign-ins time out
        response = client.post(f"/appointments/rebook/{token}/")

    assert response.status_code == 410 and b"expired" in response.content
    assert not Appointment.objects.filter(idempotency_key__startswith="rebook-").exists()


def test_someone_elses_or_a_forged_link_is_refused(client, clinic):
    stop(clinic["slot"])
    token = offer_token(appointment=clinic["appointment"], slot=clinic["expected"][0])
    client.force_login(UserFactory())

    foreign = client.post(f"/appointments/rebook/{token}/")
    forged = client.post(f"/appointments/rebook/{token[:-2]}xx/")

    assert foreign.status_code == 410 and b"not valid" in foreign.content
    assert forged.status_code == 410 and b"not valid" in forged.content
    assert not Appointment.objects.filter(idempotency_key__startswith="rebook-").exists()


def test_a_link_for_an_appointment_that_was_not_cancelled_is_refused(client, clinic):
    token = offer_token(appointment=clinic["appointment"], slot=clinic["expected"][0])
    client.force_login(clinic["account"])

    assert client.post(f"/appointments/rebook/{token}/").status_code == 410


def test_a_period_starting_within_30_minutes_of_the_offer_is_not_offered(clinic):
    stop(clinic["slot"])
    appointment = Appointment.objects.get(pk=clinic["appointment"].pk)
    same_doctor = clinic["expected"][0]
    # The offer is read 20 minutes before the same doctor's next session starts.
    with time_machine.travel(same_doctor.start - dt.timedelta(minutes=20)):
        ranked = closure_alternatives(appointment=appointment)

    assert same_doctor not in [a.slot for a in ranked]
    assert all(
        a.slot.start >= same_doctor.start - dt.timedelta(minutes=20) + OFFER_LEAD for a in ranked
    )


def test_an_offer_taken_when_its_period_is_under_30_minutes_away_is_refused(client, clinic):
    stop(clinic["slot"])
    same_doctor = clinic["expected"][0]
    # Offered 35 minutes ahead, taken ten minutes later.
    with time_machine.travel(same_doctor.start - dt.timedelta(minutes=35)):
        token = offer_token(appointment=clinic["appointment"], slot=same_doctor)
    with time_machine.travel(same_doctor.start - dt.timedelta(minutes=25)):
        client.force_login(clinic["account"])
        response = client.post(f"/appointments/rebook/{token}/")

    assert response.status_code == 410
    assert "less than 30 minutes" in response.content.decode()
    assert not Appointment.objects.filter(idempotency_key__startswith="rebook-").exists()


def test_the_appointment_page_shows_the_reason_the_admin_gave(client, clinic):
    stop(clinic["slot"])
    client.force_login(clinic["account"])

    page = client.get(clinic["appointment"].get_absolute_url()).content.decode()

    assert "Conference" in page
