"""The verbs that change the directory: each one transaction, each one audited."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.services import audit_record
from hospitals import search_names
from hospitals.models import (
    Department,
    DepartmentSearchName,
    Doctor,
    DoctorSearchName,
    Hospital,
    HospitalSearchName,
    StaffMembership,
)
from notifications.models import OutboxMessage
from notifications.services import notify

DEPARTMENT_FIELDS = (
    "name",
    "name_en",
    "slug",
    "description",
    "description_en",
    "min_age_years",
    "max_age_years",
    "sex",
    "aliases",
    "display_order",
)
DOCTOR_FIELDS = (
    "name",
    "name_en",
    "department",
    "title",
    "specialties",
    "specialties_en",
    "bio",
    "bio_en",
    "photo",
    "offers_online",
    "room",
)


def _only(fields: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    return fields


def _audit_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if hasattr(value, "name") and not isinstance(value, str):  # a file
        return getattr(value, "name", "") or ""
    return value


def _changes(obj, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """from/to of each field that changes, for the audit trail."""
    changed = {}
    for field, new in fields.items():
        old = getattr(obj, field)
        if _audit_value(old) != _audit_value(new):
            changed[field] = [_audit_value(old), _audit_value(new)]
    return changed


# Departments


def department_create(*, hospital: Hospital, by, **fields: Any) -> Department:
    department = Department(hospital=hospital, **_only(fields, DEPARTMENT_FIELDS))
    department.full_clean()
    with transaction.atomic():
        department.save()
        audit_record(
            actor=by,
            action="department.create",
            target=department,
            data={"hospital_id": hospital.pk, "slug": department.slug},
        )
    return department


def department_update(*, department: Department, by, **fields: Any) -> Department:
    changes = _changes(department, _only(fields, DEPARTMENT_FIELDS))
    for field, value in fields.items():
        setattr(department, field, value)
    department.full_clean()
    with transaction.atomic():
        department.save()
        audit_record(
            actor=by,
            action="department.update",
            target=department,
            data={"hospital_id": department.hospital_id, "changes": changes},
        )
    return department


def department_deactivate(*, department: Department, by) -> Department:
    """Hide a department from the directory; refused while active doctors still work in it."""
    with transaction.atomic():
        active_doctors = department.doctors.filter(is_active=True).count()
        if active_doctors:
            raise ValidationError(
                _(
                    "%(count)s active doctors still work in this department. Move them to "
                    "another department or deactivate them first."
                )
                % {"count": active_doctors},
                code="department_has_doctors",
            )
        department.is_active = False
        department.save(update_fields=["is_active"])
        audit_record(
            actor=by,
            action="department.deactivate",
            target=department,
            data={"hospital_id": department.hospital_id},
        )
    return department


# Doctors


def _check_department(*, hospital: Hospital, department: Department | None) -> None:
    if department is not None and department.hospital_id != hospital.pk:
        raise ValidationError(
            {"department": _("Choose a department of the doctor's own hospital.")}
        )
    if department is not None and not department.is_active:
        raise ValidationError({"department": _("This department is no longer active.")})


def doctor_create(*, hospital: Hospital, by, **fields: Any) -> Doctor:
    fields = _only(fields, DOCTOR_FIELDS)
    _check_department(hospital=hospital, department=fields.get("department"))
    doctor = Doctor(hospital=hospital, **fields)
    doctor.full_clean(exclude=["user"])
    with transaction.atomic():
        doctor.save()
        audit_record(
            actor=by,
            action="doctor.create",
            target=doctor,
            data={"hospital_id": hospital.pk, "department_id": doctor.department_id},
        )
    return doctor


def doctor_update(*, doctor: Doctor, by, **fields: Any) -> Doctor:
    fields = _only(fields, DOCTOR_FIELDS)
    if "department" in fields and fields["department"].pk != doctor.department_id:
        _check_department(hospital=doctor.hospital, department=fields["department"])
    changes = _changes(doctor, fields)
    for field, value in fields.items():
        setattr(doctor, field, value)
    doctor.full_clean(exclude=["user"])
    with transaction.atomic():
        doctor.save()
        audit_record(
            actor=by,
            action="doctor.update",
            target=doctor,
            data={"hospital_id": doctor.hospital_id, "changes": changes},
        )
    return doctor


def doctor_deactivate(*, doctor: Doctor, by) -> Doctor:
    """Take a doctor off the directory. Their account and past records stay; their sessions
    are the rota's business (a Closure covers booked ones)."""
    with transaction.atomic():
        doctor.is_active = False
        doctor.save(update_fields=["is_active"])
        audit_record(
            actor=by,
            action="doctor.deactivate",
            target=doctor,
            data={"hospital_id": doctor.hospital_id},
        )
    return doctor


def _set_password_url(*, base_url: str, user) -> str:
    """allauth's own password-reset link (its token generator, key format and URL, as its
    password-reset flow builds them), so following it lands on allauth's set-password page and
    the token dies once a password is set."""
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return base_url + path.replace("UID-KEY", quote(key))


def _serialise_on(key: str) -> None:
    """Hold a transaction-scoped lock named by `key` (PostgreSQL advisory lock). SQLite needs
    none: its IMMEDIATE transactions already let one writer in at a time."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def doctor_invite(
    *,
    hospital: Hospital,
    email: str,
    invited_by,
    base_url: str,
    doctor: Doctor | None = None,
    phone: str = "",
    name: str = "",
    name_en: str = "",
    department: Department | None = None,
    title: str = "",
) -> Doctor:
    """Give a doctor an account and e-mail them a link to set its password (on `base_url`,
    the site the admin works on, e.g. `https://portal.example.cn`).

    Either links an existing `doctor` of this hospital that has no account yet, or creates a
    new one from `name`, `department` and `title`. An account with this e-mail is reused (it
    keeps its password); otherwise one is made with an unusable password and a verified
    address, since the link proves the address; its mobile `phone` (E.164) is stored unverified
    and confirmed by SMS at the first sign-in, as every account's is. The doctor membership is
    added either way.
    """
    User = get_user_model()
    email = User.objects.normalize_email(email.strip()).lower()
    if doctor is not None:
        if doctor.hospital_id != hospital.pk:
            raise ValidationError(_("This doctor does not work at this hospital."))
        if doctor.user_id is not None:
            raise ValidationError(_("This doctor already has an account."), code="has_account")
    else:
        _check_department(hospital=hospital, department=department)

    with transaction.atomic():
        # Two admins inviting the same address (or the same listed doctor) at once: the second
        # waits here, then sees the first one's account and gets the ordinary refusal instead
        # of a unique-constraint error.
        _serialise_on(f"doctor_invite:{email}")
        if doctor is not None:
            doctor = Doctor.objects.select_for_update().get(pk=doctor.pk)
            if doctor.user_id is not None:
                raise ValidationError(_("This doctor already has an account."), code="has_account")
        user = User.objects.filter(email__iexact=email).first()
        created_account = user is None
        if user is None:
            if not phone:
                raise ValidationError(
                    {
                        "phone": _(
                            "Give the doctor's mobile number: every account confirms one by "
                            "SMS when it first signs in."
                        )
                    },
                    code="phone_required",
                )
            user = User.objects.create_user(
                email=email,
                password=None,
                name=name or (doctor.name if doctor is not None else ""),
                phone=phone,
                phone_verified=False,
            )
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        elif Doctor.objects.filter(user=user).exists():
            raise ValidationError(
                _("The account %(email)s is already linked to a doctor.") % {"email": email},
                code="account_taken",
            )
        if doctor is None:
            doctor = Doctor(
                hospital=hospital, department=department, name=name, name_en=name_en, title=title
            )
            doctor.full_clean(exclude=["user"])
            doctor.save()
            audit_record(
                actor=invited_by,
                action="doctor.create",
                target=doctor,
                data={"hospital_id": hospital.pk, "department_id": doctor.department_id},
            )
        doctor.user = user
        doctor.save(update_fields=["user"])
        StaffMembership.objects.get_or_create(
            user=user, hospital=hospital, role=StaffMembership.Role.DOCTOR
        )
        audit_record(
            actor=invited_by,
            action="doctor.invite",
            target=doctor,
            data={"hospital_id": hospital.pk, "new_account": created_account},
        )
        needs_password = not user.has_usable_password()
        context = {
            "doctor": doctor,
            "hospital": hospital,
            "needs_password": needs_password,
            "set_password_url": _set_password_url(base_url=base_url, user=user)
            if needs_password
            else "",
            "sign_in_url": base_url + reverse("account_login"),
        }
        subject = render_to_string("hospitals/email/doctor_invite_subject.txt", context).strip()
        body = render_to_string("hospitals/email/doctor_invite_message.txt", context)
        # Through the outbox, delivered after commit; the set-password link is a credential,
        # so its text is blanked once the message has gone (`secret`).
        notify(
            account=user,
            kind="doctor.invite",
            subject=doctor,
            channels=(OutboxMessage.Channel.EMAIL,),
            address=email,
            context={"title": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "body": body},
            secret=needs_password,
        )
    return doctor


def search_names_rebuild(*, hospitals: Iterable | None = None) -> int:
    """Rewrite the searched names of every hospital, department and doctor (or of those of
    `hospitals`), and their pinyin sort keys: for rows written in bulk, which skip `save()`.
    Returns the number of names written."""
    hospital_rows = Hospital.objects.all()
    if hospitals is not None:
        hospital_rows = hospital_rows.filter(pk__in=[h.pk for h in hospitals])
    hospital_rows = list(hospital_rows)
    departments = list(Department.objects.filter(hospital__in=hospital_rows))
    doctors = list(Doctor.objects.filter(hospital__in=hospital_rows))
    written = 0
    for model, rows, owner, names in (
        (HospitalSearchName, hospital_rows, "hospital", _hospital_names),
        (DepartmentSearchName, departments, "department", _department_names),
        (DoctorSearchName, doctors, "doctor", _doctor_names),
    ):
        model.objects.filter(**{f"{owner}__in": rows}).delete()
        fresh = [
            model(**{owner: row, "text": text})
            for row in rows
            for text in search_names.suffixes(names(row))
        ]
        model.objects.bulk_create(fresh, batch_size=5000)
        written += len(fresh)
        for row in rows:
            row.name_pinyin = search_names.pinyin_key(row.name)
        if rows:
            type(rows[0]).objects.bulk_update(rows, ["name_pinyin"], batch_size=2000)
    return written


def _hospital_names(hospital) -> set[str]:
    return search_names.names_for_hospital(name=hospital.name, name_en=hospital.name_en)


def _department_names(department) -> set[str]:
    return search_names.names_for_department(
        name=department.name, name_en=department.name_en, aliases=department.aliases
    )


def _doctor_names(doctor) -> set[str]:
    return search_names.names_for_doctor(
        name=doctor.name,
        name_en=doctor.name_en,
        specialties=doctor.specialties,
        specialties_en=doctor.specialties_en,
    )
