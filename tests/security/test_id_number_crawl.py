"""No full ID number anywhere: the demo city (seed_demo) crawled as each demo role, following
links (bounded), every HTML page, JSON, CSV and .ics it reaches, the e-mails and texts the
bookings wrote, and every log line, searched for `\\d{17}[\\dXx]` and for the demo people's
actual numbers."""

from __future__ import annotations

import io
import logging
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from appointments.errors import BookingRefused
from appointments.models import Appointment, Slot
from appointments.services import appointment_book
from notifications import sms
from notifications.models import Notification, OutboxMessage
from notifications.services import outbox_deliver_due
from records.models import Patient, PatientLink
from tests.conftest import with_totp

pytestmark = pytest.mark.django_db

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")
PAGES_PER_ROLE = 60
SKIP = ("/accounts/logout", "/i18n/", "/static/", "/admin/logout", "/media/")
ROLES = (
    None,
    "patient@demo.test",
    "family@demo.test",
    "admin@demo.test",
    "hospital.admin@demo.test",
    "doctor.cloud@demo.test",
    "doctor.clinic@demo.test",
    "desk@demo.test",
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.links:
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme in ("", "http") and parts.netloc in ("", "testserver"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not path.startswith(SKIP):
                found.append(path)
    return found


def crawl(client: Client, start: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = deque(start)
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        if response.status_code in (301, 302):
            seen[path] = ""
            queue.append(response["Location"])
            continue
        body = response.content.decode("utf-8", errors="replace")
        seen[path] = body
        if response.get("Content-Type", "").startswith("text/html"):
            queue.extend(_links(path, body))
    return seen


def _book_for_the_demo_families() -> None:
    """Bookings with the two demo doctors, so the doctor's day, the desk, the console's exports,
    the e-mails and the texts have patients to show."""
    now = timezone.now()
    for email in ("patient@demo.test", "family@demo.test"):
        account = User.objects.get(email=email)
        for link in PatientLink.objects.live().filter(account=account)[:2]:
            for doctor in ("doctor.cloud@demo.test", "doctor.clinic@demo.test"):
                slots = Slot.objects.filter(
                    doctor__user__email=doctor, start__gt=now, release_at__lte=now
                ).order_by("start")
                for slot in slots[:12]:
                    try:
                        appointment_book(patient=link.patient, slot=slot, booked_by=account)
                        break
                    except BookingRefused:
                        continue


def test_no_answer_log_line_or_message_of_any_role_holds_a_full_id_number(caplog):
    call_command("seed_demo", stdout=io.StringIO())
    numbers = {patient.id_number for patient in Patient.objects.all()}
    assert len(numbers) >= 5
    for user in User.objects.filter(email__endswith="@demo.test").exclude(
        email__in=["patient@demo.test", "family@demo.test"]
    ):
        with_totp(user)
    _book_for_the_demo_families()
    outbox_deliver_due(now=timezone.now())

    found: list[str] = []
    pages = 0
    with caplog.at_level(logging.DEBUG):
        for email in ROLES:
            client = Client()
            if email is not None:
                client.force_login(User.objects.get(email=email))
            seen = crawl(client, ["/", "/appointments/", "/me/patients/", "/doctor/", "/desk/",
                                  "/manage/", "/me/notifications/", "/admin/"])  # fmt: skip
            pages += len(seen)
            for path, body in seen.items():
                if FULL_ID.search(body) or any(n in body for n in numbers):
                    found.append(f"{email}: {path}")
    texts = [r.getMessage() for r in caplog.records]
    texts += [f"{m.subject}\n{m.body}\n{m.attachments}" for m in mail.outbox]
    texts += [
        f"{o.title}\n{o.body}\n{o.address}\n{o.attachments}" for o in OutboxMessage.objects.all()
    ]
    texts += [f"{n.title}\n{n.body}" for n in Notification.objects.all()]
    texts += [f"{text.phone}\n{text.text}" for text in sms.outbox]
    for text in texts:
        if FULL_ID.search(text) or any(n in text for n in numbers):
            found.append(f"message or log line: {text[:80]!r}")
    assert Appointment.objects.count() >= 4
    print(f"\nID-number crawl: {pages} answers, {len(texts)} log lines and messages")
    assert pages > 100
    assert found == []
