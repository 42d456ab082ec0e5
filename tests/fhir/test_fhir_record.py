"""Patient and Patient/$everything: linked accounts read, a treating doctor reads (audited),
everyone else gets the same 404 as for an id that does not exist."""

from __future__ import annotations

import base64
import uuid

import pytest

from accounts.services import access_token_create
from audit.models import AuditEvent
from records.models import CareRelationship, Encounter
from tests.appointments.conftest import person
from tests.conftest import with_totp
from tests.factories import DoctorFactory, StaffMembershipFactory, UserFactory
from tests.fhir.conftest import body, entries, outcome, validate

pytestmark = pytest.mark.django_db


def bearer(account) -> dict:
    _token, secret = access_token_create(owner=account, name="test app", days=30)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def everything(client, patient, headers) -> dict:
    response = client.get(f"/fhir/Patient/{patient.public_id}/$everything", **headers)
    assert response.status_code == 200, response.content
    return body(response)


def test_patient_shows_only_the_masked_id_number(client, alice, daughter):
    response = client.get(f"/fhir/Patient/{daughter.public_id}", **bearer(alice))

    resource = body(response)
    validate(resource)
    assert resource["id"] == str(daughter.public_id)
    values = [identifier["value"] for identifier in resource["identifier"]]
    assert daughter.id_number_masked in values
    assert daughter.id_number not in response.content.decode()
    assert "*" in daughter.id_number_masked


def test_patient_search_lists_the_people_the_account_acts_for(client, alice, daughter):
    me, _alice = person(alice)

    bundle = body(client.get("/fhir/Patient", **bearer(alice)))

    validate(bundle)
    assert {p["id"] for p in entries(bundle)} == {str(me.public_id), str(daughter.public_id)}
    assert bundle["total"] == 2


def test_everything_is_a_valid_bundle_of_the_whole_record(client, alice, daughter, record):
    bundle = everything(client, daughter, bearer(alice))

    validate(bundle)
    for resource in entries(bundle):
        validate(resource)
    kinds = sorted(resource["resourceType"] for resource in entries(bundle))
    assert kinds == sorted(
        ["Patient", "Encounter", "AllergyIntolerance", "Condition", "Appointment"]
        + ["DocumentReference"] * 2  # the signed note and its addendum, not the draft
        + ["MedicationRequest"] * 2  # the signed prescription's two drugs, not the unsigned one
        + ["ServiceRequest"] * 2
    )
    assert bundle["total"] == len(kinds)
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)


def test_everything_carries_the_notes_text_and_links_it_to_the_encounter(
    client, alice, daughter, record
):
    bundle = everything(client, daughter, bearer(alice))

    documents = {d["id"]: d for d in entries(bundle, "DocumentReference")}
    note = documents[str(record["note"].public_id)]
    text = base64.b64decode(note["content"][0]["attachment"]["data"]).decode()
    assert "手背瘙痒两周" in text and "L30.9" in text
    assert note["context"]["encounter"][0]["reference"] == (
        f"Encounter/{record['encounter'].public_id}"
    )
    assert note["docStatus"] == "amended"
    (addendum,) = [d for d in documents.values() if d.get("relatesTo")]
    assert addendum["relatesTo"][0]["target"]["reference"] == f"DocumentReference/{note['id']}"
    assert "DRAFT-ONLY-TEXT" not in str(bundle)

    condition = entries(bundle, "Condition")[0]
    assert condition["code"]["coding"][0]["code"] == "L20.9"
    referral = next(
        r for r in entries(bundle, "ServiceRequest") if r["id"] == str(record["referral"].public_id)
    )
    assert referral["encounter"]["reference"] == f"Encounter/{record['encounter'].public_id}"
    medicines = {
        m["medicationCodeableConcept"]["text"] for m in entries(bundle, "MedicationRequest")
    }
    assert "氯雷他定片 10mg" in medicines


def test_everything_runs_a_fixed_number_of_queries(
    client, alice, daughter, record, django_assert_num_queries
):
    headers = bearer(alice)
    # token + its last use, the patient, the link check; record_timeline's encounters, notes,
    # addenda, their authors, prescriptions, items, referrals, allergies, problems, attachments;
    # then all referrals (also those without an encounter), the appointments and the signed
    # exams (their values and files are two more when there are any: test_fhir_results.py),
    # and the text consult messages (their photos are one more when there are any)
    # and the renewal requests (issue 20; a renewal's prior items are one more:
    # test_fhir_renewals.py)
    # and the family-doctor signings with their teams (CareTeam, EpisodeOfCare)
    with django_assert_num_queries(20):
        bundle = everything(client, daughter, headers)
    assert entries(bundle, "Encounter")


def test_a_session_works_as_well_as_a_token(client, alice, daughter, record):
    client.force_login(alice)

    bundle = everything(client, daughter, {})

    assert entries(bundle, "Patient")[0]["id"] == str(daughter.public_id)


def test_the_treating_doctor_reads_everything_and_the_read_is_audited(
    client, dr_chen, daughter, record
):
    assert CareRelationship.objects.filter(user=dr_chen.user, patient=daughter).exists()

    bundle = everything(client, daughter, bearer(dr_chen.user))

    assert entries(bundle, "Encounter")
    event = AuditEvent.objects.get(action="record.read", actor=dr_chen.user)
    assert event.data["what"] == "fhir.everything"
    assert event.on_behalf_id == str(daughter.pk)


def test_linked_reads_write_no_staff_read_event(client, alice, daughter, record):
    everything(client, daughter, bearer(alice))

    assert not AuditEvent.objects.filter(action="record.read").exists()


@pytest.mark.parametrize("who", ["stranger", "other_doctor", "hospital_admin", "front_desk"])
def test_anyone_else_gets_a_404_that_leaks_nothing(client, daughter, dr_chen, record, who):
    if who == "stranger":
        account = UserFactory()
    elif who == "other_doctor":
        account = with_totp(UserFactory())
        DoctorFactory(user=account)
    else:
        account = with_totp(StaffMembershipFactory(hospital=dr_chen.hospital, role=who).user)
    headers = bearer(account)

    for url in (
        f"/fhir/Patient/{daughter.public_id}",
        f"/fhir/Patient/{daughter.public_id}/$everything",
    ):
        issue = outcome(client.get(url, **headers), 404)
        unknown = outcome(
            client.get(url.replace(str(daughter.public_id), str(uuid.uuid4())), **headers), 404
        )
        assert issue == unknown
    assert (
        AuditEvent.objects.filter(action="record.read", actor=account, result="denied").count() == 2
    )


def test_without_credentials_it_is_401(client, daughter):
    response = client.get(f"/fhir/Patient/{daughter.public_id}/$everything")

    assert outcome(response, 401)["code"] == "login"
    assert response["WWW-Authenticate"] == 'Bearer realm="fhir"'


def test_without_the_sharing_consent_a_doctor_sees_only_his_hospitals_rows(
    client, alice, dr_chen, daughter, record
):
    elsewhere = DoctorFactory()
    other_visit = Encounter.objects.create(
        patient=daughter,
        doctor=elsewhere,
        hospital=elsewhere.hospital,
        mode=Encounter.Mode.IN_PERSON,
    )

    doctors_view = everything(client, daughter, bearer(dr_chen.user))
    familys_view = everything(client, daughter, bearer(alice))

    assert str(other_visit.public_id) not in {e["id"] for e in entries(doctors_view, "Encounter")}
    assert str(other_visit.public_id) in {e["id"] for e in entries(familys_view, "Encounter")}
