from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language

from audit.models import AuditEvent
from audit.selectors import audit_events_for
from hospitals.models import Department, Doctor, Hospital, StaffMembership
from hospitals.search_names import pinyin_key
from hospitals.signals import FreePeriod, next_free_periods_wanted


def hospitals_managed_by(*, user) -> QuerySet[Hospital]:
    """The hospitals whose console this account may use: all for a platform admin, otherwise
    those where it holds a hospital_admin membership."""
    if not user.is_authenticated or not user.is_active:
        return Hospital.objects.none()
    if user.is_superuser:
        return Hospital.objects.all()
    return Hospital.objects.filter(
        memberships__user=user, memberships__role=StaffMembership.Role.HOSPITAL_ADMIN
    ).distinct()


def managed_hospital_or_404(*, user, slug: str) -> Hospital:
    """Another hospital's console is a 404, never a 403: it does not exist for this account."""
    return get_object_or_404(hospitals_managed_by(user=user), slug=slug)


def hospital_roles(*, user) -> frozenset[str]:
    """The staff roles the account holds at any hospital, read once per request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_hospital_roles", None)
    if cached is None:
        cached = frozenset(
            StaffMembership.objects.filter(user=user).values_list("role", flat=True).distinct()
        )
        user._hospital_roles = cached
    return cached


def user_is_hospital_staff(*, user) -> bool:
    """Whether the account holds any staff membership (doctor, front desk, hospital admin)."""
    return bool(hospital_roles(user=user))


def doctor_history(*, doctor, limit: int = 100) -> list:
    """The doctor's console history, newest first: events whose target is the doctor, and
    events about things of theirs (a rota line, a closure) that name them with
    `data["doctor_id"]`."""
    events = audit_events_for(target=doctor) | AuditEvent.objects.filter(data__doctor_id=doctor.pk)
    return list(events.select_related("actor")[:limit])


# Lists: the order an admin set where there is one, then the name's pinyin (not code point).
ADMIN_ORDER = F("display_order").asc(nulls_last=True)
DEPARTMENT_ADMIN_ORDER = F("department__display_order").asc(nulls_last=True)


def departments_for_console(*, hospital: Hospital) -> QuerySet[Department]:
    active = Count("doctors", filter=Q(doctors__is_active=True))
    return hospital.departments.annotate(active_doctors=active).order_by(
        "-is_active", ADMIN_ORDER, "name_pinyin", "name"
    )


def doctors_for_console(*, hospital: Hospital) -> QuerySet[Doctor]:
    return hospital.doctors.select_related("department", "user").order_by(
        "-is_active", DEPARTMENT_ADMIN_ORDER, "department__name_pinyin", "name_pinyin", "name"
    )


def hospitals_active() -> QuerySet[Hospital]:
    """The hospitals open to the public: the directory and the FHIR API show these."""
    return Hospital.objects.filter(is_active=True)


def doctors_active() -> QuerySet[Doctor]:
    """Active doctors of active hospitals, each with its hospital and department."""
    return Doctor.objects.filter(is_active=True, hospital__is_active=True).select_related(
        "hospital", "department"
    )


def hospitals_public(*, district: str = "", kind: str = "") -> QuerySet[Hospital]:
    hospitals = hospitals_active().annotate(
        department_count=Count("departments", filter=Q(departments__is_active=True))
    )
    if district:
        hospitals = hospitals.filter(district=district)
    if kind:
        hospitals = hospitals.filter(kind=kind)
    # The cloud hospital first (anyone can reach it), then hospitals, then community clinics.
    kind_order = Case(
        *[When(kind=kind, then=rank) for rank, kind in enumerate(KIND_ORDER)],
        default=len(KIND_ORDER),
    )
    return hospitals.order_by(kind_order, ADMIN_ORDER, "name_pinyin", "name")


def hospital_districts() -> list[tuple[str, str]]:
    """(district, its name in the active language) of every active hospital, once each."""
    rows = (
        hospitals_active()
        .exclude(district="")
        .values_list("district", "district_en")
        .distinct()
        .order_by("district")
    )
    language = get_language() or ""
    seen: dict[str, str] = {}
    for district, district_en in rows:
        label = district_en if language.startswith("en") and district_en else district
        seen.setdefault(district, label)
    return sorted(seen.items(), key=lambda item: pinyin_key(item[1]))


def departments_public(*, hospital: Hospital) -> QuerySet[Department]:
    active = Count("doctors", filter=Q(doctors__is_active=True))
    return (
        hospital.departments.filter(is_active=True)
        .annotate(doctor_count=active)
        .order_by(ADMIN_ORDER, "name_pinyin", "name")
    )


def doctors_public(*, department: Department) -> QuerySet[Doctor]:
    order = Case(
        *[When(title=title, then=rank) for rank, title in enumerate(TITLE_ORDER)],
        default=len(TITLE_ORDER),
    )
    return department.doctors.filter(is_active=True).order_by(order, "name_pinyin", "name")


KIND_ORDER = [Hospital.Kind.CLOUD, Hospital.Kind.HOSPITAL, Hospital.Kind.CLINIC]
TITLE_ORDER = [
    Doctor.Title.CHIEF,
    Doctor.Title.ASSOCIATE_CHIEF,
    Doctor.Title.ATTENDING,
    Doctor.Title.RESIDENT,
]


def next_free_periods(*, doctors: Iterable[Doctor]) -> dict[int, FreePeriod]:
    """Each doctor's next free period, by doctor id, as the apps above answer
    `next_free_periods_wanted` (appointments: its slot table); empty when none answers."""
    doctors = list(doctors)
    if not doctors:
        return {}
    periods: dict[int, FreePeriod] = {}
    for _receiver, answer in next_free_periods_wanted.send(sender=Doctor, doctors=doctors):
        periods.update(answer)
    return periods
