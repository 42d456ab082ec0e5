"""A booking served by the ASGI server (issue 16): filling the doctor's first free period ends
the search row at once (search works the doctor out from the slots meanwhile) and the row is
recomputed shortly after on the server's executor, off the booking's request."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from channels.testing import HttpCommunicator
from django.conf import settings
from django.utils import timezone

from appointments.models import Appointment, NextFreePeriod
from appointments.selectors import SearchQuery, search_doctors
from appointments.services import next_free_periods_refresh_due
from portal.asgi import django_asgi_app
from tests.appointments.conftest import later_slot, open_slot, person
from tests.sockets import TIMEOUT, async_test, database_sync_to_async, session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


async def fetch(path: str, *, cookie: str, method: str = "GET", body: bytes = b""):
    headers = [(b"host", b"localhost"), (b"cookie", cookie.encode())]
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    communicator = HttpCommunicator(django_asgi_app, method, path, body=body, headers=headers)
    return await communicator.get_response(timeout=TIMEOUT)


def _world():
    first = open_slot(capacity=1)
    second = later_slot(first, capacity=1)
    elsewhere = open_slot(capacity=5)  # its page gives the form's CSRF token, holding there
    next_free_periods_refresh_due()
    patient, account = person()
    return first, second, elsewhere, patient, session_key_for(account)


def _row(doctor_id):
    return NextFreePeriod.objects.get(doctor_id=doctor_id, mode="in_person")


def _found(doctor_id):
    """The doctor's period as search shows it."""
    results = search_doctors(query=SearchQuery(mode="in_person"), now=timezone.now())
    return next(r.first_free for r in results if r.doctor.pk == doctor_id)


@async_test
async def test_filling_the_first_period_ends_the_row_and_it_is_recomputed_soon_after():
    first, second, elsewhere, patient, session = await database_sync_to_async(_world)()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
    page = await fetch(f"/appointments/book/{elsewhere.pk}/", cookie=cookie)
    html = page["body"].decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    csrf = next(
        value.decode().split(";")[0]
        for name, value in page["headers"]
        if name.lower() == b"set-cookie" and value.startswith(b"csrftoken=")
    )

    booked = await fetch(
        f"/appointments/book/{first.pk}/",
        method="POST",
        cookie=f"{cookie}; {csrf}",
        body=f"patient={patient.pk}&key={key}&csrfmiddlewaretoken={token}".encode(),
    )
    assert booked["status"] == 302
    assert await database_sync_to_async(Appointment.objects.filter(slot=first).count)() == 1

    # Right after the answer: the row no longer says the full period, and search is right.
    row = await database_sync_to_async(_row)(first.doctor_id)
    assert row.valid_until is not None and row.valid_until <= timezone.now()
    assert await database_sync_to_async(_found)(first.doctor_id) == second.start

    # Soon after, without the beat: the row names the next free period again, exact.
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        row = await database_sync_to_async(_row)(first.doctor_id)
        if row.start == second.start:
            break
        await asyncio.sleep(0.05)
    assert row.start == second.start
    assert row.valid_until == second.start  # exact until that period starts
