"""Demo families for `seed_demo`: each demo patient account acts for itself and its family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from hospitals.models import Doctor
from records.idnumbers import make_id_number
from records.models import (
    ClinicalNote,
    ConsentKind,
    Drug,
    Encounter,
    Patient,
    Prescription,
    Problem,
    Relationship,
)
from records.selectors import patient_links_for_account
from records.services.consents import consent_give
from records.services.encounters import encounter_close, encounter_open
from records.services.notes import note_save, note_sign
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


# The chronic-care drugs of the demo formulary: a family may ask to renew them online
# (慢病续方, issue 20).
CHRONIC_CARE_DRUGS = ("氨氯地平片", "二甲双胍片")


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
    Drug.objects.filter(name__in=CHRONIC_CARE_DRUGS).update(is_chronic_care=True)
    return added


# The chronic patients' standing prescriptions, written at their past visit: (drug, strength,
# dose, frequency, days, quantity). The grandmother's has run out (she may ask to renew it);
# the grandfather's runs two more days.
CHRONIC_PRESCRIPTIONS = {
    "赵桂兰": ("氨氯地平片", "5 mg", "1 片", "每日一次 qd", 30, 30),
    "李建国": ("二甲双胍片", "0.5 g", "1 片", "每日两次 bid", 30, 60),
}


def _chronic_care(encounter: Encounter, visit: PastVisit) -> Prescription | None:
    """The standing problem and the prescription of a chronic patient's past visit."""
    from records.services.history import problem_add
    from records.services.prescriptions import prescription_save, prescription_sign

    rx = CHRONIC_PRESCRIPTIONS.get(visit.person)
    drug = Drug.objects.filter(name=rx[0], strength=rx[1]).first() if rx else None
    if drug is None:
        return None
    problem_add(
        encounter=encounter,
        by=encounter.doctor.user,
        description=visit.diagnosis,
        icd10_code=visit.icd10_code,
    )
    prescription = prescription_save(
        encounter=encounter,
        prescriber=encounter.doctor.user,
        items=[{"drug": drug, "dose": rx[2], "frequency": rx[3], "days": rx[4], "quantity": rx[5]}],
    )
    return prescription_sign(prescription=prescription, by=encounter.doctor.user)


@dataclass(frozen=True)
class PastVisit:
    person: str
    doctor_email: str
    mode: str
    days_ago: int
    subjective: str
    objective: str
    plan: str
    diagnosis: str
    icd10_code: str


# A few visits the demo families already had, so "My record" is not empty on the first run.
PAST_VISITS: tuple[PastVisit, ...] = (
    PastVisit(
        "陈小雨", "doctor.clinic@demo.test", "in_person", 84,
        "发热两天，最高 38.6℃，咳嗽，流涕。", "咽部充血，双肺呼吸音清。",
        "多饮水，对乙酰氨基酚退热，三天不退热复诊。", "急性上呼吸道感染", "J06.9",
    ),
    PastVisit(
        "赵桂兰", "doctor.clinic@demo.test", "in_person", 56,
        "高血压随访，近来头晕少。", "血压 142/88 mmHg，心率 76 次/分。",
        "继续氨氯地平 5 mg 每日一次，低盐饮食，一月后复查。", "原发性高血压", "I10",
    ),
    PastVisit(
        "王芳", "doctor.cloud@demo.test", "online", 35,
        "双手皮疹瘙痒两周，接触洗涤剂后加重。", "视频见双手背红斑、脱屑。",
        "避免接触洗涤剂，保湿，外用氢化可的松乳膏一周。", "湿疹", "L30.9",
    ),
    PastVisit(
        "李建国", "doctor.clinic@demo.test", "in_person", 28,
        "糖尿病随访，空腹血糖 7-8 mmol/L。", "体重 72 kg，足背动脉搏动好。",
        "继续二甲双胍 0.5 g 每日两次，三个月后查糖化血红蛋白。", "2型糖尿病", "E11.9",
    ),
)  # fmt: skip


def seed_past_visits() -> int:
    """Give the demo families the visits of PAST_VISITS: a closed encounter with a signed note,
    moved back to its day. Returns visits added; a person who already has one is left alone."""
    added = 0
    now = timezone.now()
    for visit in PAST_VISITS:
        patient = (
            Patient.objects.filter(name=visit.person, links__account__email__in=DEMO_FAMILIES)
            .order_by("pk")
            .first()
        )
        doctor = Doctor.objects.filter(user__email=visit.doctor_email).first()
        if patient is None or doctor is None or Encounter.objects.filter(patient=patient).exists():
            continue
        encounter = encounter_open(patient=patient, doctor=doctor, mode=visit.mode)
        note = note_save(
            encounter=encounter,
            author=doctor.user,
            subjective=visit.subjective,
            objective=visit.objective,
            plan=visit.plan,
            diagnosis=visit.diagnosis,
            icd10_code=visit.icd10_code,
        )
        note_sign(note=note, by=doctor.user)
        prescription = _chronic_care(encounter, visit)
        encounter_close(encounter=encounter, by=doctor.user)
        # Demo data only: the visit happened `days_ago`, at ten in the morning.
        then = (now - dt.timedelta(days=visit.days_ago)).replace(hour=2, minute=0, second=0)
        Encounter.objects.filter(pk=encounter.pk).update(
            started_at=then, ended_at=then + dt.timedelta(minutes=20)
        )
        ClinicalNote.objects.filter(pk=note.pk).update(
            created_at=then + dt.timedelta(minutes=5), signed_at=then + dt.timedelta(minutes=18)
        )
        if prescription is not None:
            Prescription.objects.filter(pk=prescription.pk).update(
                created_at=then + dt.timedelta(minutes=10),
                signed_at=then + dt.timedelta(minutes=19),
            )
            Problem.objects.filter(patient=patient).update(recorded_at=then)
        added += 1
    return added
