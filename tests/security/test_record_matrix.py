"""Who reads a record (DESIGN.md §3): every role × the record page, a note and a file.

A role that may not read gets a 404 on every URL, and no page it gets shows a row it may not
see (canary strings). Staff reads are audited, one AuditEvent per page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from appointments.services import appointment_book, appointment_cancel
from audit.models import AuditEvent
from records.access import break_glass_open
from tests.appointments.conftest import open_slot, person
from tests.conftest import with_totp
from tests.factories import (
    PatientLinkFactory,
    StaffFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.records.conftest import (
    CANARY_A,
    CANARY_B,
    CANARY_DRAFT,
    doctor_account,
    expired_grant,
    grant,
    record_with_two_hospitals,
)

pytestmark = pytest.mark.django_db

ALL = "all"  # reads every hospital's rows
OWN = "own"  # reads only what their own hospital (A) wrote
NONE = "none"  # 404 everywhere


def _linked(record, **link_fields):
    account = UserFactory()
    PatientLinkFactory(patient=record.patient, account=account, is_manager=False, **link_fields)
    return account


def _revoked(record):
    from django.utils import timezone

    account = UserFactory()
    PatientLinkFactory(
        patient=record.patient, account=account, is_manager=False, revoked_at=timezone.now()
    )
    return account


def _other_patient(record):
    _patient, account = person()
    return account


def _doctor_with_booking(record):
    grant(record.doctor_a_user, record.patient)
    return record.doctor_a_user


def _doctor_after_cancel(record):
    """Booked through the real service by the family, then cancelled by them (issue 13)."""
    slot = open_slot(doctor=record.doctor_a)
    appointment = appointment_book(patient=record.patient, slot=slot, booked_by=record.reader)
    appointment_cancel(appointment=appointment, by=record.reader, reason="patient")
    return record.doctor_a_user


def _doctor_without_sharing(record):
    record.patient.consents.filter(kind="record_sharing").delete()
    grant(record.doctor_a_user, record.patient)
    return record.doctor_a_user


def _doctor_without_grant(record):
    return record.doctor_a_user


def _doctor_after_expiry(record):
    expired_grant(record.doctor_a_user, record.patient)
    return record.doctor_a_user


def _break_glass_doctor(record):
    _doctor, user = doctor_account()
    record.patient.consents.filter(kind="record_sharing").delete()
    break_glass_open(user=user, patient=record.patient, reason="Unconscious in A&E, no family")
    return user


def _hospital_admin(record):
    user = with_totp(UserFactory())
    StaffMembershipFactory(user=user, hospital=record.hospital_a, role="hospital_admin")
    StaffMembershipFactory(user=user, hospital=record.hospital_b, role="hospital_admin")
    return user


def _front_desk(record):
    user = with_totp(UserFactory())
    StaffMembershipFactory(user=user, hospital=record.hospital_b, role="front_desk")
    return user


def _platform_superuser(record):
    return with_totp(StaffFactory())


ROLES = {
    "linked reader": (lambda r: r.reader, "family", ALL),
    "linked, may not read": (lambda r: _linked(r, can_read_record=False), "family", NONE),
    "revoked link": (_revoked, "family", NONE),
    "another patient": (_other_patient, "family", NONE),
    "doctor with a booking": (_doctor_with_booking, "staff", ALL),
    "doctor, no sharing consent": (_doctor_without_sharing, "staff", OWN),
    "doctor without a grant": (_doctor_without_grant, "staff", NONE),
    "doctor after the grant ended": (_doctor_after_expiry, "staff", NONE),
    "doctor after the booking was cancelled": (_doctor_after_cancel, "staff", NONE),
    "break-glass doctor": (_break_glass_doctor, "staff", ALL),
    "hospital admin": (_hospital_admin, "staff", NONE),
    "front desk": (_front_desk, "staff", NONE),
    "platform superuser": (_platform_superuser, "staff", NONE),
}


def _urls(record, side: str) -> dict[str, str]:
    pid = record.patient.public_id
    if side == "family":
        return {
            "record": reverse("record_patient", args=[pid]),
            "note_a": reverse("record_note", args=[record.note_a.public_id]),
            "note_b": reverse("record_note", args=[record.note_b.public_id]),
            "file_b": reverse("attachment_download", args=[record.attachment_b.public_id]),
            "file_own": reverse("attachment_download", args=[record.attachment_own.public_id]),
        }
    return {
        "record": reverse("staff_record", args=[pid]),
        "note_a": reverse("staff_note", args=[record.note_a.public_id]),
        "note_b": reverse("staff_note", args=[record.note_b.public_id]),
        "file_b": reverse("staff_attachment_download", args=[record.attachment_b.public_id]),
        "file_own": reverse("staff_attachment_download", args=[record.attachment_own.public_id]),
    }


def _every_url(record) -> list[str]:
    urls = [*_urls(record, "family").values(), *_urls(record, "staff").values()]
    urls.append(reverse("record_readers", args=[record.patient.public_id]))
    urls.append(reverse("record_note", args=[record.draft_b.public_id]))
    return urls


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_reads_exactly_what_the_rules_allow(client, role):
    record = record_with_two_hospitals()
    make, side, sees = ROLES[role]
    account = make(record)
    client.force_login(account)
    urls = _urls(record, side)
    responses = {name: client.get(url) for name, url in urls.items()}
    pages = "".join(
        r.content.decode()
        for r in responses.values()
        if r.get("Content-Type", "").startswith("text/html")
    )

    if sees == NONE:
        assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(urls, 404)
        # …and no other URL of the record answers either.
        for url in _every_url(record):
            response = client.get(url)
            assert response.status_code == 404, url
            pages += response.content.decode()
        assert CANARY_A not in pages and CANARY_B not in pages and record.patient.name not in pages
        assert not AuditEvent.objects.filter(action="record.read", actor=account).exists()
        return

    assert responses["record"].status_code == 200
    assert responses["note_a"].status_code == 200
    assert responses["file_own"].status_code == 200
    record_html = responses["record"].content.decode()
    assert CANARY_A in record_html
    assert CANARY_DRAFT not in pages  # doctor B's draft, seen by nobody else
    if sees == ALL:
        assert responses["note_b"].status_code == 200
        assert responses["file_b"].status_code == 200
        assert CANARY_B in record_html and "CANARY-B-file" in record_html
    else:
        assert responses["note_b"].status_code == 404
        assert responses["file_b"].status_code == 404
        assert CANARY_B not in pages and "CANARY-B-file" not in pages

    reads = AuditEvent.objects.filter(action="record.read", actor=account, result="success")
    if side == "family":
        assert not reads.exists()  # the family's own reads are not audited, nor listed
    else:
        # One event per page read: the record, note A, the family's file, and B's rows if seen.
        expected = {"record", "note", "attachment"}
        assert {event.data["what"] for event in reads} == expected
        assert reads.count() == (5 if sees == ALL else 3)
        assert all(event.on_behalf_id == str(record.patient.pk) for event in reads)


def test_the_anonymous_are_sent_to_sign_in_from_every_url(client):
    record = record_with_two_hospitals()
    for url in _every_url(record):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login"))


def test_a_doctor_may_not_read_through_the_familys_pages_nor_the_family_through_staff_pages(
    client,
):
    record = record_with_two_hospitals()
    grant(record.doctor_a_user, record.patient)
    client.force_login(record.doctor_a_user)
    assert client.get(reverse("record_patient", args=[record.patient.public_id])).status_code == 404
    client.force_login(record.reader)
    assert client.get(reverse("staff_record", args=[record.patient.public_id])).status_code == 404


def test_withdrawing_the_sharing_consent_narrows_the_doctors_view_at_the_next_request(client):
    record = record_with_two_hospitals()
    grant(record.doctor_a_user, record.patient)
    client.force_login(record.doctor_a_user)
    url = reverse("staff_record", args=[record.patient.public_id])
    assert CANARY_B in client.get(url).content.decode()

    family = client.__class__()
    family.force_login(record.reader)
    sharing = record.patient.consents.get(kind="record_sharing", revoked_at=None)
    family.post(reverse("consent_revoke", args=[record.patient.public_id, sharing.public_id]))

    html = client.get(url).content.decode()
    assert CANARY_A in html and CANARY_B not in html
    assert "you see only what your own hospital wrote" in html
    note_b = reverse("staff_note", args=[record.note_b.public_id])
    assert client.get(note_b).status_code == 404

    family.post(
        reverse("consent_give", args=[record.patient.public_id]), {"kind": "record_sharing"}
    )
    assert client.get(note_b).status_code == 200
