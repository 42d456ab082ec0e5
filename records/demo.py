"""Demo families for `seed_demo`: each demo patient account acts for itself and its family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from records.idnumbers import make_id_number
from records.models import ConsentKind, Relationship
from records.selectors import patient_links_for_account
from records.services.consents import consent_give
from records.services.people import patient_add


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
        if patient_links_for_account(account=account).exists():
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


# A small formulary for the demo (name, English name, strength, form, controlled). Controlled
# drugs (morphine, tramadol, diazepam) are never prescribed in an online consult.
DEMO_DRUGS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("阿莫西林胶囊", "Amoxicillin capsules", "0.25 g", "胶囊 capsule", False),
    ("布洛芬缓释胶囊", "Ibuprofen sustained-release capsules", "0.3 g", "胶囊 capsule", False),
    ("对乙酰氨基酚片", "Paracetamol tablets", "0.5 g", "片 tablet", False),
    ("氯雷他定片", "Loratadine tablets", "10 mg", "片 tablet", False),
    ("西替利嗪片", "Cetirizine tablets", "10 mg", "片 tablet", False),
    ("丁酸氢化可的松乳膏", "Hydrocortisone butyrate cream", "0.1% 10 g", "乳膏 cream", False),
    ("莫匹罗星软膏", "Mupirocin ointment", "2% 5 g", "软膏 ointment", False),
    ("蒙脱石散", "Montmorillonite powder", "3 g", "散剂 powder", False),
    ("奥美拉唑肠溶胶囊", "Omeprazole enteric capsules", "20 mg", "胶囊 capsule", False),
    ("氨氯地平片", "Amlodipine tablets", "5 mg", "片 tablet", False),
    ("二甲双胍片", "Metformin tablets", "0.5 g", "片 tablet", False),
    ("沙丁胺醇气雾剂", "Salbutamol inhaler", "100 μg/揿 puff", "气雾剂 inhaler", False),
    ("硫酸吗啡缓释片", "Morphine sulfate sustained-release tablets", "10 mg", "片 tablet", True),
    ("盐酸曲马多片", "Tramadol hydrochloride tablets", "50 mg", "片 tablet", True),
    ("地西泮片", "Diazepam tablets", "2.5 mg", "片 tablet", True),
)


def seed_drugs() -> int:
    """Add the demo formulary; returns drugs added (none the second time)."""
    from records.models import Drug

    added = 0
    for name, name_en, strength, form, controlled in DEMO_DRUGS:
        _drug, created = Drug.objects.get_or_create(
            name=name,
            strength=strength,
            defaults={"name_en": name_en, "form": form, "is_controlled": controlled},
        )
        added += created
    return added
