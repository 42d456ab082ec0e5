"""The Aliyun SMS backend: its signature against the provider's published example, and its
behaviour against a local server (in this process) that answers as the provider does."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from django.test import override_settings

from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import notify, outbox_deliver_due
from notifications.sms import SMSRejected, SMSRetry
from notifications.sms_aliyun import AliyunBackend, canonicalized_query, signature
from tests.factories import UserFactory

# The provider's worked example (help.aliyun.com/document_detail/101343, "签名机制"): its
# parameters, its canonicalized query string and its signature for the secret "testSecret".
PROVIDER_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
PROVIDER_QUERY = (
    "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001"
    "&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B"
    "%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1"
    "&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
    "&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D"
    "&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
)
PROVIDER_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="

SECRET = "local-test-secret"


def test_the_signature_matches_the_providers_published_example():
    assert canonicalized_query(PROVIDER_EXAMPLE) == PROVIDER_QUERY
    assert signature(secret="testSecret", params=PROVIDER_EXAMPLE, method="GET") == (
        PROVIDER_SIGNATURE
    )


def test_spaces_stars_and_tildes_are_encoded_as_the_provider_says():
    assert canonicalized_query({"a": "x y*z~"}) == "a=x%20y%2Az~"


class FakeAliyun(BaseHTTPRequestHandler):
    """Checks the signature as the provider would and answers with the scripted code."""

    answers: list[tuple[int, dict]] = []
    received: list[dict[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        type(self).received.append(params)
        sent = params.pop("Signature", "")
        if sent != signature(secret=SECRET, params=params, method="POST"):
            status, answer = 400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        elif type(self).answers:
            status, answer = type(self).answers.pop(0)
        else:
            status, answer = 200, {"Code": "OK", "Message": "OK", "BizId": "9000^0"}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def fake_aliyun(*answers: tuple[int, dict], secret: str = SECRET):
    FakeAliyun.answers = list(answers)
    FakeAliyun.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAliyun)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(
            SMS_BACKEND="notifications.sms_aliyun.AliyunBackend",
            SMS_ALIYUN_ACCESS_KEY_ID="local-id",
            SMS_ALIYUN_ACCESS_KEY_SECRET=secret,
            SMS_ALIYUN_SIGN_NAME="云医院",
            SMS_ALIYUN_ENDPOINT=f"http://127.0.0.1:{server.server_port}/",
            SMS_TEMPLATES={"code": "SMS_100001", "notice": "SMS_100002"},
            SMS_TIMEOUT_SECONDS=5,
        ):
            sms._backend.cache_clear()
            yield FakeAliyun.received
    finally:
        sms._backend.cache_clear()
        server.shutdown()
        server.server_close()


def test_a_code_goes_out_as_its_template_with_its_parameters():
    with fake_aliyun() as received:
        AliyunBackend().send(
            "+8613800138000", "Your code is 123456", template="code", params={"code": "123456"}
        )

    [request] = received
    assert request["PhoneNumbers"] == "13800138000"
    assert request["TemplateCode"] == "SMS_100001"
    assert json.loads(request["TemplateParam"]) == {"code": "123456"}
    assert request["SignName"] == "云医院"
    assert request["SignatureMethod"] == "HMAC-SHA1" and request["Format"] == "JSON"


def test_free_text_goes_out_as_the_notice_template_and_foreign_numbers_with_00():
    with fake_aliyun() as received:
        AliyunBackend().send("+447700900123", "预约成功：明天 09:30")

    [request] = received
    assert request["PhoneNumbers"] == "00447700900123"
    assert request["TemplateCode"] == "SMS_100002"
    assert json.loads(request["TemplateParam"]) == {"content": "预约成功：明天 09:30"}


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}, SMSRetry),
        (200, {"Code": "Throttling.User", "Message": "Request was denied"}, SMSRetry),
        (500, {"Code": "isp.SYSTEM_ERROR", "Message": "系统错误"}, SMSRetry),
        (503, {}, SMSRetry),
        (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}, SMSRejected),
        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}, SMSRejected),
    ],
)
def test_provider_answers_map_to_retry_or_give_up(status, answer, error):
    with fake_aliyun((status, answer)), pytest.raises(error):
        AliyunBackend().send("+8613800138000", "text")


def test_a_wrong_secret_is_refused_by_the_signature_check_and_given_up():
    with (
        fake_aliyun(),
        override_settings(SMS_ALIYUN_ACCESS_KEY_SECRET="not-the-secret"),
        pytest.raises(SMSRejected, match="SignatureDoesNotMatch"),
    ):
        AliyunBackend().send("+8613800138000", "text")


def test_an_unreachable_provider_is_retried():
    with (
        override_settings(
            SMS_ALIYUN_ACCESS_KEY_ID="id",
            SMS_ALIYUN_ACCESS_KEY_SECRET="secret",
            SMS_ALIYUN_SIGN_NAME="云医院",
            SMS_ALIYUN_ENDPOINT="http://127.0.0.1:9/",
            SMS_TEMPLATES={"notice": "SMS_1"},
        ),
        pytest.raises(SMSRetry),
    ):
        AliyunBackend().send("+8613800138000", "text")


@pytest.mark.django_db
def test_through_the_outbox_a_throttled_text_waits_and_an_invalid_template_fails_for_good():
    bob = UserFactory(phone="+8613812345678", phone_verified=True)
    carol = UserFactory(phone="+8613812345679", phone_verified=True)
    message = {"title": "Booked", "body": "Booked", "link": "/a/x/"}
    notify(account=bob, kind="t.one", subject=bob, context=message, channels=("sms",))
    notify(account=carol, kind="t.one", subject=carol, context=message, channels=("sms",))

    with fake_aliyun(
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "流控"}),
        (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"}),
    ):
        assert outbox_deliver_due() == 0

    states = {row.account_id: row.state for row in OutboxMessage.objects.all()}
    retried = OutboxMessage.objects.get(state="pending")
    assert sorted(states.values()) == ["failed", "pending"]
    assert retried.attempts == 1 and retried.next_attempt_at is not None
    assert "BUSINESS_LIMIT_CONTROL" in retried.last_error
    assert "+8613812345678" not in retried.last_error
