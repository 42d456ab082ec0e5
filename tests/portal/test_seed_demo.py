"""`seed_demo` builds a believable city, and running it again changes nothing."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from accounts.models import User
from appointments.models import ScheduleRule, Slot
from hospitals.models import (
    Department,
    Doctor,
    HolidayCalendar,
    HolidayDate,
    Hospital,
    StaffMembership,
)
from records.models import Consent, Patient, PatientLink

pytestmark = pytest.mark.django_db

MODELS = [
    User,
    EmailAddress,
    Hospital,
    Department,
    Doctor,
    StaffMembership,
    HolidayDate,
    Patient,
    PatientLink,
    Consent,
    ScheduleRule,
    Slot,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_twice_changes_nothing_and_prints_every_demo_account():
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    after_first = _counts()
    second = io.StringIO()
    call_command("seed_demo", stdout=second)

    assert _counts() == after_first
    printed = second.getvalue()
    for email in (
        "patient@demo.test",
        "family@demo.test",
        "admin@demo.test",
        "doctor.cloud@demo.test",
        "doctor.clinic@demo.test",
        "desk@demo.test",
        "hospital.admin@demo.test",
    ):
        assert email in printed
    assert "demo-pass-2026" in printed


def test_the_demo_city_has_the_hospitals_departments_and_doctors_the_issue_asks_for():
    call_command("seed_demo", stdout=io.StringIO())

    kinds = list(Hospital.objects.values_list("kind", flat=True))
    assert kinds.count("cloud") == 1
    assert kinds.count("hospital") >= 3
    assert kinds.count("clinic") >= 3
    assert Hospital.objects.exclude(district="").values("district").distinct().count() >= 4
    assert Department.objects.values("slug").distinct().count() >= 8
    assert Doctor.objects.count() >= 40
    assert Doctor.objects.filter(offers_online=True).exists()
    assert set(Doctor.objects.values_list("title", flat=True)) == {
        "chief",
        "associate_chief",
        "attending",
        "resident",
    }
    assert Department.objects.filter(slug="paediatrics", max_age_years__isnull=False).exists()
    assert set(Department.objects.filter(slug="gynaecology").values_list("sex", flat=True)) == {
        "female"
    }
    assert not Hospital.objects.filter(holiday_calendar__isnull=True).exists()


def test_demo_staff_accounts_hold_their_roles_and_the_doctors_are_linked():
    call_command("seed_demo", stdout=io.StringIO())

    cloud_doctor = User.objects.get(email="doctor.cloud@demo.test")
    assert cloud_doctor.doctor.hospital.kind == "cloud"
    assert cloud_doctor.check_password("demo-pass-2026")
    assert User.objects.get(email="doctor.clinic@demo.test").doctor.hospital.kind == "clinic"
    assert StaffMembership.objects.filter(
        user__email="desk@demo.test", role="front_desk", hospital__kind="clinic"
    ).exists()
    admin = User.objects.get(email="hospital.admin@demo.test")
    assert set(admin.memberships.values_list("role", flat=True)) == {"hospital_admin"}


def test_the_holiday_calendar_holds_2026_and_2027_with_make_up_working_days():
    call_command("seed_demo", stdout=io.StringIO())
    dates = HolidayCalendar.objects.get().dates

    assert dates.get(date="2026-10-01").kind == "holiday"
    assert dates.get(date="2026-02-17").kind == "holiday"  # Spring Festival, the first day
    make_up = dates.get(date="2026-02-14")
    assert make_up.kind == "workday"
    assert make_up.follows_weekday is not None
    assert dates.filter(date__year=2027, kind="holiday").count() >= 20
    assert dates.filter(date__year=2027, kind="workday").exists()


# The two weeks counted are an ordinary fortnight: around the Spring Festival a week of them
# is a holiday and has no slots.
@pytest.mark.usefixtures("clinic_hours_ticking")
def test_the_demo_patient_books_for_two_family_members_and_the_city_has_two_weeks_of_slots():
    call_command("seed_demo", stdout=io.StringIO())

    parent = User.objects.get(email="patient@demo.test")
    relationships = sorted(
        PatientLink.objects.live().filter(account=parent).values_list("relationship", flat=True)
    )
    assert relationships == ["child", "parent", "self"]
    # Each of the three people has given all three consents (ID and health data, sharing,
    # telemedicine), so the flagship story's consult opens without a consent prompt.
    consents = Consent.objects.filter(patient__links__account=parent)
    assert consents.count() == 9
    assert set(consents.values_list("kind", flat=True)) == {
        "id_and_health_data",
        "record_sharing",
        "telemedicine",
    }
    assert Slot.objects.filter(mode="online", site__kind="cloud").exists()
    assert Slot.objects.filter(referral_capacity__gt=0).exists()
    days = {slot.start.date() for slot in Slot.objects.only("start")}
    assert len(days) >= 12  # two weeks, less the days a rota or a holiday leaves empty
