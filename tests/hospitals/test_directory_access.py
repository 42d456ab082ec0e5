"""Who may manage which hospital, and who must hold a second factor."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation

from hospitals.models import Doctor, StaffMembership
from hospitals.selectors import hospitals_managed_by, managed_hospital_or_404
from portal.access import requires_mfa
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    StaffFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_hospital_admin_manages_only_their_own_hospital():
    own, other = HospitalFactory(), HospitalFactory()
    admin = StaffMembershipFactory(hospital=own).user

    assert list(hospitals_managed_by(user=admin)) == [own]
    assert managed_hospital_or_404(user=admin, slug=own.slug) == own
    with pytest.raises(Http404):
        managed_hospital_or_404(user=admin, slug=other.slug)


def test_doctors_and_front_desk_manage_no_hospital_and_platform_admin_manages_all():
    hospital = HospitalFactory()
    doctor = StaffMembershipFactory(hospital=hospital, role=StaffMembership.Role.DOCTOR).user
    desk = StaffMembershipFactory(hospital=hospital, role=StaffMembership.Role.FRONT_DESK).user

    assert not hospitals_managed_by(user=doctor).exists()
    assert not hospitals_managed_by(user=desk).exists()
    assert list(hospitals_managed_by(user=StaffFactory())) == [hospital]


@pytest.mark.parametrize("role", [choice for choice, _ in StaffMembership.Role.choices])
def test_every_hospital_staff_role_requires_mfa(role):
    member = StaffMembershipFactory(role=role).user

    assert requires_mfa(member)


def test_a_patient_account_does_not_require_mfa():
    assert not requires_mfa(UserFactory())


def test_a_doctor_cannot_belong_to_another_hospitals_department():
    doctor = DoctorFactory.build(
        department=DepartmentFactory(), hospital=HospitalFactory(), title=Doctor.Title.CHIEF
    )

    with pytest.raises(ValidationError, match="own hospital"):
        doctor.full_clean(exclude=["user"])


def test_names_show_in_the_active_language_with_chinese_as_fallback():
    hospital = HospitalFactory(name="鄞州人民医院", name_en="Yinzhou People's Hospital")
    clinic = HospitalFactory(name="白云社区卫生服务中心", name_en="")

    with translation.override("en"):
        assert hospital.display_name == "Yinzhou People's Hospital"
        assert clinic.display_name == "白云社区卫生服务中心"
    with translation.override("zh-hans"):
        assert hospital.display_name == "鄞州人民医院"


def test_hospital_staff_with_totp_reach_pages_and_without_are_sent_to_set_it_up(client):
    from tests.conftest import with_totp

    member = StaffMembershipFactory(role=StaffMembership.Role.DOCTOR).user
    client.force_login(member)
    assert client.get("/")["Location"] == "/accounts/2fa/totp/activate/"

    with_totp(member)
    assert client.get("/").status_code == 200


def test_in_chinese_a_hospital_has_a_name_title_and_a_doctor_a_persons_name():
    from hospitals.models import Hospital

    with translation.override("zh-hans"):
        assert str(Hospital._meta.get_field("name").verbose_name) == "名称"
        assert str(Doctor._meta.get_field("name").verbose_name) == "姓名"
