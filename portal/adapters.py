"""allauth, customised through its adapter (never by forking its views)."""

from __future__ import annotations

import logging
import time
import unicodedata

import phonenumbers
from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.email_verification import send_verification_email_for_user
from allauth.account.internal.stagekit import clear_login
from allauth.account.utils import has_verified_email
from allauth.core import context, ratelimit
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from notifications.sms import SMSError, mask_phone, send_sms
from portal.access import requires_mfa

logger = logging.getLogger(__name__)

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


def phone_or_none(raw: str) -> str | None:
    try:
        return phone_normalise(raw)
    except forms.ValidationError:
        return None


# The ACCOUNT_RATE_LIMITS action counted for every SMS the sign-in flows send, whichever flow
# sends it and whether or not the number has an account (settings.SMS_CODES_PER_*_PER_HOUR).
SMS_RATE_LIMIT_ACTION = "sms_to_number"


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials) -> str:
        # allauth keys failed sign-ins on the lower-cased e-mail and knows no phone: every
        # number would share one empty key. Key a number on its E.164 form, and fold the
        # spellings of an address an attacker would use to get a fresh allowance per spelling
        # (tests/accounts/test_brute_force.py pins this hook, so an allauth upgrade that renames
        # it fails loudly).
        phone = credentials.get("phone")
        if phone and not credentials.get("email"):
            key = super()._get_login_attempts_cache_key(request)
            site = key.rpartition(":")[0]
            return f"{site}:{phone_or_none(phone) or login_throttle_key(phone)}"
        key = super()._get_login_attempts_cache_key(request, **credentials)
        site, _, login = key.rpartition(":")
        return f"{site}:{login_throttle_key(login)}"

    def format_email_subject(self, subject: str) -> str:
        # "[云医院] …" in Chinese: the prefix in the reader's language, not the settings' English.
        return f"[{_('Cloud Hospital')}] {subject}"

    def pre_login(self, request: HttpRequest, user, **kwargs) -> HttpResponse | None:
        """Staff keep a verified e-mail: e-mail verification is optional for patients, but an
        account that must hold a second factor is held at the verification step until its
        address is confirmed, as before phone-first accounts."""
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        if requires_mfa(user) and not has_verified_email(user):
            if user.email:
                send_verification_email_for_user(request, user)
            clear_login(request)
            return self.respond_email_verification_sent(request, user)
        return None

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

    def _sms_allowed(self, phone: str) -> bool:
        """Codes cost money: at most SMS_CODES_PER_NUMBER_PER_HOUR texts to one number and
        SMS_CODES_PER_ADDRESS_PER_HOUR asked from one client address, over every flow. Over
        the limit nothing is sent and the page reads as if it had been (no enumeration)."""
        request = context.request
        if request is None:
            return True
        return ratelimit.consume(request, action=SMS_RATE_LIMIT_ACTION, key=phone)

    def send_verification_code_sms(
        self, user: AbstractBaseUser, phone: str, code: str, **kwargs
    ) -> None:
        if not self._sms_allowed(phone):
            return
        text = str(
            _("Your Cloud Hospital verification code is %(code)s. It expires in 15 minutes.")
            % {"code": code}
        )
        try:
            send_sms(phone=phone, text=text, template="code", params={"code": code})
        except SMSError as error:
            # The page reads as always; the person asks again ("resend") once it is back.
            logger.warning("Verification SMS to %s not sent: %s", mask_phone(phone), error)

    def send_account_already_exists_sms(self, phone: str) -> None:
        if not self._sms_allowed(phone):
            return
        text = str(
            _(
                "Someone tried to register this number at Cloud Hospital, but it already "
                "belongs to an account. If that was you, sign in instead."
            )
        )
        try:
            send_sms(phone=phone, text=text)
        except SMSError as error:
            logger.warning("Account-exists SMS to %s not sent: %s", mask_phone(phone), error)

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
        # The password sign-in passes the number as typed ("138 0013 8000").
        number = phone_or_none(phone)
        if number is None:
            return None
        return User.objects.filter(phone=number, phone_verified=True, is_active=True).first()
