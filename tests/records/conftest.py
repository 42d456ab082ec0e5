from __future__ import annotations

import datetime as dt

import pytest

from records import hooks
from records.idnumbers import make_id_number
from tests.factories import UserFactory

CHILD_BIRTH = dt.date(2019, 6, 1)
CHILD_ID = make_id_number(birth_date=CHILD_BIRTH, sex="male", sequence=7)


@pytest.fixture
def bob(db):
    """Another verified account: never allowed to see alice's people."""
    return UserFactory(email="bob@example.com", name="Bob")


@pytest.fixture
def child_form() -> dict[str, str]:
    """What a parent types to add their six-year-old son."""
    return {
        "relationship": "child",
        "name": "王小明",
        "id_number": CHILD_ID,
        "sex": "male",
        "birth_date": CHILD_BIRTH.isoformat(),
        "phone": "",
        "consent_id_and_health_data": "on",
    }


@pytest.fixture
def future_appointments():
    """Stand in for the booking app's counter: set `counts[patient.pk]` to pretend bookings."""
    counts: dict[int, int] = {}

    def counter(patient) -> int:
        return counts.get(patient.pk, 0)

    hooks.future_appointment_counters.append(counter)
    yield counts
    hooks.future_appointment_counters.remove(counter)


@pytest.fixture
def clinic_hours():
    """The clock stands still at 09:55 Shanghai on a weekday (tests/records/clinical_setup)."""
    import time_machine

    from tests.records.clinical_setup import CLINIC_MOMENT

    with time_machine.travel(CLINIC_MOMENT, tick=False) as traveller:
        yield traveller
