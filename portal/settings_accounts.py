"""The accounts part of the settings: users, allauth (phone-first sign-in, SMS codes and their
limits), the second factor and sessions. portal/settings.py star-imports it, so every name here
is a setting; it has its own reader of the environment."""

from __future__ import annotations

import environ

env = environ.Env()

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, each reading the account (and its roles) in one fixed
# statement per request (portal/request_reads.py).
AUTHENTICATION_BACKENDS = [
    "portal.request_reads.PortalModelBackend",
    "portal.request_reads.PortalAllauthBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"phone", "email"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email", "password1", "password2"]  # phone-first (issue 18)
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_FORMS = {
    "login": "portal.account_forms.PhoneFirstLoginForm",
    "request_login_code": "portal.account_forms.PhoneCodeRequestForm",
    "signup": "portal.account_forms.PhoneFirstSignupForm",
}
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 15 * 60  # as the SMS says
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
# Six digits, as every SMS code in China looks; typed on a phone's number pad.
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Cloud Hospital] "  # outbox mail; allauth's via the adapter
# allauth's rate limits are on by default (ACCOUNT_RATE_LIMITS); they key on the client
# address, which only the trusted proxies may tell us.
# Failed sign-ins: 10 a minute per address, and 5 per 5 minutes per account whatever the address
# (the e-mail or number folded by portal.adapters.login_throttle_key) — at most 60 guesses an
# hour at one account from any number of machines.
# SMS codes cost money: 5 an hour to a number, 20 from an address, account or not: sign-in,
# the sign-up form (before an account is made) and every text the adapter sends. allauth raises
# `verify_phone` mid-flow: a backstop that RateLimitedMiddleware answers with a 429 page.
SMS_CODES_PER_NUMBER_PER_HOUR = 5
SMS_CODES_PER_ADDRESS_PER_HOUR = 20
_SMS_HOURLY = f"{SMS_CODES_PER_NUMBER_PER_HOUR}/h/key,{SMS_CODES_PER_ADDRESS_PER_HOUR}/h/ip"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "request_login_code": _SMS_HOURLY,
    "signup_code": _SMS_HOURLY,
    "sms_to_number": _SMS_HOURLY,
    "verify_phone": "1/30s/key,20/m/ip",
    "signup": "20/m/ip,20/h/ip",
}

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Cloud Hospital")
# Accept the code of the neighbouring 30-second step too (RFC 6238 §5.2: clock drift, a code
# typed as it rolls over); a used code stays refused for the whole window.
MFA_TOTP_TOLERANCE = 1

# Django's database sessions, loaded with fixed SQL (portal/request_reads.py).
SESSION_ENGINE = "portal.request_reads"
# Idle and absolute limits of a sign-in (portal/sessions.py): staff (anyone who must hold a
# second factor) 15 minutes idle, patients 30, everyone 12 hours from signing in.
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=15 * 60)
SESSION_IDLE_SECONDS_PATIENT = env.int("SESSION_IDLE_SECONDS_PATIENT", default=30 * 60)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
