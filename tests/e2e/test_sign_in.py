"""A person opens the site on a phone, signs in, and lands on the home page signed in."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_loads_and_a_patient_signs_in(page, live_server, alice, password):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "See a doctor in your city, in person or by video"

    # On a phone the navigation folds behind the menu button.
    sign_in = page.get_by_role("link", name="Sign in", exact=True).first
    page.get_by_role("button", name="Menu").click()
    page.locator("#site-nav").get_by_role("link", name="Sign in").click()
    page.get_by_label("Mobile number or e-mail").fill(alice.email)
    page.get_by_label("Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()

    page.wait_for_url(live_server.url + "/")
    page.get_by_role("button", name="Menu").click()
    assert page.locator("#site-nav").get_by_role("button", name="Sign out").is_visible()
    assert sign_in.count() == 0


def test_language_switch_in_the_browser_shows_chinese(page, live_server):
    page.goto(live_server.url + "/")

    page.get_by_role("button", name="简体中文").click()

    page.wait_for_selector("html[lang='zh-hans']")
    assert "云医院" in page.locator(".brand").inner_text()
