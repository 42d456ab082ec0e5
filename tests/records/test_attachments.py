"""Files in the record: typed from their bytes, images re-encoded without metadata, stored
under a random name through the storage API, downloaded only by readers of the record."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from audit.models import AuditEvent
from records import attachments
from records.models import Attachment
from tests.factories import EncounterFactory, PatientLinkFactory, UserFactory
from tests.records.conftest import (
    PDF_BYTES,
    doctor_account,
    grant,
    jpeg_with_gps,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def family():
    account = UserFactory()
    link = PatientLinkFactory(account=account)
    return link.patient, account


def _add(client, patient, name, data, content_type, title=""):
    return client.post(
        reverse("record_attachment_add", args=[patient.public_id]),
        {"file": upload(name, data, content_type), "title": title},
        follow=True,
    )


def test_a_parent_adds_a_pdf_and_downloads_it_as_an_attachment(client, family):
    patient, account = family
    client.force_login(account)

    page = _add(client, patient, "血常规 report.pdf", PDF_BYTES, "application/pdf", "Blood test")

    assert "The file has been added to the record." in page.content.decode()
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf" and attachment.hospital is None
    assert attachment.original_name == "血常规 report.pdf"
    # Stored under the person's folder with a random name, never the uploaded one.
    assert attachment.file.name.startswith(f"attachments/{patient.public_id}/")
    assert "report" not in attachment.file.name and not attachment.file.name.endswith(".pdf")
    assert "Blood test" in page.content.decode()

    response = client.get(reverse("attachment_download", args=[attachment.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert AuditEvent.objects.filter(action="attachment.add", actor=account).exists()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("photo.png", b"<html><script>alert(1)</script></html>", "image/png"),  # HTML as .png
        ("scan.png", PDF_BYTES, "image/png"),  # a PDF sent as an image
        ("scan.pdf", png_bytes(), "application/pdf"),  # an image named .pdf
        ("photo.jpg", png_bytes(), "image/jpeg"),  # a PNG claiming to be a JPEG
        ("notes.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        ("doc.docx", b"PK\x03\x04 word", "application/octet-stream"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),  # only a header
    ],
)
def test_a_file_whose_bytes_are_not_what_it_claims_is_refused_and_nothing_is_stored(
    client, family, name, data, content_type
):
    patient, account = family
    client.force_login(account)

    page = _add(client, patient, name, data, content_type).content.decode()

    assert "The file has been added" not in page
    assert any(
        text in page
        for text in (
            "is not what its name or type says",
            "Only PDF, JPEG and PNG files",
            "could not be read",
        )
    )
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="attachment.add").exists()


def test_the_type_comes_from_the_bytes_when_the_browser_does_not_say(family):
    patient, account = family
    attachment = attachments.attachment_add_by_patient(
        patient=patient,
        account=account,
        upload=upload("IMG_0001", png_bytes(), "application/octet-stream"),
    )
    assert attachment.content_type == "image/png"
    assert attachment.original_name == "IMG_0001.png"


def test_a_photos_exif_and_gps_are_stripped_by_re_encoding(family):
    patient, account = family
    original = jpeg_with_gps()
    assert b"CANARY-CAMERA-MODEL" in original
    assert Image.open(io.BytesIO(original)).getexif()

    attachment = attachments.attachment_add_by_patient(
        patient=patient, account=account, upload=upload("photo.jpg", original, "image/jpeg")
    )

    stored = attachment.file.open("rb").read()
    assert b"CANARY-CAMERA-MODEL" not in stored and b"Exif" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (16, 12)
    assert not image.getexif()
    assert attachment.size == len(stored)


def test_png_text_and_exif_chunks_do_not_survive(family):
    patient, account = family
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "CANARY-PNG-TEXT")
    out = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(out, format="PNG", pnginfo=info)

    attachment = attachments.attachment_add_by_patient(
        patient=patient, account=account, upload=upload("a.png", out.getvalue(), "image/png")
    )

    stored = attachment.file.open("rb").read()
    assert b"CANARY-PNG-TEXT" not in stored
    assert Image.open(io.BytesIO(stored)).mode == "RGBA"


def test_a_file_over_the_size_limit_is_refused(family, settings):
    settings.RECORDS_ATTACHMENT_MAX_BYTES = 1024 * 1024
    patient, account = family
    big = PDF_BYTES[:-6] + b"x" * (1024 * 1024) + b"%%EOF\n"

    with pytest.raises(ValidationError) as refused:
        attachments.attachment_add_by_patient(
            patient=patient, account=account, upload=upload("big.pdf", big, "application/pdf")
        )

    assert "The file is too large: at most 1 MB." in refused.value.messages
    assert not Attachment.objects.exists()


def test_an_account_that_may_not_read_the_record_cannot_add_files(client):
    account = UserFactory()
    link = PatientLinkFactory(account=account, can_read_record=False, is_manager=False)
    client.force_login(account)

    response = client.post(
        reverse("record_attachment_add", args=[link.patient.public_id]),
        {"file": upload("a.pdf", PDF_BYTES, "application/pdf")},
    )

    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_a_doctor_adds_files_to_their_own_open_encounter_only(client):
    doctor, user = doctor_account()
    mine = EncounterFactory(doctor=doctor)
    someone_elses = EncounterFactory(patient=mine.patient)
    grant(user, mine.patient)
    client.force_login(user)

    def post(encounter):
        return client.post(
            reverse("encounter_attachment_add", args=[encounter.public_id]),
            {"file": upload("scan.png", png_bytes(), "image/png"), "title": "Rash"},
        )

    assert post(someone_elses).status_code == 404
    response = post(mine)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.encounter == mine and attachment.hospital == doctor.hospital

    mine.status, mine.ended_at = "closed", mine.started_at
    mine.save()
    page = client.get(response.url).content.decode()
    assert "Add the file" not in page  # no form on a closed encounter…
    with pytest.raises(ValidationError):  # …and the service refuses it
        attachments.attachment_add_to_encounter(
            encounter=mine,
            doctor_account=user,
            upload=upload("scan.png", png_bytes(), "image/png"),
        )
    assert Attachment.objects.count() == 1


def test_an_attachment_is_not_served_from_media_urls(client, family, settings):
    patient, account = family
    attachment = attachments.attachment_add_by_patient(
        patient=patient, account=account, upload=upload("a.pdf", PDF_BYTES, "application/pdf")
    )
    client.force_login(account)
    assert client.get(f"/{settings.MEDIA_URL}{attachment.file.name}").status_code == 404
    assert not str(settings.MEDIA_ROOT).startswith(str(settings.STATIC_ROOT))
