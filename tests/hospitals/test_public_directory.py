"""The public directory: find a hospital, its departments, its doctors and their next free time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils import timezone, translation

from hospitals.signals import next_free_periods_wanted
from tests.factories import DepartmentFactory, DoctorFactory, HospitalFactory, SlotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours_ticking")]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Period:
    start: dt.datetime
    end: dt.datetime
    places_left: int


@pytest.fixture
def provider():
    """A receiver as appointments connects it, standing in for appointments' own; it answers
    for the doctors it is told."""
    answers: dict[int, Period] = {}
    calls: list[list[int]] = []

    def next_free_period(sender, *, doctors, **kwargs):
        calls.append([doctor.pk for doctor in doctors])
        return {doctor.pk: answers[doctor.pk] for doctor in doctors if doctor.pk in answers}

    next_free_periods_wanted.disconnect(dispatch_uid="appointments.next_free_periods")
    next_free_periods_wanted.connect(next_free_period, dispatch_uid="tests.next_free_period")
    yield answers, calls
    next_free_periods_wanted.disconnect(dispatch_uid="tests.next_free_period")
    # Connect appointments' receiver again, or later tests in this process would see a
    # directory that knows no free period.
    apps.get_app_config("appointments").ready()


def test_hospital_list_filters_by_district_and_kind(client):
    HospitalFactory(name_en="Haishu Hospital", district="海曙区", district_en="Haishu")
    HospitalFactory(name_en="Haishu Clinic", district="海曙区", district_en="Haishu", kind="clinic")
    HospitalFactory(name_en="Beilun Hospital", district="北仑区", district_en="Beilun")
    HospitalFactory(name_en="Closed Hospital", is_active=False)

    everything = client.get("/hospitals/").content.decode()
    haishu = client.get("/hospitals/", {"district": "海曙区"}).content.decode()
    haishu_clinics = client.get("/hospitals/", {"district": "海曙区", "kind": "clinic"})

    assert "Beilun Hospital" in everything and "Closed Hospital" not in everything
    assert "Haishu Hospital" in haishu and "Beilun Hospital" not in haishu
    assert "Haishu Clinic" in haishu_clinics.content.decode()
    assert "Haishu Hospital" not in haishu_clinics.content.decode()
    assert '<option value="海曙区" selected>Haishu</option>' in haishu


def test_an_unknown_filter_value_shows_a_message_and_every_hospital(client):
    HospitalFactory(name_en="Haishu Hospital")

    page = client.get("/hospitals/", {"kind": "spaceship"}).content.decode()

    assert "Select a valid choice" in page
    assert "Haishu Hospital" in page


def test_names_follow_the_active_language(client):
    hospital = HospitalFactory(name="甬东人民医院", name_en="Yongdong People's Hospital")
    DepartmentFactory(hospital=hospital, name="皮肤科", name_en="Dermatology")

    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(f"/hospitals/{hospital.slug}/").content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(f"/hospitals/{hospital.slug}/").content.decode()

    assert "甬东人民医院" in chinese and "皮肤科" in chinese
    assert "Yongdong People&#x27;s Hospital" in english and "Dermatology" in english


def test_department_page_lists_doctors_with_title_specialties_and_next_free_period(
    client, provider
):
    answers, calls = provider
    department = DepartmentFactory(slug="dermatology")
    busy = DoctorFactory(
        department=department, name_en="Chen Jing", title="chief", specialties_en="eczema, acne"
    )
    free = DoctorFactory(department=department, name_en="Lin Hao", title="resident")
    DoctorFactory(department=department, name_en="Gone Away", is_active=False)
    answers[free.pk] = Period(
        dt.datetime(2026, 12, 1, 14, 0, tzinfo=SHANGHAI),
        dt.datetime(2026, 12, 1, 14, 30, tzinfo=SHANGHAI),
        3,
    )

    page = client.get(f"/hospitals/{department.hospital.slug}/dermatology/").content.decode()

    assert page.index("Chen Jing") < page.index("Lin Hao")  # the chief physician first
    assert "Chief physician" in page and "eczema, acne" in page
    assert "14:00–14:30, 3 places left" in page
    assert page.count("No free period in the next two weeks") == 1
    assert "Gone Away" not in page
    assert sorted(calls[-1]) == sorted([busy.pk, free.pk])  # one call for the whole page


def test_without_a_provider_every_doctor_has_no_free_period_known(client):
    doctor = DoctorFactory()

    page = client.get(f"/doctors/{doctor.pk}/").content.decode()

    assert "No free period in the next two weeks" in page


def test_doctor_page_shows_the_profile_and_the_next_free_period(client):
    # The doctor page is appointments' own: it reads the slot table directly.
    doctor = DoctorFactory(
        name="周若溪", name_en="Zhou Ruoxi", bio="擅长儿童皮肤病。", bio_en="Sees children."
    )
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time(8), tzinfo=SHANGHAI)
    SlotFactory(
        doctor=doctor, start=start, end=start + dt.timedelta(minutes=30), capacity=2, booked=1
    )

    client.cookies["django_language"] = "en"
    english = client.get(f"/doctors/{doctor.pk}/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(f"/doctors/{doctor.pk}/").content.decode()

    assert "Zhou Ruoxi" in english and "Sees children." in english
    assert f"Next available: {start:%a} {start.day} {start:%b}, 08:00, 1 place left" in english
    assert "周若溪" in chinese and "擅长儿童皮肤病。" in chinese


def test_inactive_hospitals_departments_and_doctors_are_404(client):
    closed = HospitalFactory(is_active=False)
    department = DepartmentFactory(hospital=closed)
    hidden_department = DepartmentFactory(is_active=False)
    doctor_of_closed = DoctorFactory(department=department)

    assert client.get(f"/hospitals/{closed.slug}/").status_code == 404
    assert client.get(f"/hospitals/{closed.slug}/{department.slug}/").status_code == 404
    hidden = f"/hospitals/{hidden_department.hospital.slug}/{hidden_department.slug}/"
    assert client.get(hidden).status_code == 404
    assert client.get(f"/doctors/{doctor_of_closed.pk}/").status_code == 404
    assert client.get("/doctors/999999/").status_code == 404


def test_paediatrics_shows_who_may_book(client):
    department = DepartmentFactory(slug="paediatrics", name_en="Paediatrics", max_age_years=14)

    with translation.override("en"):
        page = client.get(f"/hospitals/{department.hospital.slug}/paediatrics/").content.decode()

    assert "up to age 14" in page


@pytest.mark.parametrize("rows", [2, 10])
def test_hospital_list_runs_a_fixed_number_of_queries(client, rows, django_assert_num_queries):
    for n in range(rows):
        DepartmentFactory(hospital=HospitalFactory(district=f"区{n}"))

    with django_assert_num_queries(2):  # districts, hospitals with department counts
        client.get("/hospitals/")


@pytest.mark.parametrize("rows", [2, 10])
def test_hospital_page_runs_a_fixed_number_of_queries(client, rows, django_assert_num_queries):
    hospital = HospitalFactory()
    for _ in range(rows):
        DoctorFactory(department=DepartmentFactory(hospital=hospital))

    with django_assert_num_queries(2):  # hospital, departments with doctor counts
        client.get(f"/hospitals/{hospital.slug}/")


@pytest.mark.parametrize("rows", [2, 10])
def test_department_page_runs_a_fixed_number_of_queries(
    client, provider, rows, django_assert_num_queries
):
    department = DepartmentFactory()
    for _ in range(rows):
        DoctorFactory(department=department)

    with django_assert_num_queries(2):  # department with hospital, doctors
        client.get(f"/hospitals/{department.hospital.slug}/{department.slug}/")
