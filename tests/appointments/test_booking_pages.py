"""The pages that book: the confirmation page holds a place and books it for a chosen family
member, each refusal says why on the page, and appointments are cancelled, moved and checked in
from their pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from appointments.models import Appointment, Hold, WaitlistEntry
from appointments.services import appointment_book
from notifications.services import outbox_deliver_due
from records.models import Referral
from tests.appointments.conftest import counters_hold, later_slot, open_slot, person
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    ReferralFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(alice):
    """Alice books for herself and for her son; she may only read her mother's record."""
    me, _ = person(alice, name="李丽")
    son, _ = person(alice, relationship="child", name="王小明", birth_date=dt.date(2019, 6, 1))
    mother, _ = person(alice, relationship="parent", name="张秀英")
    mother.links.filter(account=alice).update(can_book=False)
    return {"me": me, "son": son, "mother": mother}


def signed_in(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def key_of(page: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', page).group(1)


def test_opening_the_page_holds_a_place_and_shows_fee_rules_and_people(client, alice, family):
    slot = open_slot(capacity=2, fee="30.00")

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    hold = Hold.objects.get(account=alice, state="live")
    assert hold.slot == slot
    slot.refresh_from_db()
    assert slot.booked == 1
    counters_hold(slot)
    assert "This place is held for you until" in page and "data-countdown=" in page
    assert "¥30.00" in page
    assert "2 hours before the start" in page and "blocks booking" in page
    assert "李丽" in page and "王小明" in page
    assert "张秀英" not in page  # may read her record, may not book for her


def test_the_monthly_cap_is_described_as_counting_the_whole_platform(client, alice, family):
    """The cap counts an account's bookings at every hospital (appointments/policies.py),
    so the page must not say "here"; in Chinese, not 本院 (this hospital)."""
    slot = open_slot(capacity=2)

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()
    cap = slot.site.monthly_cap_per_account
    assert f"Each account may book up to {cap} appointments a month on this platform." in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/appointments/book/{slot.pk}/").content.decode()
    assert f"每个账号每月在本平台最多预约 {cap} 次" in page and "本院最多" not in page


def test_booking_for_a_family_member_converts_the_hold_and_mails_the_invitation(
    client, alice, family, django_capture_on_commit_callbacks
):
    slot = open_slot(capacity=2)
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/appointments/book/{slot.pk}/",
            {"patient": family["son"].pk, "reason": "皮疹三周", "key": key_of(page)},
        )

    appointment = Appointment.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/appointments/{appointment.code}/"
    )
    assert appointment.patient == family["son"] and appointment.visit_reason == "皮疹三周"
    slot.refresh_from_db()
    assert slot.booked == 1  # the hold became the appointment
    counters_hold(slot)
    assert mail.outbox == []  # written to the outbox; a worker sends it
    outbox_deliver_due()
    [message] = mail.outbox
    assert appointment.code in message.body and "皮疹" not in message.subject + message.body
    assert any(m.startswith("text/calendar") for _n, _c, m in message.attachments)
    detail = client.get(response["Location"]).content.decode()
    assert appointment.code in detail and "<svg" in detail and "Booked" in detail


def test_a_double_click_books_once(client, alice, family):
    slot = open_slot(capacity=3)
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()
    data = {"patient": family["me"].pk, "reason": "", "key": key_of(page)}

    first = client.post(f"/appointments/book/{slot.pk}/", data)
    second = client.post(f"/appointments/book/{slot.pk}/", data)

    assert Appointment.objects.count() == 1
    assert first["Location"] == second["Location"]
    counters_hold(slot)


def test_a_refusal_shows_its_own_message_and_keeps_the_form(client, alice, family):
    children = DepartmentFactory(max_age_years=14, name_en="Paediatrics")
    slot = open_slot(doctor=DoctorFactory(department=children, user=UserFactory()))
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    response = client.post(
        f"/appointments/book/{slot.pk}/",
        {"patient": family["me"].pk, "reason": "咳嗽", "key": key_of(page)},
    )

    html = response.content.decode()
    assert response.status_code == 200 and Appointment.objects.count() == 0
    assert "This department sees patients aged" in html
    assert 'class="errorlist nonfield"' in html
    assert "咳嗽" in html  # the form is kept


def test_someone_the_account_may_not_book_for_is_refused_by_the_form(client, alice, family):
    slot = open_slot()
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    response = client.post(
        f"/appointments/book/{slot.pk}/",
        {"patient": family["mother"].pk, "key": key_of(page)},
    )

    html = response.content.decode()
    assert "Choose one of the people you may book for." in html
    # The page shown again offers the people the account may book for.
    assert f'<option value="{family["me"].pk}"' in html
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize("chosen", ["", "abc", "1.5", "-1", "0", str(2**63), "9" * 40])
def test_a_missing_or_malformed_person_is_refused_by_the_form(client, alice, family, chosen):
    slot = open_slot()
    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    response = client.post(
        f"/appointments/book/{slot.pk}/", {"patient": chosen, "key": key_of(page)}
    )

    html = response.content.decode()
    assert response.status_code == 200 and Appointment.objects.count() == 0
    expected = "Choose who the appointment is for." if not chosen else "Choose one of the people"
    assert expected in html


def test_a_full_period_offers_the_waiting_list(client, alice, family):
    slot = open_slot(capacity=1, booked=1)

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()
    assert "Join the waiting list" in page and not Hold.objects.exists()

    response = client.post(f"/appointments/book/{slot.pk}/waitlist/", {"patient": family["son"].pk})

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.patient == family["son"] and entry.state == "waiting"


def test_a_usable_referral_offers_referral_places(client, alice, family):
    slot = open_slot(capacity=1, booked=1, referral_capacity=1)
    referral = ReferralFactory(patient=family["son"], to_hospital=slot.site)

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()
    assert f"?referral={referral.public_id}" in page

    page = client.get(f"/appointments/book/{slot.pk}/?referral={referral.public_id}")
    page = page.content.decode()
    assert Hold.objects.get(account=alice).pool == "referral"
    client.post(
        f"/appointments/book/{slot.pk}/",
        {"patient": family["son"].pk, "key": key_of(page), "referral": referral.public_id},
    )

    appointment = Appointment.objects.get()
    assert appointment.pool == "referral" and appointment.referral == referral
    assert Referral.objects.get(pk=referral.pk).status == "booked"

    # A retried submit, now that the referral is used, still lands on the same appointment.
    again = client.post(
        f"/appointments/book/{slot.pk}/",
        {"patient": family["son"].pk, "key": key_of(page), "referral": referral.public_id},
    )
    assert again.status_code == 302 and again["Location"] == appointment.get_absolute_url()
    assert Appointment.objects.count() == 1


def test_choosing_another_time_gives_the_place_back(client, alice, family):
    slot = open_slot(capacity=1)
    signed_in(client, alice).get(f"/appointments/book/{slot.pk}/")

    client.post(f"/appointments/book/{slot.pk}/release/")

    slot.refresh_from_db()
    assert slot.booked == 0 and not Hold.objects.filter(state="live").exists()


def test_cancel_before_the_cut_off_frees_the_place(client, alice, family):
    slot = open_slot(capacity=2)
    appointment = book(client, alice, family["son"], slot)

    page = client.get(f"/appointments/{appointment.code}/").content.decode()
    assert "You can cancel or move this appointment until" in page
    client.post(f"/appointments/{appointment.code}/cancel/")

    appointment.refresh_from_db()
    assert appointment.status == "cancelled" and appointment.cancel_reason == "patient"
    slot.refresh_from_db()
    assert slot.booked == 0


def test_cancel_after_the_cut_off_says_so(client, alice, family):
    slot = open_slot(capacity=2)
    appointment = book(client, alice, family["son"], slot)

    with time_machine.travel(slot.start - dt.timedelta(hours=1)):
        client.force_login(alice)  # days later: the booking's sign-in has long timed out
        page = client.get(f"/appointments/{appointment.code}/").content.decode()
        response = client.post(f"/appointments/{appointment.code}/cancel/", follow=True)

    assert "Cancelling online closed at" in page
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert "message-error" in response.content.decode()


def test_reschedule_moves_to_another_period_of_the_same_doctor(client, alice, family):
    slot = open_slot(capacity=2)
    other = later_slot(slot, hours=2)
    appointment = book(client, alice, family["son"], slot)

    page = client.get(f"/appointments/{appointment.code}/reschedule/").content.decode()
    assert f'value="{other.pk}"' in page and f'value="{slot.pk}"' not in page
    response = client.post(f"/appointments/{appointment.code}/reschedule/", {"slot": other.pk})

    appointment.refresh_from_db()
    new = Appointment.objects.get(slot=other)
    assert appointment.status == "cancelled" and appointment.cancel_reason == "rescheduled"
    assert new.patient == family["son"] and response["Location"] == f"/appointments/{new.code}/"
    counters_hold(slot)
    counters_hold(other)


def test_another_accounts_appointment_cannot_be_cancelled_or_moved(client, family, alice):
    appointment = book(client, alice, family["son"], open_slot())
    signed_in(client, UserFactory())

    assert client.post(f"/appointments/{appointment.code}/cancel/").status_code == 404
    assert client.get(f"/appointments/{appointment.code}/reschedule/").status_code == 404
    assert client.post(f"/appointments/{appointment.code}/reschedule/", {}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_the_desk_checks_a_patient_in_on_the_day(client, alice, family):
    slot = open_slot()
    appointment = book(client, alice, family["son"], slot)
    clerk = with_totp(StaffMembershipFactory(hospital=slot.site, role="front_desk").user)

    with time_machine.travel(slot.start - dt.timedelta(minutes=30)):
        signed_in(client, clerk)  # on the day, not days before (sign-ins time out)
        page = client.get("/desk/", {"code": appointment.code}).content.decode()
        assert ">Check in</button>" in page
        response = client.post("/desk/check-in/", {"code": appointment.code}, follow=True)

    appointment.refresh_from_db()
    assert appointment.status == "checked_in"
    assert "is checked in" in response.content.decode()


def test_the_desk_cannot_check_in_another_hospitals_appointment(client, alice, family):
    appointment = book(client, alice, family["son"], open_slot())
    clerk = with_totp(StaffMembershipFactory(role="front_desk").user)
    signed_in(client, clerk)

    assert client.post("/desk/check-in/", {"code": appointment.code}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def book(client, account, patient, slot) -> Appointment:
    page = signed_in(client, account).get(f"/appointments/book/{slot.pk}/").content.decode()
    client.post(
        f"/appointments/book/{slot.pk}/",
        {"patient": patient.pk, "key": key_of(page)},
    )
    return Appointment.objects.get(slot=slot, patient=patient, status="booked")


def test_signed_out_visitors_are_asked_to_sign_in_before_a_hold(client):
    slot = open_slot()
    response = client.get(f"/appointments/book/{slot.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Hold.objects.exists()


def test_going_back_to_a_booked_period_takes_no_hold_and_shows_the_appointment(
    client, alice, family
):
    slot = open_slot(capacity=1)
    appointment = book(client, alice, family["son"], slot)

    page = client.get(f"/appointments/book/{slot.pk}/").content.decode()

    slot.refresh_from_db()
    assert slot.booked == 1 and not Hold.objects.filter(state="live").exists()
    counters_hold(slot)
    assert "already has an appointment at this time" in page
    assert f'href="/appointments/{appointment.code}/"' in page


def test_another_accounts_booking_in_the_period_is_not_shown_as_this_accounts(
    client, alice, family
):
    slot = open_slot(capacity=2)
    stranger, other_account = person()
    appointment_book(patient=stranger, slot=slot, booked_by=other_account)

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    assert "already has an appointment at this time" not in page
    assert stranger.name not in page
    assert Hold.objects.filter(state="live", account=alice).count() == 1


def test_cancelling_asks_first_and_a_cancelled_appointment_offers_the_cancellation_file(
    client, alice, family
):
    slot = open_slot(capacity=2)
    appointment = book(client, alice, family["son"], slot)

    detail = client.get(f"/appointments/{appointment.code}/").content.decode()
    assert f'href="/appointments/{appointment.code}/cancel/"' in detail
    ask = client.get(f"/appointments/{appointment.code}/cancel/").content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked" and "Cancel this appointment?" in ask
    client.post(f"/appointments/{appointment.code}/cancel/")

    cancelled = client.get(f"/appointments/{appointment.code}/").content.decode()
    assert "Add to calendar" not in cancelled
    assert "Cancellation (.ics)" in cancelled


def test_paediatrics_starts_with_a_child_and_online_fees_are_not_paid_at_the_hospital(
    client, alice, family
):
    children = DepartmentFactory(min_age_years=0, max_age_years=14)
    slot = open_slot(doctor=DoctorFactory(department=children), mode="online")

    page = signed_in(client, alice).get(f"/appointments/book/{slot.pk}/").content.decode()

    assert re.search(rf'<option value="{family["son"].pk}"[^>]* selected>', page)
    assert "paid at the hospital" not in page and "nothing to pay at a desk" in page
