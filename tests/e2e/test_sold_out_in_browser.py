"""Issue 16 in a browser: the last place goes while a patient's form is open (their hold ran
out and others took the places); their submit gets the short sold-out answer, the refusal and
the waiting-list offer, and joining the list from it works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db.models import F

from appointments.models import Hold, Slot, WaitlistEntry
from tests.appointments.conftest import open_slot, person

pytestmark = pytest.mark.django_db(transaction=True)

# Screenshots for a reviewer when SHOTS_DIR names a directory.
SHOTS = os.environ.get("SHOTS_DIR", "")


def test_a_submit_after_the_last_place_went_offers_the_waiting_list(
    page, live_server, alice, password
):
    me, _ = person(alice, name="李丽")
    slot = open_slot(capacity=2)

    page.goto(live_server.url + f"/accounts/login/?next=/appointments/book/{slot.pk}/")
    page.get_by_label("Mobile number or e-mail").fill(alice.email)
    page.get_by_label("Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{live_server.url}/appointments/book/{slot.pk}/")
    assert "held for you" in page.locator("main").inner_text()

    # Meanwhile the hold is swept and the release's rush takes every place.
    Hold.objects.filter(account=alice, state="live").update(state="released")
    Slot.objects.filter(pk=slot.pk).update(booked=F("capacity"))

    page.get_by_role("button", name="Book this time").click()
    main = page.locator("main")
    main.get_by_role("alert").wait_for()
    text = main.inner_text()
    assert "This time is fully booked" in text
    assert "Book this time" not in text
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{SHOTS}/sold-out-en-{width}.png", full_page=True)

    page.get_by_role("button", name="Join the waiting list").click()
    page.wait_for_selector("text=is on the waiting list")
    assert WaitlistEntry.objects.filter(slot=slot, patient=me, state="waiting").exists()
