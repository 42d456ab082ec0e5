"""What a hospital admin does in the schedule console, page by page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from appointments.models import Closure, ScheduleRule, Slot
from appointments.services import slots_generate
from audit.models import AuditEvent
from tests.conftest import sign_in_recently
from tests.factories import AppointmentFactory, DoctorFactory, ScheduleRuleFactory, SlotFactory

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admin_client(client, hospital_a):
    sign_in_recently(client, hospital_a["admin"])  # the day's CSV asks for a recent password
    return client


@pytest.fixture
def sunday():
    with time_machine.travel(dt.datetime(2027, 1, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        yield


def _rota_url(site):
    return reverse(
        "console_rota",
        kwargs={"hospital_slug": site["hospital"].slug, "doctor_id": site["doctor"].pk},
    )


SESSION = {
    "weekday": "2",
    "start_time": "14:00",
    "end_time": "17:00",
    "slot_minutes": "30",
    "public_places": "4",
    "referral_places": "1",
    "mode": "in_person",
    "fee": "30.00",
    "valid_from": "2027-01-01",
    "valid_until": "",
}


def test_the_week_grid_shows_each_session_under_its_weekday(admin_client, hospital_a):
    response = admin_client.get(_rota_url(hospital_a))

    page = response.content.decode()
    assert "08:00–12:00" in page
    assert page.index("Monday") < page.index("08:00–12:00") < page.index("Tuesday")


def test_adding_a_session_saves_it_and_audits_it_on_the_doctor(admin_client, hospital_a):
    response = admin_client.post(
        _rota_url(hospital_a), SESSION | {"site": hospital_a["hospital"].pk}
    )

    assert response.status_code == 302
    rule = ScheduleRule.objects.get(doctor=hospital_a["doctor"], weekday=2)
    assert (rule.start_time, rule.public_places, rule.referral_places) == (dt.time(14), 4, 1)
    event = AuditEvent.objects.get(action="schedule_rule.create", data__rule_id=rule.pk)
    assert event.target == hospital_a["doctor"]


def test_an_overlapping_session_is_shown_back_with_the_reason(admin_client, hospital_a):
    response = admin_client.post(
        _rota_url(hospital_a),
        SESSION | {"weekday": "0", "start_time": "11:00", "site": hospital_a["hospital"].pk},
    )

    assert response.status_code == 200
    assert "overlaps the doctor&#x27;s Monday session 08:00–12:00" in response.content.decode()
    assert ScheduleRule.objects.filter(doctor=hospital_a["doctor"]).count() == 1


def test_the_overlap_reason_reads_in_chinese(admin_client, hospital_a):
    admin_client.cookies["django_language"] = "zh-hans"
    response = admin_client.post(
        _rota_url(hospital_a),
        SESSION | {"weekday": "0", "start_time": "11:00", "site": hospital_a["hospital"].pk},
    )

    assert "星期一" in response.content.decode()


def test_editing_and_removing_a_session(admin_client, hospital_a):
    rule = hospital_a["rule"]
    kwargs = {
        "hospital_slug": hospital_a["hospital"].slug,
        "doctor_id": hospital_a["doctor"].pk,
        "rule_id": rule.pk,
    }
    edit = admin_client.get(reverse("console_rota_edit", kwargs=kwargs))
    assert 'value="08:00"' in edit.content.decode()

    admin_client.post(
        reverse("console_rota_edit", kwargs=kwargs),
        SESSION
        | {
            "weekday": "0",
            "start_time": "08:30",
            "end_time": "11:30",
            "site": hospital_a["hospital"].pk,
        },
    )
    rule.refresh_from_db()
    assert (rule.start_time, rule.end_time) == (dt.time(8, 30), dt.time(11, 30))

    confirm = admin_client.get(reverse("console_rota_delete", kwargs=kwargs))
    assert "has bookings" in confirm.content.decode()
    admin_client.post(reverse("console_rota_delete", kwargs=kwargs))
    assert not ScheduleRule.objects.filter(pk=rule.pk).exists()
    assert Slot.objects.filter(pk=hospital_a["slot"].pk).exists()


def test_the_preview_shows_what_publishing_creates_and_publishing_does_it(
    sunday, admin_client, hospital_a, hospital_b
):
    url = reverse("console_schedule_preview", kwargs={"hospital_slug": hospital_a["hospital"].slug})

    before = Slot.objects.count()

    preview = admin_client.get(url)
    assert preview.context["created"] == 16  # two Mondays of eight slots
    assert Slot.objects.count() == before

    published = admin_client.post(url, follow=True)
    assert "16 new slots" in published.content.decode()
    assert Slot.objects.count() == before + 16
    assert Slot.objects.filter(doctor=hospital_b["doctor"]).count() == 1
    assert admin_client.get(url).context["created"] == 0


def test_the_preview_warns_which_booked_slots_a_change_leaves_off_the_rota(
    sunday, admin_client, hospital_a
):
    doctor = DoctorFactory(department=hospital_a["doctor"].department)
    rule = ScheduleRuleFactory(doctor=doctor)
    slots_generate(start=dt.date(2027, 1, 4), end=dt.date(2027, 1, 4))
    booked = Slot.objects.filter(doctor=doctor).order_by("start").first()
    Slot.objects.filter(pk=booked.pk).update(booked=1)
    rule.delete()
    url = reverse("console_schedule_preview", kwargs={"hospital_slug": hospital_a["hospital"].slug})

    preview = admin_client.get(url)
    assert booked in preview.context["newly_orphaned"]
    assert "leaves these booked slots off the rota" in preview.content.decode()

    published = admin_client.post(url, follow=True)
    page = published.content.decode()
    assert "no longer on the rota" in page
    assert f"?slot={booked.pk}" in page


def test_a_closure_is_confirmed_with_the_number_of_bookings_it_cancels(admin_client, hospital_a):
    slot = hospital_a["slot"]
    AppointmentFactory(slot=slot, patient__name="停诊")  # the slot's one taken place
    local = slot.start.astimezone(SHANGHAI)
    url = reverse("console_closure_new", kwargs={"hospital_slug": hospital_a["hospital"].slug})
    form = {
        "scope": "doctor",
        "doctor": hospital_a["doctor"].pk,
        "starts_at": (local - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Sick leave",
    }

    prefilled = admin_client.get(url, {"slot": slot.pk})
    assert prefilled.context["form"].initial["doctor"] == hospital_a["doctor"].pk
    confirm = admin_client.post(url, form)
    assert confirm.status_code == 200
    assert "cancels 1 booked appointment" in confirm.content.decode()
    assert Closure.objects.count() == 1  # the fixture's own

    done = admin_client.post(url, form | {"confirm": "yes"}, follow=True)
    assert "Closed 1 slots." in done.content.decode()
    slot.refresh_from_db()
    assert slot.closed_at is not None
    assert slot.closure.reason == "Sick leave"


def test_a_closure_without_its_doctor_is_shown_back(admin_client, hospital_a):
    url = reverse("console_closure_new", kwargs={"hospital_slug": hospital_a["hospital"].slug})

    response = admin_client.post(
        url,
        {
            "scope": "doctor",
            "starts_at": "2027-01-04T08:00",
            "ends_at": "2027-01-04T07:00",
            "reason": "x",
            "confirm": "yes",
        },
    )

    page = response.content.decode()
    assert "Choose the doctor to close." in page
    assert "The closure must end after it starts." in page


def test_the_day_view_shows_each_session_with_booked_and_capacity(admin_client, hospital_a):
    day = hospital_a["slot"].start.astimezone(SHANGHAI).date()
    SlotFactory(
        doctor=hospital_a["doctor"],
        rule=hospital_a["rule"],
        start=hospital_a["slot"].end,
        booked=2,
    )
    url = reverse("console_day", kwargs={"hospital_slug": hospital_a["hospital"].slug, "day": day})

    response = admin_client.get(url)

    (session,) = response.context["sessions"]
    assert (session.booked, session.capacity) == (3, 6)
    assert "3 / 6" in response.content.decode()


def test_a_day_that_is_not_a_date_is_a_404(admin_client, hospital_a):
    url = reverse(
        "console_day", kwargs={"hospital_slug": hospital_a["hospital"].slug, "day": "tomorrow"}
    )
    assert admin_client.get(url).status_code == 404


def test_the_csv_lists_the_days_sessions_and_defuses_formulas(admin_client, hospital_a):
    doctor = hospital_a["doctor"]
    doctor.name_en = "=HYPERLINK(1)"
    doctor.save()
    day = hospital_a["slot"].start.astimezone(SHANGHAI).date()
    url = reverse(
        "console_day_csv", kwargs={"hospital_slug": hospital_a["hospital"].slug, "day": day}
    )

    response = admin_client.get(url)

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["doctor", "department"]
    assert rows[1][0] == "'=HYPERLINK(1)"
    assert rows[1][6:8] == ["1", "3"]


@pytest.mark.parametrize("doctors", [1, 6])
def test_the_rota_list_keeps_a_fixed_number_of_queries(
    admin_client, hospital_a, django_assert_num_queries, doctors
):
    for _index in range(doctors):
        ScheduleRuleFactory(doctor=DoctorFactory(department=hospital_a["doctor"].department))
    url = reverse("console_rota_list", kwargs={"hospital_slug": hospital_a["hospital"].slug})

    with django_assert_num_queries(8):  # + the unread badge
        response = admin_client.get(url)
    assert len(response.context["rows"]) == doctors + 1


@pytest.mark.parametrize("doctors", [1, 6])
def test_the_day_view_keeps_a_fixed_number_of_queries(
    admin_client, hospital_a, django_assert_num_queries, doctors
):
    start = hospital_a["slot"].start
    for _index in range(doctors):
        doctor = DoctorFactory(department=hospital_a["doctor"].department)
        for hour in range(3):
            SlotFactory(doctor=doctor, start=start + dt.timedelta(hours=hour), booked=1)
    url = reverse(
        "console_day",
        kwargs={
            "hospital_slug": hospital_a["hospital"].slug,
            "day": start.astimezone(SHANGHAI).date(),
        },
    )

    with django_assert_num_queries(6):  # + the unread badge
        response = admin_client.get(url)
    assert len(response.context["sessions"]) == 1 + doctors * 3


@pytest.mark.parametrize("closures", [1, 5])
def test_the_closure_list_keeps_a_fixed_number_of_queries(
    admin_client, hospital_a, django_assert_num_queries, closures
):
    for _index in range(closures):
        Closure.objects.create(
            scope="hospital",
            hospital=hospital_a["hospital"],
            starts_at=hospital_a["slot"].start,
            ends_at=hospital_a["slot"].end,
            reason="Drill",
        )
    url = reverse("console_closures", kwargs={"hospital_slug": hospital_a["hospital"].slug})

    with django_assert_num_queries(6):  # + the unread badge
        response = admin_client.get(url)
    assert len(response.context["closures"]) == closures + 1
