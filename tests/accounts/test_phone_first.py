"""Phone-first accounts (issue 18): sign up with a mobile number and an SMS code, sign in with
number + code or number + password; e-mail optional; staff keep a verified e-mail."""

from __future__ import annotations

import datetime as dt
import re
from importlib import import_module

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import notify
from tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NUMBER = "139 0000 1111"
NOTE = {"title": "Booked", "body": "Booked", "link": "/x/"}
E164 = "+8613900001111"


def last_code(phone: str = E164) -> str:
    texts = [message.text for message in sms.outbox if message.phone == phone]
    assert texts, f"no SMS went to {phone}"
    match = re.search(r"\b(\d{6})\b", texts[-1])
    assert match, texts[-1]
    return match.group(1)


def sign_up(client, **fields):
    return client.post(reverse("account_signup"), {"phone": NUMBER, **fields})


def signed_in_as(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def test_a_new_patient_signs_up_with_nothing_but_a_number_and_its_code(client):
    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_verify_phone")
    user = User.objects.get(phone=E164)
    assert user.email is None
    assert not user.has_usable_password()
    assert signed_in_as(client) is None

    done = client.post(reverse("account_verify_phone"), {"code": last_code()})

    assert done.status_code == 302
    assert signed_in_as(client) == user.pk
    user.refresh_from_db()
    assert user.phone_verified
    assert mail.outbox == []  # no address, no mail


def test_two_accounts_without_an_email_coexist_and_an_empty_one_is_stored_as_null():
    first = User.objects.create_user(phone="+8613900002222", email="")
    second = User.objects.create_user(phone="+8613900003333")

    assert first.email is None and second.email is None
    assert User.objects.filter(email__isnull=True).count() == 2
    assert str(first) == "+8613900002222"


def test_the_migration_turns_empty_email_strings_into_null_and_marks_confirmed_addresses(alice):
    bob = UserFactory(email="bob@example.com", verified_email=False)
    User.objects.filter(pk=alice.pk).update(email_verified=False)
    User.objects.filter(pk=bob.pk).update(email="")
    migration = import_module("accounts.migrations.0002_email_optional_null_when_absent")

    migration.empty_email_to_null(django_apps, None)
    migration.fill_email_verified(django_apps, None)

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert bob.email is None and not bob.email_verified
    assert alice.email_verified


def test_a_patient_signs_in_with_number_and_code(client, alice):
    User.objects.filter(pk=alice.pk).update(phone=E164)

    start = client.post(reverse("account_request_login_code"), {"phone": NUMBER})

    assert start.status_code == 302
    assert start["Location"] == reverse("account_confirm_login_code")
    done = client.post(reverse("account_confirm_login_code"), {"code": last_code()})
    assert done.status_code == 302
    assert signed_in_as(client) == alice.pk


def test_a_patient_signs_in_with_number_and_password_typed_any_way(client):
    user = UserFactory(phone=E164, email=None)

    for typed in ("139 0000 1111", "+86 139-0000-1111"):
        client.logout()
        page = client.post(reverse("account_login"), {"login": typed, "password": PASSWORD})
        assert page.status_code == 302, page.content.decode()[:2000]
        assert signed_in_as(client) == user.pk


def test_an_account_with_both_signs_in_with_either(client, alice, password):
    by_email = client.post(reverse("account_login"), {"login": alice.email, "password": password})
    assert by_email.status_code == 302
    assert signed_in_as(client) == alice.pk
    client.logout()

    client.post(reverse("account_request_login_code"), {"phone": alice.phone})
    client.post(reverse("account_confirm_login_code"), {"code": last_code(alice.phone)})

    assert signed_in_as(client) == alice.pk


def test_a_wrong_code_three_times_ends_the_attempt(client, alice):
    client.post(reverse("account_request_login_code"), {"phone": alice.phone})
    right = last_code(alice.phone)
    wrong = "000000" if right != "000000" else "111111"

    for _ in range(3):
        client.post(reverse("account_confirm_login_code"), {"code": wrong})
    after = client.post(reverse("account_confirm_login_code"), {"code": right})

    assert signed_in_as(client) is None
    assert after.status_code == 302
    assert after["Location"] != "/"


def test_a_code_expires_after_fifteen_minutes(client, alice):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("account_request_login_code"), {"phone": alice.phone})
        code = last_code(alice.phone)
        clock.shift(dt.timedelta(minutes=15, seconds=1))

        client.post(reverse("account_confirm_login_code"), {"code": code})

    assert signed_in_as(client) is None


def test_an_unverified_email_gets_no_message_but_its_verification_link(client):
    sign_up(
        client,
        email="new@example.com",
        password1="a sensible passphrase",
        password2="a sensible passphrase",
    )
    client.post(reverse("account_verify_phone"), {"code": last_code()})
    user = User.objects.get(phone=E164)
    assert len(mail.outbox) == 1 and "onfirm" in mail.outbox[0].subject
    assert not user.email_verified
    assert notify(account=user, kind="t.x", subject=user, context=NOTE, channels=("email",))
    assert OutboxMessage.objects.get().address == ""  # written as skipped: nobody to send to

    address = EmailAddress.objects.get(user=user)
    address.verified = True
    address.save()

    user.refresh_from_db()
    assert user.email_verified
    assert notify(account=user, kind="t.y", subject=user, context=NOTE, channels=("email",))
    assert OutboxMessage.objects.get(kind="t.y").address == "new@example.com"


def test_signing_up_with_someone_elses_email_makes_the_account_without_it(client, alice):
    page = sign_up(client, email="Alice@Example.com")

    assert page.status_code == 302
    assert page["Location"] == reverse("account_verify_phone")
    assert User.objects.get(phone=E164).email is None
    # The address's owner hears of it; nothing is attached.
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]


def test_staff_without_a_verified_email_are_held_at_the_verification_step(client):
    staff = StaffFactory(email="ops@example.com")
    EmailAddress.objects.filter(user=staff).update(verified=False)

    page = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})

    assert page.status_code == 302
    assert page["Location"] == reverse("account_email_verification_sent")
    assert signed_in_as(client) is None
    assert [message.to for message in mail.outbox] == [["ops@example.com"]]
