"""260 hostile strings (tests/security/xss_payloads.txt) through every field a patient writes —
the person's name, the account's name, the visit reason, consult chat, file names — rendered
in every page, export and e-mail that shows them: the doctor's day, the consult room, the desk,
the console's CSV, the appointment pages and .ics, the people pages, the outbox. All inert."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from appointments.services import appointment_book
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from records.models import Attachment
from telemedicine.models import ChatMessage
from tests.appointments.conftest import person
from tests.conftest import sign_in_recently, with_totp
from tests.factories import (
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    SlotFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.security.inert import csv_problems, html_problems, ics_problems, payloads, storable
from tests.security.matrix import body_of

pytestmark = pytest.mark.django_db

PAYLOADS = payloads()
BATCH = 40
BATCHES = [PAYLOADS[i : i + BATCH] for i in range(0, len(PAYLOADS), BATCH)]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A fixed morning, so the doctor's day holds every period whatever the hour of the run.
MORNING = dt.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)


def test_there_are_more_than_two_hundred_payloads_of_every_family():
    assert len(PAYLOADS) >= 200
    for family in ("<script", "onerror", "javascript:", "<svg", '"', "＜", "\u202e", "=cmd"):
        assert any(family in p for p in PAYLOADS), family


def test_the_checker_catches_what_a_browser_would_run():
    assert html_problems('<p><img src=x onerror="alert(1)"></p>')
    assert html_problems('<a href=" javascript:alert(1)">x</a>')
    assert html_problems("<script>alert(1)</script>")
    assert html_problems("<p>&lt;b&gt;</p>", ["<b>"]) == []
    assert html_problems("<p><b></p>", ["<b>"])
    assert csv_problems("=cmd|' /C calc'!A0\r\n")
    assert csv_problems("'=cmd\r\n") == []


def _clinic(payload_batch: list[str]):
    hospital = HospitalFactory(kind="cloud", slug="hostile-x")
    doctor_user = with_totp(UserFactory())
    doctor = DoctorFactory(department=DepartmentFactory(hospital=hospital), user=doctor_user)
    StaffMembershipFactory(user=doctor_user, hospital=hospital, role="doctor")
    online = SlotFactory(
        doctor=doctor,
        mode="online",
        start=MORNING + dt.timedelta(hours=1),
        end=MORNING + dt.timedelta(hours=1, minutes=30),
        capacity=BATCH,
        release_at=MORNING - dt.timedelta(days=1),
    )
    # The in-person visit is in another department: one appointment per department and day.
    visit = SlotFactory(
        doctor=DoctorFactory(department=DepartmentFactory(hospital=hospital)),
        start=MORNING + dt.timedelta(hours=6),
        end=MORNING + dt.timedelta(hours=6, minutes=30),
        capacity=BATCH,
        release_at=MORNING - dt.timedelta(days=1),
    )
    people = []
    for text in payload_batch:
        account = UserFactory(name=storable(text, 150))
        patient, _ = person(account, name=storable(text, 60))
        reason = storable(text, 300)
        consult = appointment_book(
            patient=patient, slot=online, booked_by=account, visit_reason=reason
        )
        in_person = appointment_book(
            patient=patient, slot=visit, booked_by=account, visit_reason=reason
        )
        ChatMessage.objects.create(
            consultation=consult.consultation, sender=account, text=storable(text, 2000)
        )
        Attachment.objects.create(
            patient=patient,
            uploaded_by=account,
            file="attachments/none",
            original_name=storable(text, 200),
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
        )
        people.append((account, patient, consult, in_person))
    return {
        "hospital": hospital,
        "doctor_user": doctor_user,
        "admin": with_totp(StaffMembershipFactory(hospital=hospital).user),
        "desk": with_totp(StaffMembershipFactory(hospital=hospital, role="front_desk").user),
        "people": people,
    }


def _as(user) -> Client:
    """Signed in just now (the console's CSV asks for a fresh password otherwise)."""
    client = Client()
    sign_in_recently(client, user)
    return client


@pytest.mark.parametrize("batch", range(len(BATCHES)))
def test_hostile_text_is_inert_in_every_page_export_and_email(batch):
    texts = BATCHES[batch]
    stored = sorted({storable(t, 60) for t in texts} | {storable(t, 300) for t in texts})
    problems: list[str] = []

    def look(label: str, response, kind: str = "html") -> str:
        assert response.status_code == 200, (label, response.status_code)
        body = body_of(response).split("\n", len(response.headers))[-1]
        found = {
            "html": lambda: html_problems(body, stored),
            "csv": lambda: csv_problems(body),
        }[kind]()
        problems.extend(f"{label}: {p}" for p in found)
        return body

    with time_machine.travel(MORNING, tick=True):
        s = _clinic(texts)
        hospital = s["hospital"]
        doctor = _as(s["doctor_user"])
        day = look("doctor's day", doctor.get(reverse("doctor_day")))
        for _account, _patient, consult, _visit in s["people"]:
            room = reverse("consult_room", args=[consult.consultation.public_id])
            look("consult room", doctor.get(room))
        admin = _as(s["admin"])
        csv_response = admin.get(reverse("console_day_csv", args=[hospital.slug, MORNING.date()]))
        look("console CSV", csv_response, kind="csv")
        look("console day", admin.get(reverse("console_day", args=[hospital.slug, MORNING.date()])))
        desk = _as(s["desk"])
        for _account, _patient, _consult, visit in s["people"]:
            look("desk", desk.get(reverse("desk"), {"code": visit.code}))
        # The patient's own pages show only their own text: a sample of them is enough.
        for account, patient, consult, visit in s["people"][::5]:
            mine = _as(account)
            look("my appointments", mine.get(reverse("appointment_list")))
            look("appointment", mine.get(reverse("appointment_detail", args=[consult.code])))
            look(
                "patient room",
                mine.get(reverse("consult_room", args=[consult.consultation.public_id])),
            )
            look("my people", mine.get(reverse("patient_detail", args=[patient.public_id])))
            ics = mine.get(reverse("appointment_ics", args=[visit.code]))
            problems.extend(f"ics: {p}" for p in ics_problems(ics.content.decode(), 1))
        outbox_deliver_due(now=MORNING + dt.timedelta(minutes=1))
        look("inbox", _as(s["people"][0][0]).get(reverse("notification_list")))

    # Every payload really reached the pages (escaped), so the checks above saw it. The CSV is
    # a download, never a page: plain text, and the browser is told not to sniff it.
    assert csv_response["Content-Disposition"].startswith("attachment;")
    assert csv_response["X-Content-Type-Options"] == "nosniff"
    assert len(s["people"]) == len(texts)
    assert "&lt;" in day or not any("<" in t for t in texts)
    for message in mail.outbox:
        for alternative, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                problems.extend(f"e-mail: {p}" for p in html_problems(alternative, stored))
        for attachment in message.attachments:
            if attachment[0].endswith(".ics"):
                problems.extend(f"e-mail ics: {p}" for p in ics_problems(attachment[1], 1))
        if "\nBcc:" in message.subject or "\n" in message.subject:
            problems.append(f"a header injected through the subject {message.subject[:40]!r}")
    assert OutboxMessage.objects.exists()
    assert problems == []
