"""Search: a patient finds doctors with free periods by words, date, time of day, mode,
district and title, and sees each doctor's next free periods with the places left."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import DepartmentFactory, DoctorFactory, HospitalFactory, SlotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours_ticking")]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(days: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def city():
    cloud = HospitalFactory(
        name="云医院",
        name_en="Cloud Hospital",
        kind="cloud",
        district="鄞州区",
        district_en="Yinzhou",
    )
    first = HospitalFactory(name="第一医院", name_en="First Hospital")
    skin = DepartmentFactory(hospital=cloud, name="皮肤科", name_en="Dermatology")
    eyes = DepartmentFactory(hospital=first, name="眼科", name_en="Ophthalmology")
    zhou = DoctorFactory(
        department=skin,
        name="周若溪",
        name_en="Zhou Ruoxi",
        title="chief",
        specialties="湿疹",
        specialties_en="eczema",
    )
    lin = DoctorFactory(department=eyes, name="林浩", name_en="Lin Hao", title="attending")
    SlotFactory(doctor=zhou, start=local(2, 14), mode="online", capacity=3, booked=1)
    SlotFactory(doctor=zhou, start=local(2, 15), mode="online")
    SlotFactory(doctor=zhou, start=local(3, 9), mode="online")
    SlotFactory(doctor=zhou, start=local(4, 9), mode="online")  # a fourth: not listed
    SlotFactory(doctor=lin, start=local(2, 8), capacity=2)
    SlotFactory(doctor=lin, start=local(2, 19), capacity=2, booked=2)  # full
    return {"zhou": zhou, "lin": lin}


def search(client, **params) -> str:
    client.cookies["django_language"] = "en"
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_words_match_doctor_department_specialty_and_hospital_in_both_languages(client, city):
    for words in ("dermatology", "皮肤", "Zhou", "若溪", "eczema", "湿疹"):
        page = search(client, q=words)
        assert "Zhou Ruoxi" in page, words
        assert "Lin Hao" not in page, words
    for words in ("cloud hospital", "云医院"):
        assert "Zhou Ruoxi" in search(client, q=words)
    page = search(client, q="ophthalmology first")
    assert "Lin Hao" in page and "Zhou Ruoxi" not in page


def test_results_show_the_next_three_free_periods_with_places_left(client, city):
    page = search(client, q="Zhou")
    assert "2 places left" in page  # 14:00, one of three booked
    assert page.count("3 places left") == 2
    third, fourth = local(3, 9), local(4, 9)
    assert f"{third:%a} {third.day} {third:%b}, 09:00–09:30" in page
    assert f"{fourth:%a} {fourth.day} {fourth:%b}, 09:00–09:30" not in page  # the next three
    assert page.count('href="/appointments/book/') == 3


def test_date_time_of_day_and_mode_narrow_the_periods(client, city):
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    afternoon = search(client, date=day, part="afternoon")
    assert "Zhou Ruoxi" in afternoon and "Lin Hao" not in afternoon
    morning = search(client, date=day, part="morning")
    assert "Lin Hao" in morning and "Zhou Ruoxi" not in morning
    evening = search(client, date=day, part="evening")  # Lin's 19:00 is full
    assert "Lin Hao" not in evening and "0 doctors with free periods" in evening
    online = search(client, mode="online")
    assert "Zhou Ruoxi" in online and "Lin Hao" not in online
    in_person = search(client, mode="in_person")
    assert "Lin Hao" in in_person and "Zhou Ruoxi" not in in_person


def test_district_and_title_filter_doctors(client, city):
    yinzhou = search(client, district="鄞州区")
    assert "Zhou Ruoxi" in yinzhou and "Lin Hao" not in yinzhou
    attending = search(client, title="attending")
    assert "Lin Hao" in attending and "Zhou Ruoxi" not in attending


def test_a_doctor_without_a_free_period_is_not_a_result(client, city):
    DoctorFactory(name_en="Empty Diary", department=city["lin"].department)
    assert "Empty Diary" not in search(client, q="ophthalmology")


def test_bad_input_gets_a_clear_message(client, city):
    page = search(client, date="tomorrow", part="midnight")
    assert "Enter a date such as 2026-12-01." in page
    assert "Choose morning, afternoon or evening." in page


def test_home_page_has_a_search_box_that_asks_the_search_page(client):
    page = client.get("/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page


@pytest.mark.parametrize("doctors", [2, 12])
def test_search_runs_a_fixed_number_of_queries(client, doctors, django_assert_num_queries):
    department = DepartmentFactory(name_en="Dermatology")
    for index in range(doctors):
        doctor = DoctorFactory(department=department)
        for day in range(1, 5):
            SlotFactory(doctor=doctor, start=local(day, 9 + index % 5))
    client.cookies["django_language"] = "en"
    # districts for the form, then on PostgreSQL one statement (the doctors with their
    # periods), elsewhere two
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        response = client.get("/search/", {"q": "dermatology"})
    assert response.content.decode().count('class="card doctor-result"') == doctors


@pytest.fixture
def cardiology():
    hospital = HospitalFactory(name="宁波市第一医院", name_en="Ningbo No. 1 Hospital")
    heart = DepartmentFactory(hospital=hospital, name="心血管内科", name_en="Cardiology")
    zhang = DoctorFactory(department=heart, name="张伟", name_en="Zhang Wei")
    other = DoctorFactory(
        department=DepartmentFactory(hospital=hospital, name="眼科", name_en="Ophthalmology"),
        name="李娜",
        name_en="Li Na",
    )
    for doctor in (zhang, other):
        SlotFactory(doctor=doctor, start=local(2, 9))
    return {"zhang": zhang, "other": other, "heart": heart}


@pytest.mark.parametrize(
    "words", ["心内科", "xnk", "xinneike", "心血管", "xxgnk", "张", "zw", "zhangwei", "Zhang Wei"]
)
def test_departments_are_found_by_their_other_names_and_pinyin_doctors_by_their_pinyin(
    client, cardiology, words
):
    page = search(client, q=words)
    assert "Zhang Wei" in page, words
    assert "Li Na" not in page, words


def test_hospitals_are_found_by_pinyin_initials(client, cardiology):
    page = search(client, q="nbsdyyy")  # 宁波市第一医院
    assert "Zhang Wei" in page and "Li Na" in page


def test_a_department_found_by_an_alias_its_admin_added_and_names_follow_a_rename(
    client, cardiology
):
    heart = cardiology["heart"]
    heart.aliases = "胸痛中心, 心脏科"
    heart.save()
    assert "Zhang Wei" in search(client, q="胸痛中心")
    assert "Zhang Wei" in search(client, q="xzk")
    zhang = cardiology["zhang"]
    zhang.name = "王芳"
    zhang.save()
    assert "Zhang Wei" in search(client, q="wf")  # English name unchanged
    assert "Zhang Wei" not in search(client, q="zw")


def test_a_past_date_says_the_date_has_passed(client, city):
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    page = search(client, date=yesterday)
    assert "has passed" in page
    assert "doctors with free periods" not in page
