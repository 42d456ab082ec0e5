"""Demo families for `seed_demo`: each demo patient account acts for itself and its family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from records.idnumbers import make_id_number
from records.models import ConsentKind, PatientLink, Relationship
from records.services import consent_give, patient_add


@dataclass(frozen=True)
class DemoPerson:
    name: str
    sex: str
    birth_date: dt.date
    relationship: str
    region: str


# Invented people; ID numbers are made valid (GB 11643) for their birth date and sex.
DEMO_FAMILIES: dict[str, tuple[DemoPerson, ...]] = {
    "patient@demo.test": (
        DemoPerson("王芳", "female", dt.date(1988, 3, 14), Relationship.SELF, "330203"),
        DemoPerson("陈小雨", "female", dt.date(2019, 9, 2), Relationship.CHILD, "330203"),
        DemoPerson("赵桂兰", "female", dt.date(1956, 11, 23), Relationship.PARENT, "330212"),
    ),
    "family@demo.test": (
        DemoPerson("李明", "male", dt.date(1979, 6, 30), Relationship.SELF, "330205"),
        DemoPerson("李建国", "male", dt.date(1950, 2, 8), Relationship.PARENT, "330205"),
    ),
}


def seed_families(*, accounts: dict) -> int:
    """Register the demo families for the given {email: account}; returns people added.

    An account that already acts for anybody is left as it is, so running it twice adds
    nothing.
    """
    added = 0
    for email, people in DEMO_FAMILIES.items():
        account = accounts[email]
        if PatientLink.objects.live().filter(account=account).exists():
            continue
        for number, person in enumerate(people):
            patient = patient_add(
                account=account,
                name=person.name,
                sex=person.sex,
                birth_date=person.birth_date,
                id_number=make_id_number(
                    birth_date=person.birth_date,
                    sex=person.sex,
                    region=person.region,
                    sequence=number + 17,
                ),
                relationship=person.relationship,
                consent_id_and_health_data=True,
            )
            # The demo families have agreed to consults by video and to a shared record, so
            # the flagship story runs without stopping at the consent prompt.
            for kind in (ConsentKind.TELEMEDICINE, ConsentKind.RECORD_SHARING):
                consent_give(patient=patient, account=account, kind=kind)
            added += 1
    return added
