from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from records.idnumbers import make_id_number
from records.models import Consent, Patient, PatientLink

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified patient account that can sign in with PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    phone_verified = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs) -> None:
        if create and extracted is not False and self.email:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
            self.email_verified = True  # what the EmailAddress signal wrote to the row


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class HospitalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Hospital"

    name = factory.Sequence(lambda n: f"第{n}人民医院")
    name_en = factory.Sequence(lambda n: f"No. {n} People's Hospital")
    slug = factory.Sequence(lambda n: f"hospital-{n}")
    kind = "hospital"
    district = "海曙区"
    district_en = "Haishu"


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Department"

    hospital = factory.SubFactory(HospitalFactory)
    name = "皮肤科"
    name_en = "Dermatology"
    slug = factory.Sequence(lambda n: f"department-{n}")


class DoctorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.Doctor"

    department = factory.SubFactory(DepartmentFactory)
    hospital = factory.SelfAttribute("department.hospital")
    name = factory.Sequence(lambda n: f"医生{n}")
    name_en = factory.Sequence(lambda n: f"Doctor {n}")
    title = "attending"


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hospitals.StaffMembership"

    user = factory.SubFactory(UserFactory)
    hospital = factory.SubFactory(HospitalFactory)
    role = "hospital_admin"


# --- records: people ------------------------------------------------------------------------


class PatientFactory(factory.django.DjangoModelFactory):
    """A person with a valid GB 11643 ID number that agrees with their birth date and sex.

    Pass `id_number=` for a particular number; it is encrypted, hashed and masked like the
    service does.
    """

    class Meta:
        model = Patient

    name = factory.Sequence(lambda n: f"张{n}")
    sex = "female"
    birth_date = factory.Sequence(lambda n: dt.date(1980, 1, 1) + dt.timedelta(days=n))
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    id_number = factory.LazyAttributeSequence(
        lambda o, n: make_id_number(birth_date=o.birth_date, sex=o.sex, sequence=n)
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        number = kwargs.pop("id_number")
        patient = model_class(*args, **kwargs)
        patient.set_id_number(number)
        patient.save()
        return patient

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        number = kwargs.pop("id_number")
        patient = model_class(*args, **kwargs)
        patient.set_id_number(number)
        return patient


class PatientLinkFactory(factory.django.DjangoModelFactory):
    """An account managing a person, with every right."""

    class Meta:
        model = PatientLink

    patient = factory.SubFactory(PatientFactory)
    account = factory.SubFactory(UserFactory)
    relationship = "child"
    is_manager = True
    can_book = True
    can_read_record = True


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    given_by = factory.SubFactory(UserFactory)
    kind = "id_and_health_data"
    on_behalf = "guardian"
    text_version = "2026-11-v1"


# --- appointments: time inventory -----------------------------------------------------------


class ScheduleRuleFactory(factory.django.DjangoModelFactory):
    """A Monday morning session, 08:00–12:00 in 30-minute slots, valid from 2026-01-01."""

    class Meta:
        model = "appointments.ScheduleRule"

    doctor = factory.SubFactory(DoctorFactory)
    site = factory.SelfAttribute("doctor.hospital")
    weekday = 0
    start_time = dt.time(8, 0)
    end_time = dt.time(12, 0)
    slot_minutes = 30
    public_places = 3
    referral_places = 0
    mode = "in_person"
    fee = Decimal("25.00")
    valid_from = dt.date(2026, 1, 1)


class SlotFactory(factory.django.DjangoModelFactory):
    """A released, open 30-minute slot three days from now with three public places."""

    class Meta:
        model = "appointments.Slot"
        skip_postgeneration_save = True

    doctor = factory.SubFactory(DoctorFactory)
    site = factory.SelfAttribute("doctor.hospital")
    department = factory.SelfAttribute("doctor.department")
    start = factory.LazyFunction(
        lambda: timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
    )
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(minutes=30))
    mode = "in_person"
    capacity = 3
    referral_capacity = 0
    fee = Decimal("25.00")
    release_at = factory.LazyAttribute(lambda o: o.start - dt.timedelta(days=7))
    referral_release_at = factory.LazyAttribute(lambda o: o.release_at - dt.timedelta(days=7))
    referral_merge_at = factory.LazyAttribute(lambda o: o.start - dt.timedelta(hours=24))

    @factory.post_generation
    def next_free_period(obj, create, extracted, **kwargs):
        """Search reads each doctor's next free period, which the services that write slots
        keep; a slot written by the factory brings its doctor's up to date the same way."""
        if create:
            from appointments.services import next_free_periods_refresh

            next_free_periods_refresh(doctor_ids=[obj.doctor_id])


# --- booking ----------------------------------------------------------------------------------


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Referral"

    patient = factory.SubFactory(PatientFactory)
    to_hospital = factory.SubFactory(HospitalFactory)
    reason = "转诊复查"
    valid_until = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment row as the booking service leaves it. It does not touch the slot's
    counters: tests that need the counter invariant book through `appointment_book`."""

    class Meta:
        model = "appointments.Appointment"

    code = factory.Sequence(lambda n: f"T{n:07d}")
    patient = factory.SubFactory(PatientFactory)
    slot = factory.SubFactory(SlotFactory)
    booked_by = factory.SubFactory(UserFactory)


# --- records: the clinical record (issue 8) -------------------------------------------------


class EncounterFactory(factory.django.DjangoModelFactory):
    """An open encounter of a doctor (with an account) at the doctor's hospital."""

    class Meta:
        model = "records.Encounter"

    patient = factory.SubFactory(PatientFactory)
    doctor = factory.SubFactory(DoctorFactory, user=factory.SubFactory(UserFactory))
    hospital = factory.SelfAttribute("doctor.hospital")
    department = factory.SelfAttribute("doctor.department")
    mode = "in_person"


class ClinicalNoteFactory(factory.django.DjangoModelFactory):
    """A signed note by the encounter's doctor; pass `signed_at=None` for a draft."""

    class Meta:
        model = "records.ClinicalNote"

    encounter = factory.SubFactory(EncounterFactory)
    author = factory.LazyAttribute(lambda o: o.encounter.doctor.user)
    subjective = "皮肤瘙痒两周"
    assessment = "湿疹"
    plan = "外用药膏，两周后复诊"
    diagnosis = "Eczema"
    icd10_code = "L30.9"
    signed_at = factory.LazyFunction(timezone.now)
