"""The public directory, which cannot import appointments, shows real free periods."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from tests.factories import DoctorFactory, SlotFactory

pytestmark = pytest.mark.django_db


def test_department_page_shows_each_doctors_next_free_period_from_the_slot_table(client):
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=2)
    busy = DoctorFactory(name="林医生", name_en="Dr Lin")
    free = DoctorFactory(department=busy.department, name="周医生", name_en="Dr Zhou")
    SlotFactory(doctor=busy, start=start, capacity=2, booked=2)  # full: not a free period
    SlotFactory(doctor=free, start=start, capacity=3, booked=1)
    department = busy.department

    with translation.override("en"):
        page = client.get(f"/hospitals/{department.hospital.slug}/{department.slug}/")

    html = page.content.decode()
    local = timezone.localtime(start, department.hospital.zone)
    assert local.strftime("%H:%M") in html
    assert "2 left" in html or "2 places left" in html
    zhou, lin = html.index("Dr Zhou"), html.index("Dr Lin")
    lin_card = html[lin : lin + 1500] if lin > zhou else html[lin:zhou]
    assert "No free period in the next two weeks" in lin_card
