"""The world the security tests attack: two hospitals, ten roles, and patient A's objects, each
carrying a canary string that must reach no one who is not entitled to it.

Hospital X is where patient A is treated (an online consult with chat, an in-person visit, an
encounter with a signed note, an addendum, an allergy, a problem, an attachment, a signed lab
report, a referral, a stopped clinic); hospital Y is a neighbour whose admin must learn
nothing of X.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.services import ACCESS_TOKEN_DAYS, access_token_create
from appointments.familydoctors.models import FamilySigning, FamilyTeam, FollowUpPlan, FollowUpTask
from appointments.models import CalendarToken
from appointments.selectors import offer_token
from appointments.services import (
    appointment_book,
    appointment_check_in,
    calendar_token_issue,
    closure_create,
    queue_call_next,
)
from notifications.models import Notification
from records import services as record_services
from records.models import (
    Allergy,
    Attachment,
    CareRelationship,
    ClinicalNote,
    Consent,
    Drug,
    Encounter,
    Exam,
    NoteAddendum,
    Observation,
    PatientLink,
    Prescription,
    PrescriptionItem,
    Problem,
    RenewalRequest,
)
from tests.appointments.conftest import SHANGHAI, person
from tests.conftest import with_totp
from tests.factories import (
    AppointmentFactory,
    ConsentFactory,
    DepartmentFactory,
    DoctorFactory,
    HospitalFactory,
    PatientFactory,
    PatientLinkFactory,
    ReferralFactory,
    ScheduleRuleFactory,
    SlotFactory,
    StaffFactory,
    StaffMembershipFactory,
    UserFactory,
)

# Who may see which kind of canary anywhere on the site (DESIGN.md §3): the people themselves
# and their treating doctor everything; hospital staff of X names and X's own business, never
# clinical content; everyone else nothing of patient A or hospital X.
PERSON = "person"  # names, e-mail addresses, phone numbers of patient A's people
CLINICAL = "clinical"  # visit reasons, chat, notes, diagnoses, allergies, files, referrals
HOSPITAL = "hospital"  # hospital X's internal business (a closure's reason)
ALL = frozenset({PERSON, CLINICAL, HOSPITAL})

ROLES = (
    "anonymous",
    "patient_a",
    "patient_b",
    "revoked",
    "doctor_nocare",
    "doctor_care",
    "admin_x",
    "admin_y",
    "desk_x",
    "platform_admin",
)

ENTITLED: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "patient_a": ALL,
    "patient_b": frozenset(),
    "revoked": frozenset(),
    "doctor_nocare": frozenset(),
    "doctor_care": ALL,
    "admin_x": frozenset({PERSON, HOSPITAL}),
    "admin_y": frozenset(),
    "desk_x": frozenset({PERSON, HOSPITAL}),
    "platform_admin": frozenset({PERSON, HOSPITAL}),
}


def canary(kind: str, what: str) -> str:
    """A string no page would print by chance: letters and digits only, so no escaping or
    formatting of any template changes it."""
    return f"Zq{kind[:3].upper()}{what}Canary71"


@dataclass
class World:
    users: dict[str, Any]
    objects: dict[str, Any]
    canaries: dict[str, list[str]] = field(default_factory=dict)

    def forbidden_for(self, role: str, reveals: frozenset[str] = frozenset()) -> list[str]:
        entitled = ENTITLED[role] | reveals
        return [c for kind, values in self.canaries.items() if kind not in entitled for c in values]

    def add(self, kind: str, value: str) -> str:
        self.canaries.setdefault(kind, []).append(value)
        return value


def _local(day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=day_offset)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def build_world() -> World:
    world = World(users={"anonymous": None}, objects={})

    def c(kind: str, what: str) -> str:
        return world.add(kind, canary(kind, what))

    # --- hospitals and staff ------------------------------------------------------------
    x = HospitalFactory(slug="hospital-x", kind="cloud", timezone="Asia/Shanghai")
    y = HospitalFactory(slug="hospital-y")
    dept_x = DepartmentFactory(hospital=x, slug="derm-x")
    dept_y = DepartmentFactory(hospital=y, slug="derm-y")
    doctor_user = with_totp(UserFactory(name="Dr Care"))
    StaffMembershipFactory(user=doctor_user, hospital=x, role="doctor")
    doctor = DoctorFactory(department=dept_x, user=doctor_user, offers_online=True)
    nocare_user = with_totp(UserFactory(name="Dr Elsewhere"))
    StaffMembershipFactory(user=nocare_user, hospital=x, role="doctor")
    other_doctor = DoctorFactory(department=dept_x, user=nocare_user)
    doctor_y = DoctorFactory(department=dept_y, user=with_totp(UserFactory()))
    admin_x = with_totp(StaffMembershipFactory(hospital=x, role="hospital_admin").user)
    admin_y = with_totp(StaffMembershipFactory(hospital=y, role="hospital_admin").user)
    desk_x = with_totp(StaffMembershipFactory(hospital=x, role="front_desk").user)
    platform_admin = with_totp(StaffFactory())
    rule_x = ScheduleRuleFactory(doctor=doctor)
    rule_y = ScheduleRuleFactory(doctor=doctor_y)

    # --- patient A: an account for herself and her child --------------------------------
    account_a = UserFactory(name=c(PERSON, "AccountName"), email="canary-a@example.com")
    world.add(PERSON, "canary-a@example.com")
    self_a, _ = person(account_a, name=c(PERSON, "SelfName"), phone="+8613900071071")
    child = PatientFactory(name=c(PERSON, "ChildName"), birth_date=dt.date(2019, 6, 1))
    child_link = PatientLinkFactory(patient=child, account=account_a, relationship="child")
    ConsentFactory(patient=child, given_by=account_a)
    ConsentFactory(patient=child, given_by=account_a, kind="telemedicine")
    ConsentFactory(patient=child, given_by=account_a, kind="record_sharing")
    sharing = Consent.objects.get(patient=child, kind="record_sharing")

    # The account whose link to the child was revoked keeps nothing.
    revoked = UserFactory()
    gone = PatientLinkFactory(
        patient=child, account=revoked, relationship="other", is_manager=False
    )
    PatientLink.objects.filter(pk=gone.pk).update(revoked_at=timezone.now())

    invitation, invitation_token = record_services.invitation_create(
        patient=child,
        invited_by=account_a,
        email="canary-invitee@example.com",
        relationship="parent",
    )
    world.add(PERSON, "canary-invitee@example.com")

    # --- patient B, with a person of her own --------------------------------------------
    account_b = UserFactory()
    person(account_b, name="Bee Person")

    # --- patient A's care at hospital X -------------------------------------------------
    # The consult room is open now: the online period starts in five minutes.
    soon = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=5)
    online = SlotFactory(
        doctor=doctor, mode="online", start=soon, end=soon + dt.timedelta(minutes=30)
    )
    consult_appt = appointment_book(
        patient=child, slot=online, booked_by=account_a, visit_reason=c(CLINICAL, "VisitReason")
    )
    visit_slot = SlotFactory(doctor=doctor, start=_local(3, 9), end=_local(3, 9, 30))
    visit = appointment_book(
        patient=child,
        slot=visit_slot,
        booked_by=account_a,
        visit_reason=c(CLINICAL, "SecondReason"),
    )
    consultation = consult_appt.consultation
    from telemedicine.models import ChatMessage

    ChatMessage.objects.create(
        consultation=consultation, sender=account_a, text=c(CLINICAL, "ChatFromParent")
    )
    ChatMessage.objects.create(
        consultation=consultation, sender=doctor_user, text=c(CLINICAL, "ChatFromDoctor")
    )

    encounter = Encounter.objects.create(
        patient=child, doctor=doctor, hospital=x, department=dept_x, mode="online"
    )
    note = ClinicalNote.objects.create(
        encounter=encounter,
        author=doctor_user,
        subjective=c(CLINICAL, "Subjective"),
        assessment=c(CLINICAL, "Assessment"),
        diagnosis=c(CLINICAL, "Diagnosis"),
        signed_at=timezone.now(),
    )
    NoteAddendum.objects.create(note=note, author=doctor_user, text=c(CLINICAL, "Addendum"))
    allergy = Allergy.objects.create(
        patient=child,
        substance=c(CLINICAL, "Allergy"),
        severity="mild",
        hospital=x,
        recorded_by=doctor_user,
    )
    problem = Problem.objects.create(
        patient=child, description=c(CLINICAL, "Problem"), hospital=x, recorded_by=doctor_user
    )
    attachment = Attachment(
        patient=child,
        encounter=encounter,
        hospital=x,
        uploaded_by=doctor_user,
        original_name=c(CLINICAL, "FileName") + ".pdf",
        title=c(CLINICAL, "FileTitle"),
        content_type="application/pdf",
        size=9,
        sha256="0" * 64,
    )
    attachment.file.save("x.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
    attachment.save()
    referral = ReferralFactory(
        patient=child, to_hospital=x, reason=c(CLINICAL, "ReferralReason"), encounter=encounter
    )
    # A signed lab report of the encounter, with a value and the file (issue 15).
    exam = Exam.objects.create(
        encounter=encounter,
        patient=child,
        hospital=x,
        kind="lab",
        title=c(CLINICAL, "ExamTitle"),
        status="final",
        ordered_by=doctor_user,
        findings=c(CLINICAL, "Findings"),
        impression=c(CLINICAL, "Impression"),
        signer=doctor_user,
        signed_at=timezone.now(),
    )
    exam.files.add(attachment)
    observation = Observation.objects.create(
        exam=exam,
        name=c(CLINICAL, "LabTest"),
        value=Decimal("7.5"),
        unit="mmol/L",
        reference_low=Decimal("3.9"),
        reference_high=Decimal("6.1"),
    )

    # Today at X's desk: A herself checked in for an in-person visit and was called in, so the
    # desk's queue, the waiting-room display and the doctor's day have a row of hers.
    today_slot = SlotFactory(doctor=doctor, start=_local(0, 0), end=_local(0, 0, 30), booked=1)
    arrived = AppointmentFactory(
        patient=self_a, slot=today_slot, booked_by=account_a, visit_reason=c(CLINICAL, "DeskReason")
    )
    appointment_check_in(appointment=arrived, by=desk_x, at_desk=True)
    assert queue_call_next(doctor=doctor, by=doctor_user, seen_last=None) == arrived

    # A stopped clinic cancelled one of A's appointments and offered another time.
    stopped_slot = SlotFactory(doctor=doctor, start=_local(4, 10), end=_local(4, 10, 30))
    stopped = appointment_book(patient=self_a, slot=stopped_slot, booked_by=account_a)
    closure = closure_create(
        scope="doctor",
        doctor=doctor,
        starts_at=stopped_slot.start,
        ends_at=stopped_slot.end,
        reason=c(HOSPITAL, "ClosureReason"),
        by=admin_x,
    )
    spare = SlotFactory(doctor=doctor, start=_local(5, 10), end=_local(5, 10, 30))
    stopped.refresh_from_db()
    rebook_token = offer_token(appointment=stopped, slot=spare)

    feed_token, feed_secret = calendar_token_issue(
        owner=account_a, purpose=CalendarToken.Purpose.PERSONAL, by=account_a
    )
    sessions_token, sessions_secret = calendar_token_issue(
        owner=admin_x, purpose=CalendarToken.Purpose.DOCTOR_SESSIONS, doctor=doctor, by=admin_x
    )
    notification = Notification.objects.create(
        account=account_a, title=c(PERSON, "NoticeTitle"), body=c(CLINICAL, "NoticeBody")
    )
    # A personal access token of A's (the FHIR API's credential), for the revoke form.
    access_token, _secret = access_token_create(
        owner=account_a, name=c(PERSON, "TokenName"), days=ACCESS_TOKEN_DAYS[0]
    )
    # A text consult (图文问诊) of A's child with the treating doctor, answered, with a photo.
    from telemedicine.models import TextConsultOffer
    from telemedicine.services_text import text_consult_open, text_consult_reply
    from tests.telemedicine.text import png

    TextConsultOffer.objects.create(doctor=doctor, is_open=True, daily_limit=50)
    text_consult = text_consult_open(
        patient=child,
        doctor=doctor,
        by=account_a,
        question=c(CLINICAL, "TextQuestion"),
        photos=[png()],
    )
    text_consult_reply(consult=text_consult, by=doctor_user, text=c(CLINICAL, "TextAnswer"))
    text_photo = text_consult.messages.first().photos.get()
    # Repeat prescriptions (issue 20): the child's diabetes, a signed insulin-free prescription
    # of a chronic-care drug on the encounter, and a renewal request waiting for the doctor.
    chronic = Problem.objects.create(
        patient=child,
        description=c(CLINICAL, "ChronicProblem"),
        icd10_code="E10",
        hospital=x,
        recorded_by=doctor_user,
    )
    metformin = Drug.objects.create(name="二甲双胍片", strength="0.5 g", is_chronic_care=True)
    prescription = Prescription.objects.create(
        encounter=encounter,
        prescriber=doctor_user,
        signed_at=timezone.now() - dt.timedelta(days=31),
    )
    PrescriptionItem.objects.create(
        prescription=prescription,
        drug=metformin,
        dose=c(CLINICAL, "Dose"),
        frequency="每日两次",
        days=30,
        quantity=60,
    )
    renewal = RenewalRequest.objects.create(
        patient=child,
        prescription=prescription,
        problem=chronic,
        doctor=doctor,
        department=dept_x,
        hospital=x,
        requested_by=account_a,
        note=c(CLINICAL, "RenewalNote"),
    )

    # A family-doctor team of X's with the treating doctor as its GP, A's child signed with it
    # (made directly: the service keeps teams to clinics, and X is the cloud hospital), and
    # an overdue follow-up (issue 20).
    team = FamilyTeam.objects.create(clinic=x, name="Team X", gp=doctor)
    today = timezone.now().astimezone(SHANGHAI).date()
    signing = FamilySigning.objects.create(
        patient=child,
        team=team,
        starts_on=today,
        ends_on=today + dt.timedelta(days=364),
        signed_by=account_a,
        on_behalf="guardian",
        consent_text_version="test",
    )
    plan = FollowUpPlan.objects.create(
        signing=signing,
        label=c(CLINICAL, "FollowUpLabel"),
        interval_months=3,
        created_by=doctor_user,
    )
    task = FollowUpTask.objects.create(
        plan=plan, signing=signing, due_on=today - dt.timedelta(days=1)
    )
    # The treating doctor reads by the booking's care relationship; make sure it is there.
    assert CareRelationship.objects.filter(patient=child, user=doctor_user).exists()

    world.users.update(
        patient_a=account_a,
        patient_b=account_b,
        revoked=revoked,
        doctor_nocare=nocare_user,
        doctor_care=doctor_user,
        admin_x=admin_x,
        admin_y=admin_y,
        desk_x=desk_x,
        platform_admin=platform_admin,
    )
    world.objects.update(
        hospital=x,
        hospital_y=y,
        department=dept_x,
        department_y=dept_y,
        doctor=doctor,
        other_doctor=other_doctor,
        doctor_y=doctor_y,
        rule=rule_x,
        rule_y=rule_y,
        patient=child,
        self_patient=self_a,
        link=child_link,
        consent=sharing,
        invitation=invitation,
        invitation_token=invitation_token,
        appointment=visit,
        arrived=arrived,
        consult_appointment=consult_appt,
        consultation=consultation,
        slot=visit_slot,
        online_slot=online,
        encounter=encounter,
        note=note,
        attachment=attachment,
        exam=exam,
        observation=observation,
        allergy=allergy,
        problem=problem,
        prescription=prescription,
        renewal=renewal,
        access_token=access_token,
        schedule_id=f"{doctor.pk}-{x.pk}",
        referral=referral,
        closure=closure,
        rebook_token=rebook_token,
        spare=spare,
        feed_secret=feed_secret,
        feed_token=feed_token,
        sessions_secret=sessions_secret,
        sessions_token=sessions_token,
        notification=notification,
        text_thread=text_consult.encounter,
        text_photo=text_photo,
        family_team=team,
        family_signing=signing,
        followup_task=task,
        day=visit_slot.start.astimezone(SHANGHAI).date().isoformat(),
    )
    return world
