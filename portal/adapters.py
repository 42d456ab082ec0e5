"""allauth, customised through its adapter (never by forking its views)."""

from __future__ import annotations

import time
import unicodedata

import phonenumbers
from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from notifications.sms import send_sms

PHONE_REGION = "CN"  # numbers typed without a country code are mainland numbers


def phone_normalise(raw: str) -> str:
    """Return the E.164 form of a phone number, or raise ValidationError with a human message."""
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise forms.ValidationError(
            _("Enter a mobile number, e.g. 138 1234 5678 or +44 7700 900123."),
            code="invalid_phone",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(
            _("This is not a valid mobile number. Check the digits and the country code."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(forms.CharField):
    """Accepts 13812345678, 138 1234 5678 and +8613812345678 alike; cleans to E.164."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": _("e.g. 138 1234 5678"),
                }
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return phone_normalise(value) if value else value


def login_throttle_key(login: str) -> str:
    """One key for every spelling of an address: case, width and accents folded, so
    `Álice@Example.com` and `ａlice@example.com` count against alice@example.com's attempts."""
    decomposed = unicodedata.normalize("NFKD", login.strip())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return bare.casefold()


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        # allauth keys failed sign-ins on the lower-cased login; fold the variants an attacker
        # would use to get a fresh allowance per spelling (tests/accounts/test_brute_force.py
        # pins this hook, so an allauth upgrade that renames it fails loudly).
        key = super()._get_login_attempts_cache_key(request, **credentials)
        site, _, login = key.rpartition(":")
        return f"{site}:{login_throttle_key(login)}"

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A sign-in moments ago counts as a recent authentication.

        allauth asks for the password again before any MFA change. Staff forced into MFA set-up
        straight after signing in would type it twice in a row; a sign-in within the same
        window that a reauthentication lasts proves just as much.
        """
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = self.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        if not records:
            return True
        age = time.time() - records[-1]["at"]
        return age >= account_settings.REAUTHENTICATION_TIMEOUT

    def phone_form_field(self, **kwargs) -> forms.Field:
        # "Mobile phone", not allauth's "Phone": only a mobile number can receive the code.
        kwargs["label"] = _("Mobile phone")
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return phone_normalise(phone)

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs
    ) -> None:
        send_sms(
            phone=phone,
            text=str(
                _("Your Cloud Hospital verification code is %(code)s. It expires in 15 minutes.")
                % {"code": code}
            ),
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        send_sms(
            phone=phone,
            text=str(
                _(
                    "Someone tried to register this number at Cloud Hospital, but it already "
                    "belongs to an account. If that was you, sign in instead."
                )
            ),
        )

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user: User, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str) -> User | None:
        return User.objects.filter(phone=phone, phone_verified=True).first()
