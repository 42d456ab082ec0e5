"""A doctor's page: a strip of the next 14 days (morning, afternoon, evening marked open,
full or not yet released) over the periods of the chosen day, with places left, fee, mode
and site; when unreleased periods open; closed and full periods marked."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone

from tests.factories import DoctorFactory, HospitalFactory, SlotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours_ticking")]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(days: int, hour: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def get(client, path: str, language: str = "en") -> str:
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def cell(page: str, slot) -> str:
    start = page.rindex("<li", 0, page.index(f'data-slot="{slot.pk}"'))
    return page[start : page.index("</li>", start)]


def test_open_periods_show_places_left_fee_and_mode(client):
    doctor = DoctorFactory(name_en="Zhou Ruoxi")
    slot = SlotFactory(doctor=doctor, start=local(2, 9), capacity=5, booked=2, fee="30.00")

    page = get(client, f"/doctors/{doctor.pk}/")

    assert "Zhou Ruoxi" in page
    period = cell(page, slot)
    assert "period-open" in page
    assert "09:00–09:30" in period and "¥30" in period and "In person" in period
    assert "<span data-places>3</span> left" in period
    assert f'href="/appointments/book/{slot.pk}/"' in period


def test_online_periods_at_the_cloud_hospital_name_the_site(client):
    cloud = HospitalFactory(kind="cloud", name_en="Cloud Hospital")
    doctor = DoctorFactory(offers_online=True)
    slot = SlotFactory(doctor=doctor, site=cloud, mode="online", start=local(2, 20))

    period = cell(get(client, f"/doctors/{doctor.pk}/"), slot)

    assert "Online" in period and "Cloud Hospital" in period


def test_unreleased_periods_say_when_they_open_in_the_active_language(client):
    doctor = DoctorFactory()
    start = local(10, 9)
    opens = dt.datetime.combine(start.date() - dt.timedelta(days=7), dt.time(12), tzinfo=SHANGHAI)
    slot = SlotFactory(doctor=doctor, start=start, release_at=opens)

    english = cell(get(client, f"/doctors/{doctor.pk}/"), slot)
    chinese = cell(get(client, f"/doctors/{doctor.pk}/", "zh-hans"), slot)

    assert f"Opens {opens:%a} {opens.day} {opens:%b}, 12:00" in english
    assert "period-opens" in english and "Book" not in english
    assert f"{opens.month}月{opens.day}日 周" in chinese and "12:00 放号" in chinese


def test_full_and_closed_periods_look_different_and_say_so(client):
    doctor = DoctorFactory()
    full = SlotFactory(doctor=doctor, start=local(2, 9), capacity=2, booked=2)
    closed = SlotFactory(doctor=doctor, start=local(2, 10), closed_at=timezone.now())

    page = get(client, f"/doctors/{doctor.pk}/")

    assert "period-full" in cell(page, full) and "Full" in cell(page, full)
    assert re.search(r'class="period-book"[^>]* hidden>', cell(page, full))
    assert "period-closed" in cell(page, closed) and "Clinic stopped" in cell(page, closed)


def test_started_and_far_periods_are_not_in_the_grid(client):
    doctor = DoctorFactory()
    past = SlotFactory(doctor=doctor, start=timezone.now() - dt.timedelta(hours=1))
    far = SlotFactory(doctor=doctor, start=local(20, 9))

    page = get(client, f"/doctors/{doctor.pk}/")

    assert f'data-slot="{past.pk}"' not in page and f'data-slot="{far.pk}"' not in page


def test_the_grid_polls_a_fragment_and_listens_on_the_doctors_socket(client):
    doctor = DoctorFactory()
    slot = SlotFactory(doctor=doctor, start=local(2, 9))

    page = get(client, f"/doctors/{doctor.pk}/")
    fragment = get(client, f"/doctors/{doctor.pk}/periods/")

    assert f'hx-get="/doctors/{doctor.pk}/periods/"' in page and 'hx-trigger="every 20s"' in page
    assert f'data-live-socket="/ws/slots/doctor/{doctor.pk}/"' in page
    assert "appointments/js/live_places.js" in page
    assert f'data-slot="{slot.pk}"' in fragment and "<html" not in fragment


def test_inactive_doctors_pages_are_404(client):
    gone = DoctorFactory(is_active=False)
    assert client.get(f"/doctors/{gone.pk}/").status_code == 404
    assert client.get(f"/doctors/{gone.pk}/periods/").status_code == 404


@pytest.mark.parametrize("days", [1, 10])
def test_doctor_page_runs_a_fixed_number_of_queries(client, days, django_assert_num_queries):
    doctor = DoctorFactory()
    for day in range(1, days + 1):
        for hour in (8, 9, 10):
            SlotFactory(doctor=doctor, start=local(day, hour))
    client.cookies["django_language"] = "en"
    # the doctor, the next free period, the grid, the text consult offer (issue 20)
    with django_assert_num_queries(4):
        response = client.get(f"/doctors/{doctor.pk}/")
    assert response.content.decode().count("data-slot=") == days * 3


def test_a_period_with_only_referral_places_left_says_so_and_links_the_booking(client):
    doctor = DoctorFactory()
    slot = SlotFactory(doctor=doctor, start=local(5, 9), capacity=1, booked=1, referral_capacity=1)

    period = cell(get(client, f"/doctors/{doctor.pk}/"), slot)

    assert "period-referral" in period and "Referral places only" in period
    assert f'href="/appointments/book/{slot.pk}/"' in period


def strip_day(page: str, day: dt.date) -> str:
    href = page.index(f'href="?day={day.isoformat()}', page.index('class="date-strip"'))
    start = page.rindex('class="strip-day', 0, href)
    return page[start : page.index("</a>", start)]


def test_the_strip_marks_each_part_of_each_day_open_full_or_opening(client):
    doctor = DoctorFactory()
    SlotFactory(doctor=doctor, start=local(1, 9), capacity=3, booked=1)
    SlotFactory(doctor=doctor, start=local(1, 14), capacity=2, booked=2)
    opens = dt.datetime.combine(
        local(9, 9).date() - dt.timedelta(days=7), dt.time(12), tzinfo=SHANGHAI
    )
    SlotFactory(doctor=doctor, start=local(9, 19), release_at=opens)

    page = get(client, f"/doctors/{doctor.pk}/", "zh-hans")

    assert page.count('class="strip-day') == 14
    tomorrow = strip_day(page, local(1, 9).date())
    assert re.search(r"strip-open[^>]*>.*上午.*有号", tomorrow, re.S)
    assert re.search(r"strip-full[^>]*>.*下午.*约满", tomorrow, re.S)
    later = strip_day(page, local(9, 9).date())
    assert "strip-opens" in later and "未放号" in later and "12:00" in later


def test_the_chosen_day_alone_is_shown_and_next_available_links_to_its_day(client):
    doctor = DoctorFactory()
    full = SlotFactory(doctor=doctor, start=local(1, 9), capacity=1, booked=1)
    free = SlotFactory(doctor=doctor, start=local(3, 9))

    page = get(client, f"/doctors/{doctor.pk}/")
    day3 = local(3, 9).date().isoformat()

    # the first day with sessions is chosen; the other days' periods are there but hidden
    assert f'data-day-panel="{local(1, 9).date().isoformat()}">' in page
    assert f'data-day-panel="{day3}" hidden>' in page
    assert f'class="next-free-jump" href="?day={day3}#periods-heading"' in page
    chosen = get(client, f"/doctors/{doctor.pk}/?day={day3}")
    assert f'data-day-panel="{day3}">' in chosen and f'data-slot="{free.pk}"' in chosen
    assert f'data-slot="{full.pk}"' in chosen  # still on the page, in its hidden day
    assert get(client, f"/doctors/{doctor.pk}/periods/?day=junk").count('class="strip-day') == 14
