"""Aliyun (Alibaba Cloud) SMS: `SMS_BACKEND=notifications.sms_aliyun.AliyunBackend`.

One `SendSms` call per message to the RPC API (version 2017-05-25), signed as the provider
documents its RPC signature v1: the parameters sorted by name, percent-encoded (RFC 3986: space
as %20, `*` as %2A, `~` kept), joined into the canonicalized query string; the string to sign is
`METHOD&%2F&` + percentEncode(that string); the signature is Base64(HMAC-SHA1(secret + "&",
string to sign)). tests/notifications/test_sms_aliyun.py checks it against the provider's own
published example.

A provider in China sends only approved templates. `template` names an entry of
settings.SMS_TEMPLATES ("code" for sign-in codes, "notice" for everything else, whose single
`${content}` variable carries the text); the answer's `Code` decides between SMSRetry (throttled,
quota, provider trouble) and SMSRejected (invalid template, number, signature, credentials).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

from django.conf import settings

from notifications.sms import SMSRejected, SMSRetry, mask_phone

logger = logging.getLogger(__name__)

API_VERSION = "2017-05-25"

# Codes the provider documents for SendSms, and what to do about each. A code not listed is
# retried: the outbox bounds the attempts, and a message lost for good is worse than a few
# refused tries (which cost nothing).
RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (1/min, 5/h, 10/day)
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "isp.SYSTEM_ERROR",
        "isv.OUT_OF_SERVICE",  # account suspended for arrears: paid, it resumes
        "isv.AMOUNT_NOT_ENOUGH",
        "ServiceUnavailable",
        "InternalError",
    }
)
GIVE_UP_CODES = frozenset(
    {
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_SIGN_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.TEMPLATE_PARAMS_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.INVALID_JSON_PARAM",
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.PARAM_LENGTH_LIMIT",
        "isv.PARAM_NOT_SUPPORT_URL",
        "isv.DENY_IP_RANGE",
        "isv.ACCOUNT_NOT_EXISTS",
        "isv.ACCOUNT_ABNORMAL",
        "isv.PRODUCT_UN_SUBSCRIPT",
        "isv.PRODUCT_UNSUBSCRIBE",
        "isp.RAM_PERMISSION_DENY",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "MissingParameter",
        "InvalidTimeStamp.Expired",
        "SignatureNonceUsed",
    }
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the provider specifies it: unreserved characters kept, space %20."""
    return quote(value, safe="-_.~")


def canonicalized_query(params: dict[str, str]) -> str:
    return "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )


def signature(*, secret: str, params: dict[str, str], method: str = "POST") -> str:
    """Base64 HMAC-SHA1 of the string to sign (RPC signature v1), before URL encoding."""
    string_to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonicalized_query(params))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def provider_number(phone: str) -> str:
    """Mainland numbers as 11 digits; others with their country code behind 00."""
    digits = phone.lstrip("+")
    if phone.startswith("+86"):
        return digits[2:]
    return f"00{digits}"


class AliyunBackend:
    def __init__(self) -> None:
        self.access_key_id = settings.SMS_ALIYUN_ACCESS_KEY_ID
        self.access_key_secret = settings.SMS_ALIYUN_ACCESS_KEY_SECRET
        self.sign_name = settings.SMS_ALIYUN_SIGN_NAME
        self.endpoint = settings.SMS_ALIYUN_ENDPOINT
        self.region = settings.SMS_ALIYUN_REGION
        self.templates = settings.SMS_TEMPLATES
        self.timeout = settings.SMS_TIMEOUT_SECONDS
        if not self.endpoint.startswith(("https://", "http://")):
            raise SMSRejected("SMS_ALIYUN_ENDPOINT must be an http(s) URL.")
        if not (self.access_key_id and self.access_key_secret and self.sign_name):
            raise SMSRejected(
                "Aliyun SMS needs SMS_ALIYUN_ACCESS_KEY_ID, SMS_ALIYUN_ACCESS_KEY_SECRET and "
                "SMS_ALIYUN_SIGN_NAME."
            )

    def request_params(
        self, phone: str, text: str, template: str | None, params: dict | None
    ) -> dict[str, str]:
        if template is None:
            template, params = "notice", {"content": text}
        code = self.templates.get(template)
        if not code:
            raise SMSRejected(f"No Aliyun template configured for {template!r} (SMS_TEMPLATES).")
        return {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": provider_number(phone),
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": code,
            "TemplateParam": json.dumps(params or {}, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }

    def send(
        self, phone: str, text: str, *, template: str | None = None, params: dict | None = None
    ) -> None:
        query = self.request_params(phone, text, template, params)
        query["Signature"] = signature(secret=self.access_key_secret, params=query)
        body = canonicalized_query(query).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        answer = self._post(request, phone)
        code = str(answer.get("Code", ""))
        if code == "OK":
            logger.info("SMS to %s accepted (BizId %s)", mask_phone(phone), answer.get("BizId"))
            return
        detail = f"Aliyun SMS {code or 'without a code'}: {answer.get('Message', '')}"
        if code in GIVE_UP_CODES:
            raise SMSRejected(detail)
        raise SMSRetry(detail)

    def _post(self, request: urllib.request.Request, phone: str) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            # The provider answers errors with a 4xx/5xx and the same JSON body.
            try:
                answer = json.loads(error.read() or b"{}")
            except ValueError:
                answer = {}
            if answer.get("Code"):
                return answer
            raise SMSRetry(f"Aliyun SMS HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, ValueError, OSError) as error:
            raise SMSRetry(f"Aliyun SMS unreachable: {type(error).__name__}") from error
