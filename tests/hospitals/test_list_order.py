"""Lists show hospitals, departments and doctors in the order an admin set where there is one,
then by the pinyin of the name (安 before 北 before 张), not by code point (北 < 安 < 张); the
console's day view by time."""

from __future__ import annotations

import datetime as dt

import pytest

from appointments.selectors import day_sessions
from hospitals.selectors import (
    departments_for_console,
    departments_public,
    doctors_public,
    hospital_districts,
    hospitals_public,
)
from tests.conftest import with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    SlotFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def test_hospitals_sort_by_pinyin_after_the_order_an_admin_set():
    for name in ("张家医院", "北仑医院", "安康医院"):
        HospitalFactory(name=name, kind="hospital")
    names = [h.name for h in hospitals_public(kind="hospital")]
    assert names == ["安康医院", "北仑医院", "张家医院"]

    pinned = HospitalFactory(name="镇海医院", kind="hospital", display_order=1)
    assert hospitals_public(kind="hospital").first().name == pinned.name


def test_the_console_lists_a_platform_admins_hospitals_in_the_same_order(client):
    for name in ("张家医院", "北仑医院", "安康医院"):
        HospitalFactory(name=name, kind="hospital")
    client.force_login(with_totp(StaffFactory()))
    page = client.get("/manage/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.index("安康医院") < page.index("北仑医院") < page.index("张家医院")


def test_departments_and_doctors_sort_by_pinyin():
    hospital = HospitalFactory()
    for name in ("中医科", "儿科", "皮肤科"):
        DepartmentFactory(hospital=hospital, name=name)
    assert [d.name for d in departments_public(hospital=hospital)] == ["儿科", "皮肤科", "中医科"]
    DepartmentFactory(hospital=hospital, name="急诊科", display_order=0)
    assert departments_for_console(hospital=hospital).first().name == "急诊科"

    department = DepartmentFactory(hospital=hospital, name="眼科")
    for name in ("周敏", "白雪", "李娜"):
        DoctorFactory(department=department, name=name, title="attending")
    assert [d.name for d in doctors_public(department=department)] == ["白雪", "李娜", "周敏"]


def test_districts_sort_by_pinyin():
    for district in ("镇海区", "北仑区", "鄞州区", "江北区"):
        HospitalFactory(district=district, district_en="")
    assert [label for _, label in hospital_districts()] == ["北仑区", "江北区", "鄞州区", "镇海区"]


def test_the_day_view_lists_sessions_by_time():
    hospital = HospitalFactory()
    day = dt.date(2030, 3, 4)
    zone = hospital.zone
    early = DoctorFactory(hospital=hospital, name="张医生")
    late = DoctorFactory(hospital=hospital, name="安医生")
    for doctor, hour in ((late, 14), (early, 8)):
        start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
        SlotFactory(doctor=doctor, start=start, end=start + dt.timedelta(minutes=30))
    sessions = day_sessions(hospital=hospital, day=day)
    assert [s.doctor.name for s in sessions] == ["张医生", "安医生"]
