"""Appointments over FHIR: the account's own, and booking by POST through appointment_book,
each refusal an OperationOutcome with the booking page's words and a fitting status."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import access_token_create
from appointments.models import Appointment, Slot
from appointments.services import appointment_book
from audit.models import AuditEvent
from tests.appointments.conftest import counters_hold, open_slot, person
from tests.factories import DepartmentFactory, DoctorFactory, PatientLinkFactory
from tests.fhir.conftest import FHIR, body, entries, outcome, validate

pytestmark = pytest.mark.django_db


def bearer(account) -> dict:
    _token, secret = access_token_create(owner=account, name="test app", days=30)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def request_body(slot, patient, **extra) -> str:
    resource = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{slot.pk}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{patient.public_id}"}, "status": "accepted"}
        ],
        **extra,
    }
    validate(resource)  # what a client sends is itself valid FHIR
    return json.dumps(resource)


def book(client, slot, patient, headers, **extra):
    return client.post(
        "/fhir/Appointment",
        request_body(slot, patient, **extra),
        content_type=FHIR,
        **headers,
    )


@pytest.fixture
def me(alice):
    patient, _account = person(alice)
    return patient


def test_booking_by_post_creates_the_appointment(client, alice, me):
    slot = open_slot()

    response = book(client, slot, me, bearer(alice), comment="Itchy hands")

    assert response.status_code == 201
    resource = body(response)
    validate(resource)
    appointment = Appointment.objects.get(patient=me, slot=slot)
    assert resource["id"] == appointment.code
    assert resource["status"] == "booked"
    assert response["Location"].endswith(f"/fhir/Appointment/{appointment.code}")
    assert appointment.booked_by == alice
    assert appointment.visit_reason == "Itchy hands"
    assert AuditEvent.objects.filter(action="appointment.book", actor=alice).count() == 1
    counters_hold(slot)


def test_the_same_idempotency_key_returns_the_same_appointment(client, alice, me):
    slot = open_slot()
    headers = {**bearer(alice), "HTTP_IDEMPOTENCY_KEY": "retry-1"}

    first = book(client, slot, me, headers)
    again = book(client, slot, me, headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert body(first)["id"] == body(again)["id"]
    assert Appointment.objects.filter(patient=me).count() == 1
    counters_hold(slot)


def test_a_full_slot_is_a_409_conflict(client, alice, me):
    slot = open_slot(booked=3)

    issue = outcome(book(client, slot, me, bearer(alice)), 409)

    assert issue["code"] == "conflict"
    assert issue["details"]["coding"][0]["code"] == "slot_full"
    assert "fully booked" in issue["diagnostics"]
    assert not Appointment.objects.exists()


def test_a_slot_not_released_yet_is_a_409_with_its_opening_time(client, alice, me):
    slot = open_slot(release_at=timezone.now() + dt.timedelta(days=1))

    issue = outcome(book(client, slot, me, bearer(alice)), 409)

    assert issue["details"]["coding"][0]["code"] == "not_released"
    assert "opens for booking at" in issue["diagnostics"]
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_booking_twice_in_one_slot_is_a_duplicate_and_gives_the_place_back(client, alice, me):
    slot = open_slot()
    headers = bearer(alice)
    assert book(client, slot, me, headers).status_code == 201

    issue = outcome(book(client, slot, me, headers), 409)

    assert issue["code"] == "duplicate"
    assert issue["details"]["coding"][0]["code"] == "already_booked"
    counters_hold(slot)


def test_a_policy_refusal_is_a_422_business_rule_in_the_readers_language(client, alice):
    child, _account = person(alice, relationship="child", birth_date=dt.date(1990, 1, 1))
    department = DepartmentFactory(name="儿科", name_en="Paediatrics", max_age_years=14)
    slot = open_slot(doctor=DoctorFactory(department=department, user=None))

    english = outcome(book(client, slot, child, bearer(alice)), 422)
    chinese = outcome(
        book(client, slot, child, {**bearer(alice), "HTTP_ACCEPT_LANGUAGE": "zh-hans"}), 422
    )

    assert english["code"] == "business-rule"
    assert english["details"]["coding"][0]["code"] == "not_eligible_age"
    assert "aged" in english["diagnostics"]
    assert chinese["diagnostics"] != english["diagnostics"]
    assert not Appointment.objects.exists()


def test_missing_consent_is_refused(client, alice):
    patient, _account = person(alice, relationship="child", consent=False)

    issue = outcome(book(client, open_slot(), patient, bearer(alice)), 422)

    assert issue["details"]["coding"][0]["code"] == "consent_missing"


def test_a_linked_person_the_account_may_not_book_for_is_403(client, alice):
    patient, _account = person()
    PatientLinkFactory(patient=patient, account=alice, is_manager=False, can_book=False)

    issue = outcome(book(client, open_slot(), patient, bearer(alice)), 403)

    assert issue["details"]["coding"][0]["code"] == "not_linked"


def test_a_foreign_patient_is_404_and_nothing_is_booked(client, alice, bob):
    strangers_child, _bob = person(bob, relationship="child")
    slot = open_slot()

    issue = outcome(book(client, slot, strangers_child, bearer(alice)), 404)

    assert issue["code"] == "not-found"
    assert strangers_child.name not in issue["diagnostics"]
    assert not Appointment.objects.exists()
    assert Slot.objects.get(pk=slot.pk).booked == 0


@pytest.mark.parametrize("slot_id", ["999999", "²", "9" * 10_240])
def test_an_unknown_slot_is_404(client, alice, me, slot_id):
    slot = open_slot()
    payload = request_body(slot, me).replace(f"Slot/{slot.pk}", f"Slot/{slot_id}")

    response = client.post("/fhir/Appointment", payload, content_type=FHIR, **bearer(alice))

    assert outcome(response, 404)["code"] == "not-found"
    assert Slot.objects.get(pk=slot.pk).booked == 0


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("{not json", 400, "invalid"),
        ('{"resourceType": "Patient"}', 400, "invalid"),
        ('{"resourceType": "Appointment", "participant": []}', 400, "required"),
        ('{"resourceType": "Appointment", "status": "cancelled"}', 400, "invalid"),
        # Nested deeper than the JSON parser goes (10 KB of brackets), well under the size limit.
        ("[" * 10_240, 400, "invalid"),
        ('{"a": ' * 5_000 + "1" + "}" * 5_000, 400, "invalid"),
    ],
)
def test_a_malformed_request_is_a_400(client, alice, payload, status, code):
    response = client.post("/fhir/Appointment", payload, content_type=FHIR, **bearer(alice))

    assert outcome(response, status)["code"] == code


@pytest.mark.parametrize("participant", [5, True, "abc", {"actor": 1}, [5], [{"actor": "x"}]])
def test_a_participant_of_the_wrong_json_type_is_a_400(client, alice, me, participant):
    slot = open_slot()
    payload = {**json.loads(request_body(slot, me)), "participant": participant}

    response = client.post(
        "/fhir/Appointment", json.dumps(payload), content_type=FHIR, **bearer(alice)
    )

    assert outcome(response, 400)["code"] == "required"
    assert Slot.objects.get(pk=slot.pk).booked == 0


def test_only_fhir_json_is_accepted(client, alice, me):
    response = client.post(
        "/fhir/Appointment",
        request_body(open_slot(), me),
        content_type="application/x-www-form-urlencoded",
        **bearer(alice),
    )

    assert outcome(response, 415)


def test_a_session_post_needs_the_csrf_token_and_a_bearer_post_does_not(alice, me):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    slot = open_slot()

    refused = browser.post("/fhir/Appointment", request_body(slot, me), content_type=FHIR)
    assert outcome(refused, 403)["code"] == "forbidden"

    browser.get("/")  # the site sets its CSRF cookie
    token = browser.cookies["csrftoken"].value
    allowed = browser.post(
        "/fhir/Appointment", request_body(slot, me), content_type=FHIR, HTTP_X_CSRFTOKEN=token
    )
    assert allowed.status_code == 201

    api = Client(enforce_csrf_checks=True)
    son, _alice = person(alice, relationship="child")
    assert book(api, slot, son, bearer(alice)).status_code == 201


def test_the_account_lists_and_reads_only_its_own_appointments(client, alice, bob, me):
    daughter, _alice = person(alice, relationship="child")
    strangers, _bob = person(bob)
    mine = appointment_book(patient=me, slot=open_slot(), booked_by=alice)
    hers = appointment_book(patient=daughter, slot=open_slot(), booked_by=alice)
    theirs = appointment_book(patient=strangers, slot=open_slot(), booked_by=bob)
    headers = bearer(alice)

    bundle = body(client.get("/fhir/Appointment", **headers))
    validate(bundle)
    assert {a["id"] for a in entries(bundle)} == {mine.code, hers.code}

    only_her = body(
        client.get(f"/fhir/Appointment?patient=Patient/{daughter.public_id}", **headers)
    )
    assert [a["id"] for a in entries(only_her)] == [hers.code]
    cancelled = body(client.get("/fhir/Appointment?status=cancelled", **headers))
    assert entries(cancelled) == []

    assert client.get(f"/fhir/Appointment/{mine.code}", **headers).status_code == 200
    assert outcome(client.get(f"/fhir/Appointment/{theirs.code}", **headers), 404)
    assert outcome(client.get("/fhir/Appointment?status=gone", **headers), 400)


def test_appointment_list_runs_a_fixed_number_of_queries(
    client, alice, me, django_assert_num_queries
):
    for _n in range(4):
        child, _account = person(alice, relationship="child")
        appointment_book(patient=child, slot=open_slot(), booked_by=alice)
    headers = bearer(alice)

    # the token, its last-used mark, the appointments
    with django_assert_num_queries(3):
        bundle = body(client.get("/fhir/Appointment", **headers))
    assert len(entries(bundle)) == 4
