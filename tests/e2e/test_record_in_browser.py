"""My record in a real browser on a phone (DESIGN.md §1, step 6): a parent opens the child's
record, reads both hospitals' notes, adds a photo, downloads it, and sees who has read it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from records.models import Attachment
from tests.appointments.conftest import person
from tests.records.conftest import (
    CANARY_A,
    CANARY_B,
    grant,
    jpeg_with_gps,
    record_with_two_hospitals,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_parent_reads_the_childs_record_adds_a_photo_and_sees_who_read_it(
    page, live_server, password, tmp_path
):
    record = record_with_two_hospitals()
    parent = record.reader
    parent.set_password(password)
    parent.save()
    person(parent, name="李丽")  # the parent's own record comes first
    grant(record.doctor_a_user, record.patient)
    # A doctor's read, through the same view as in the doctor's browser.
    staff = Client()
    staff.force_login(record.doctor_a_user)
    staff.get(reverse("staff_record", args=[record.patient.public_id]))

    page.goto(live_server.url + "/accounts/login/?next=/me/record/")
    page.get_by_label("Mobile number or e-mail").fill(parent.email)
    page.get_by_label("Password").fill(password)
    page.locator("main form").get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/me/record/")
    assert "Record of 李丽" in page.locator("h1").inner_text()

    page.get_by_role("navigation", name="Whose record").get_by_role("link", name="王小明").click()
    page.wait_for_url(f"{live_server.url}/me/record/{record.patient.public_id}/")
    main = page.locator("main").inner_text()
    assert CANARY_A in main and CANARY_B in main

    photo = tmp_path / "rash.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.get_by_label("What is it?").fill("Rash on the elbow")
    page.get_by_label("File (PDF, JPEG or PNG)").set_input_files(str(photo))
    page.get_by_role("button", name="Add the file").click()
    page.wait_for_selector("text=The file has been added to the record.")

    attachment = Attachment.objects.get(title="Rash on the elbow")
    with page.expect_download() as download:
        page.get_by_role("link", name="Rash on the elbow").click()
    saved = tmp_path / "downloaded.jpg"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "rash.jpg"
    assert b"CANARY-CAMERA-MODEL" not in saved.read_bytes()
    assert saved.read_bytes() == attachment.file.open("rb").read()

    page.get_by_role("link", name="Who has seen this record").click()
    page.wait_for_url(f"{live_server.url}/me/record/{record.patient.public_id}/readers/")
    readers = page.locator("main").inner_text()
    assert record.doctor_a_user.get_full_name() in readers and "The whole record" in readers
