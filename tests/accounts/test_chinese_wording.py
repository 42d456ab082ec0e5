"""Issue 19 item 14: the Chinese the sign-in pages and their mail show, rendered as a person
sees them — allauth's and Django's wording overridden in our catalogue where it read wrong
("错误代码。", "Email地址", "来自127.0.0.1:8000的 Hello!", "该变量包含…", 你 beside 您)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core import mail
from django.urls import reverse
from django.utils import translation

from hospitals.demo import STAFF_ACCOUNTS
from notifications import sms
from tests.portal.test_translations import _entries

pytestmark = pytest.mark.django_db

NUMBER = "139 0000 4444"


@pytest.fixture
def zh_client(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def sign_up(client, **extra):
    return client.post(reverse("account_signup"), {"phone": NUMBER, **extra})


def test_a_wrong_sms_code_says_the_code_is_wrong_not_error_code(zh_client):
    sign_up(zh_client)

    page = zh_client.post(reverse("account_verify_phone"), {"code": "000000"}).content.decode()

    assert "验证码不正确。" in page
    assert "错误代码" not in page


def test_the_verification_mail_greets_in_chinese_without_the_host_or_english(zh_client):
    sign_up(
        zh_client,
        email="new@example.com",
        password1="a sensible passphrase",
        password2="a sensible passphrase",
    )
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
    zh_client.post(reverse("account_verify_phone"), {"code": code})

    [message] = mail.outbox
    assert message.body.startswith("您好，这里是云医院。")
    assert "感谢您使用云医院。" in message.body
    assert "Hello" not in message.body and "的 Hello" not in message.body
    assert message.subject.startswith("[云医院] ")
    assert "Email" not in message.subject


def test_the_verification_step_says_电子邮件地址(zh_client):
    with translation.override("zh-hans"):
        assert translation.gettext("Verify Your Email Address") == "验证您的电子邮件地址"
        assert translation.gettext("Incorrect code.") == "验证码不正确。"


def test_a_too_long_value_reads_as_plain_chinese():
    field = forms.CharField(max_length=100)

    with translation.override("zh-hans"):
        with pytest.raises(forms.ValidationError) as refused:
            field.clean("字" * 101)
        # The message is lazy: read it in the language it is shown in.
        assert refused.value.messages == ["请输入不超过 100 个字符（目前 101 个）。"]


def test_the_signup_page_addresses_the_reader_as_您_only(zh_client):
    page = zh_client.get(reverse("account_signup")).content.decode()

    assert "你" not in page
    assert "您的密码不能全都是数字。" in page
    assert "密码（选填）" in page
    with translation.override("zh-hans"):
        assert not any("你" in text for text in password_validators_help_texts())


def test_our_catalogue_never_says_你():
    assert [
        e["msgid"] for e in _entries() if "你" in (e.get("msgstr") or e.get("msgstr[0]", ""))
    ] == []


def test_a_history_line_names_staff_in_one_language():
    # "由医院管理员 Hospital Admin操作": the demo's staff accounts carry a person's name only.
    for account in STAFF_ACCOUNTS:
        assert not re.search(r"[A-Za-z]", account.name), account.name
    with translation.override("zh-hans"):
        assert translation.gettext("by %(name)s") % {"name": "周海燕"} == "由周海燕操作"
