"""A hospital admin invites a doctor by e-mail; the doctor sets a password and signs in."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from hospitals import services
from hospitals.models import Doctor, StaffMembership
from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from notifications.services.delivery import row_render
from tests.concurrency import race
from tests.conftest import with_totp
from tests.factories import DepartmentFactory, DoctorFactory, StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)

NEW_PASSWORD = "a long new password 42"


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/password/reset/key/\S+)", message.body).group(1)


@pytest.fixture
def admin_client(client):
    department = DepartmentFactory(name="皮肤科", name_en="Dermatology")
    admin = with_totp(StaffMembershipFactory(hospital=department.hospital).user)
    client.force_login(admin)
    client.department = department
    client.hospital = department.hospital
    client.admin = admin
    return client


def test_invited_doctor_sets_a_password_from_the_mail_and_is_sent_to_mfa_setup(
    admin_client, django_capture_on_commit_callbacks
):
    hospital, department = admin_client.hospital, admin_client.department
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/manage/{hospital.slug}/doctors/add/",
            {
                "name": "陈静",
                "name_en": "Chen Jing",
                "department": department.pk,
                "title": "attending",
                "email": "Chen.Jing@Example.com",
                "phone": "139 1234 5678",
            },
        )
    outbox_deliver_due()
    doctor = Doctor.objects.get(name="陈静")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/{hospital.slug}/doctors/{doctor.pk}/"

    account = User.objects.get(email="chen.jing@example.com")
    assert doctor.user == account
    assert not account.has_usable_password()
    assert EmailAddress.objects.get(user=account).verified
    assert StaffMembership.objects.filter(
        user=account, hospital=hospital, role=StaffMembership.Role.DOCTOR
    ).exists()
    assert [m.to for m in mail.outbox] == [["chen.jing@example.com"]]
    assert hospital.name_en in mail.outbox[0].subject

    # The set-password link is a credential: sent, then no longer readable in the outbox.
    key = _link(mail.outbox[0]).rstrip("/").rsplit("/", 1)[-1]
    sent = OutboxMessage.objects.get(kind="doctor.invite")
    assert (sent.account, sent.state, sent.body) == (account, "sent", "")
    assert key not in str(OutboxMessage.objects.values().get())

    # The doctor, in another browser, follows the link and chooses a password.
    admin_client.logout()
    page = admin_client.get(_link(mail.outbox[0]), follow=True)
    assert page.status_code == 200
    set_password_url = page.redirect_chain[-1][0]
    done = admin_client.post(
        set_password_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True
    )
    assert done.status_code == 200
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)

    # The link dies with its first use.
    assert (
        "invalid" in admin_client.get(_link(mail.outbox[0]), follow=True).content.decode().lower()
    )

    signed_in = admin_client.post(
        "/accounts/login/", {"login": "chen.jing@example.com", "password": NEW_PASSWORD}
    )
    # Like every account, the doctor confirms the mobile number by SMS, then must set up MFA.
    assert signed_in["Location"] == reverse("account_verify_phone")
    assert sms.outbox[-1].phone == "+8613912345678"
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
    admin_client.post(reverse("account_verify_phone"), {"code": code})
    account.refresh_from_db()
    assert account.phone_verified
    assert admin_client.get("/")["Location"] == "/accounts/2fa/totp/activate/"

    actions = set(
        AuditEvent.objects.filter(target_id=str(doctor.pk)).values_list("action", flat=True)
    )
    assert {"doctor.create", "doctor.invite"} <= actions


def test_inviting_an_existing_listed_doctor_reuses_an_existing_account_and_keeps_its_password(
    django_capture_on_commit_callbacks,
):
    doctor = DoctorFactory()
    existing = UserFactory(email="li.wei@example.com")
    admin = StaffMembershipFactory(hospital=doctor.hospital).user

    with django_capture_on_commit_callbacks(execute=True):
        services.doctor_invite(
            hospital=doctor.hospital,
            email="LI.WEI@example.com",
            invited_by=admin,
            base_url="http://testserver",
            doctor=doctor,
        )

    outbox_deliver_due()
    doctor.refresh_from_db()
    existing.refresh_from_db()
    assert doctor.user == existing
    assert existing.has_usable_password()
    assert "/accounts/login/" in mail.outbox[0].body
    assert "password/reset/key" not in mail.outbox[0].body
    # Nothing secret in it: the outbox keeps what it was sent from like any other message's.
    assert row_render(OutboxMessage.objects.get(kind="doctor.invite")).body == mail.outbox[0].body


def test_an_account_already_linked_to_a_doctor_cannot_be_invited_again_and_nothing_is_saved(
    django_capture_on_commit_callbacks,
):
    taken = DoctorFactory(user=UserFactory(email="taken@example.com"))
    department = DepartmentFactory(hospital=taken.hospital)
    admin = StaffMembershipFactory(hospital=taken.hospital).user
    doctors_before = Doctor.objects.count()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception) as refusal:
        services.doctor_invite(
            hospital=taken.hospital,
            email="taken@example.com",
            invited_by=admin,
            base_url="http://testserver",
            name="新医生",
            department=department,
            title=Doctor.Title.RESIDENT,
        )

    outbox_deliver_due()
    assert "already linked" in str(refusal.value)
    assert Doctor.objects.count() == doctors_before
    assert mail.outbox == []


def test_the_invite_form_on_a_doctors_page_links_the_listed_doctor(
    admin_client, django_capture_on_commit_callbacks
):
    doctor = DoctorFactory(department=admin_client.department)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/manage/{admin_client.hospital.slug}/doctors/{doctor.pk}/invite/",
            {"email": "zhou@example.com", "phone": "13912345679"},
        )

    outbox_deliver_due()
    assert response.status_code == 302
    doctor.refresh_from_db()
    assert doctor.user.email == "zhou@example.com"
    assert len(mail.outbox) == 1


def test_the_invite_form_refuses_a_bad_address_with_a_message(admin_client):
    doctor = DoctorFactory(department=admin_client.department)

    response = admin_client.post(
        f"/manage/{admin_client.hospital.slug}/doctors/{doctor.pk}/invite/", {"email": "nope"}
    )

    assert response.status_code == 400
    assert "valid email" in response.content.decode()
    doctor.refresh_from_db()
    assert doctor.user is None


def test_a_new_account_needs_the_doctors_mobile_number(admin_client):
    doctor = DoctorFactory(department=admin_client.department)

    response = admin_client.post(
        f"/manage/{admin_client.hospital.slug}/doctors/{doctor.pk}/invite/",
        {"email": "nophone@example.com"},
    )

    assert response.status_code == 400
    assert "mobile number" in response.content.decode()
    assert not User.objects.filter(email="nophone@example.com").exists()
    outbox_deliver_due()
    assert mail.outbox == []


def test_a_doctor_who_already_has_an_account_is_not_invited_again():
    doctor = DoctorFactory(user=UserFactory())
    admin = StaffMembershipFactory(hospital=doctor.hospital).user

    with pytest.raises(ValidationError, match="already has an account"):
        services.doctor_invite(
            hospital=doctor.hospital,
            email="other@example.com",
            invited_by=admin,
            base_url="http://testserver",
            doctor=doctor,
        )

    assert not User.objects.filter(email="other@example.com").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")
def test_two_admins_inviting_the_same_new_address_at_once_make_one_account_and_one_refusal():
    department = DepartmentFactory()
    admin = StaffMembershipFactory(hospital=department.hospital).user

    def invite(name: str):
        return lambda: services.doctor_invite(
            hospital=department.hospital,
            email="new.doctor@example.com",
            invited_by=admin,
            base_url="http://testserver",
            phone="+8613800138000",
            name=name,
            department=department,
            title=Doctor.Title.RESIDENT,
        )

    results = race([invite("甲"), invite("乙"), invite("丙")])

    assert sum(isinstance(r, Doctor) for r in results) == 1, results
    refusals = [r for r in results if not isinstance(r, Doctor)]
    assert {getattr(r, "code", None) for r in refusals} == {"account_taken"}, refusals
    assert User.objects.filter(email="new.doctor@example.com").count() == 1
    assert Doctor.objects.filter(user__email="new.doctor@example.com").count() == 1
