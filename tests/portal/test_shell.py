"""The site shell: both languages, navigation that fits who is signed in."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_switching_to_chinese_renders_the_site_in_chinese(client):
    switched = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert switched.status_code == 302

    page = client.get("/")

    html = page.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "云医院" in html
    assert "注册" in html  # "Register"
    assert "Register" not in html


def test_a_chinese_browser_gets_chinese_without_choosing(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    assert '<html lang="zh-hans">' in page.content.decode()


def test_allauth_pages_render_inside_the_site_shell_in_chinese(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    page = client.get(reverse("account_signup"))

    html = page.content.decode()
    assert 'class="site-header"' in html
    assert "手机号码" in html  # our phone field's label, translated
    assert "注册" in html


def test_anonymous_navigation_offers_sign_in_and_register(client):
    html = client.get("/").content.decode()

    assert reverse("account_login") in html
    assert reverse("account_signup") in html
    assert reverse("admin:index") not in html


def test_patient_navigation_has_no_staff_entries(client, alice):
    client.force_login(alice)

    html = client.get("/").content.decode()

    assert reverse("admin:index") not in html
    assert reverse("account_login") not in html


def test_static_assets_are_served_locally(client):
    html = client.get("/").content.decode()

    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert "//cdn" not in html and "https://" not in html


def test_form_errors_reach_chinese_users_in_chinese(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    page = client.post(
        reverse("account_signup"),
        {
            "email": "x@example.com",
            "phone": "13800138000",
            "password1": "short",
            "password2": "short",
        },
    )

    html = page.content.decode()
    assert "密码太短，至少需要 10 个字符。" in html
    assert "too short" not in html


@pytest.mark.parametrize(
    ("role", "sees", "does_not_see"),
    [
        ("hospital_admin", "/manage/", "/admin/"),
        ("doctor", None, "/manage/"),
        ("front_desk", None, "/manage/"),
    ],
)
def test_staff_navigation_follows_the_hospital_role(client, role, sees, does_not_see):
    from tests.conftest import with_totp
    from tests.factories import StaffMembershipFactory

    member = with_totp(StaffMembershipFactory(role=role).user)
    client.force_login(member)

    html = client.get("/").content.decode()

    if sees:
        assert f'href="{sees}"' in html
    assert f'href="{does_not_see}"' not in html


def test_a_group_of_radio_buttons_is_a_fieldset_with_its_question_as_legend():
    from django import forms

    class SexForm(forms.Form):
        sex = forms.ChoiceField(
            label="Sex", choices=[("female", "female"), ("male", "male")], widget=forms.RadioSelect
        )

    html = str(SexForm())

    assert "<fieldset" in html
    assert "<legend>Sex</legend>" in html
    assert '<label for="id_sex_0">' in html
