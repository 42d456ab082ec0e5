""" "Who has seen my record" lists every staff read with who, when, what and why; emergency
access finds a person by ID number and name only, is audited, and is told to the family."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from audit.models import AuditEvent
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_due
from records.access import break_glass_open
from records.models import CareRelationship
from tests.factories import (
    PatientFactory,
    PatientLinkFactory,
    StaffMembershipFactory,
    UserFactory,
)
from tests.records.conftest import (
    CANARY_A,
    CANARY_B,
    doctor_account,
    grant,
    record_with_two_hospitals,
)

pytestmark = pytest.mark.django_db

REASON = "Unconscious after a road accident, no family reachable"


def _readers_page(client, record):
    client.force_login(record.reader)
    return client.get(reverse("record_readers", args=[record.patient.public_id]))


def test_each_staff_read_is_listed_with_who_when_what_and_why(client):
    record = record_with_two_hospitals()
    grant(record.doctor_a_user, record.patient)
    doctor = client.__class__()
    doctor.force_login(record.doctor_a_user)
    doctor.get(reverse("staff_record", args=[record.patient.public_id]))
    doctor.get(reverse("staff_note", args=[record.note_b.public_id]))
    # The family's own reads are not listed.
    client.force_login(record.reader)
    client.get(reverse("record_patient", args=[record.patient.public_id]))

    html = _readers_page(client, record).content.decode()

    name = record.doctor_a_user.get_full_name()
    assert html.count(name) == 2
    assert escape(record.hospital_a.name_en) in html
    assert "The whole record" in html and "A note" in html
    assert "An appointment with you" in html
    assert record.reader.get_full_name() not in html.split("<main", 1)[1]


def test_emergency_access_shows_its_typed_reason_to_the_family(client):
    record = record_with_two_hospitals()
    _doctor, user = doctor_account()
    break_glass_open(user=user, patient=record.patient, reason=REASON)

    html = _readers_page(client, record).content.decode()

    assert "Opened emergency access" in html and REASON in html
    assert "row-emergency" in html


def test_another_account_cannot_see_who_read_the_record(client):
    record = record_with_two_hospitals()
    client.force_login(UserFactory())
    assert client.get(reverse("record_readers", args=[record.patient.public_id])).status_code == 404
    non_reader = PatientLinkFactory(
        patient=record.patient, can_read_record=False, is_manager=False
    ).account
    client.force_login(non_reader)
    assert client.get(reverse("record_readers", args=[record.patient.public_id])).status_code == 404


def test_the_readers_page_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    record = record_with_two_hospitals()
    url = reverse("record_readers", args=[record.patient.public_id])
    client.force_login(record.reader)

    def reads_by_new_doctors(n: int) -> None:
        for _ in range(n):
            _doctor, user = doctor_account()
            StaffMembershipFactory(user=user, role="front_desk")
            grant(user, record.patient)
            staff = client.__class__()
            staff.force_login(user)
            staff.get(reverse("staff_record", args=[record.patient.public_id]))

    reads_by_new_doctors(1)
    client.get(url)
    # session, account, staff roles, links, count, events, doctors, memberships, unread count
    with django_assert_num_queries(8):
        client.get(url)
    reads_by_new_doctors(5)
    with django_assert_num_queries(8):
        html = client.get(url).content.decode()
    assert html.count("The whole record") == 6


# --- Break-glass --------------------------------------------------------------------------


def _find(client, record, *, id_number=None, name=None):
    return client.post(
        reverse("break_glass"),
        {
            "step": "find",
            "id_number": id_number or record.patient.id_number,
            "name": name or record.patient.name,
        },
    )


def test_a_doctor_finds_the_person_types_a_reason_and_reads_the_whole_record(client):
    record = record_with_two_hospitals(sharing=False)
    _doctor, user = doctor_account()
    client.force_login(user)
    assert reverse("break_glass") in client.get(reverse("doctor_day")).content.decode()
    assert client.get(reverse("break_glass")).status_code == 200

    found = _find(client, record)
    html = found.content.decode()
    assert found.status_code == 200
    assert record.patient.id_number_masked in html and record.patient.id_number not in html
    token = found.context["open_form"].initial["token"]

    short = client.post(reverse("break_glass"), {"step": "open", "token": token, "reason": "x"})
    assert "at least 10 characters" in short.content.decode()
    assert not CareRelationship.objects.filter(user=user).exists()

    opened = client.post(reverse("break_glass"), {"step": "open", "token": token, "reason": REASON})
    assert opened.status_code == 302
    assert opened.url == reverse("staff_record", args=[record.patient.public_id])
    page = client.get(opened.url).content.decode()
    # Emergency access shows every hospital's rows, even without the sharing consent.
    assert CANARY_A in page and CANARY_B in page
    assert "Emergency access, until" in page

    event = AuditEvent.objects.get(action="record.break_glass", actor=user)
    assert event.data["reason"] == REASON and event.on_behalf_id == str(record.patient.pk)
    assert AuditEvent.objects.filter(
        action="record.read", actor=user, data__reason="break_glass"
    ).exists()
    # The family is told, in every channel, with the reason and where to look.
    told = OutboxMessage.objects.filter(account=record.reader, kind="record.break_glass")
    assert {m.channel for m in told} >= {"inapp", "email"}
    # The row keeps the text its writer finished (params["text"]); the worker renders it.
    text = told.get(channel="inapp").params["text"]
    assert REASON in text["body"] and text["link"] == "/me/record/"
    assert record.patient.id_number not in text["body"] + text["title"]
    # …and the messages render and go out: an e-mail and the inbox entry linking the record.
    outbox_deliver_due()
    assert any(REASON in message.body for message in mail.outbox)
    inbox = client.__class__()
    inbox.force_login(record.reader)
    listed = inbox.get(reverse("notification_list")).content.decode()
    assert escape(REASON) in listed and 'href="/me/record/"' in listed


@pytest.mark.parametrize("wrong", ["name", "id_number", "both"])
def test_a_wrong_name_or_number_reads_exactly_like_an_unknown_person(client, wrong):
    record = record_with_two_hospitals()
    stranger = PatientFactory(name="赵六")
    _doctor, user = doctor_account()
    client.force_login(user)

    fields = {
        "name": {"name": "李四"},
        "id_number": {"id_number": stranger.id_number},
        "both": {"id_number": stranger.id_number[:-1] + "0", "name": "无名"},
    }[wrong]
    response = _find(client, record, **fields)

    html = response.content.decode()
    assert response.status_code == 400
    assert "No person matches this ID number and name." in html
    # Nothing about either person is shown (the name field keeps only what was typed).
    assert record.patient.id_number_masked not in html
    assert stranger.id_number_masked not in html and stranger.name not in html
    # The typed number is never echoed back.
    assert stranger.id_number not in html and record.patient.id_number not in html
    assert not CareRelationship.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(
        action="record.break_glass_search", actor=user, result="denied"
    ).exists()


def test_only_doctors_reach_emergency_access(client):
    record = record_with_two_hospitals()
    for user in (record.reader, UserFactory()):
        client.force_login(user)
        assert client.get(reverse("break_glass")).status_code == 404
        assert _find(client, record).status_code == 404


def test_a_forged_or_stale_token_opens_nothing(client):
    record = record_with_two_hospitals()
    _doctor, user = doctor_account()
    client.force_login(user)
    response = client.post(
        reverse("break_glass"),
        {"step": "open", "token": str(record.patient.public_id), "reason": REASON},
    )
    assert response.status_code == 400
    assert not CareRelationship.objects.filter(user=user).exists()
