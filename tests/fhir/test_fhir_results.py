"""Results in FHIR (issue 15): DiagnosticReport + Observation in $everything and searchable by
the signed-in family, validated with the R4B models; a clinic's system POSTs a transaction
Bundle with a results.write token for a visit of its own — invalid is a 400, another clinic's
visit a 404, a token of another scope a 403, and nothing is ever half-saved."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import PersonalAccessToken
from accounts.services import access_token_create
from records.models import Exam, Observation
from records.services import exam_claim, exam_record, exam_send, exam_sign
from tests.fhir.conftest import FHIR, body, entries, outcome, validate
from tests.records.conftest import doctor_account
from tests.records.exams import LAB_VALUES, exams_world

pytestmark = pytest.mark.django_db


def _bearer(account, *, hospital=None) -> dict:
    scope = (
        PersonalAccessToken.Scope.RESULTS_WRITE if hospital else PersonalAccessToken.Scope.ACCOUNT
    )
    _token, secret = access_token_create(
        owner=account,
        name="LIS",
        days=30,
        scope=scope,
        scope_hospital_id=hospital.pk if hospital else None,
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def _signed_lab(world) -> Exam:
    exam = exam_record(
        encounter=world.visit, by=world.gp, kind="lab", title="血常规", observations=LAB_VALUES
    )
    return exam_sign(exam=exam, by=world.gp, findings="镜检未见异常", impression="贫血")


def _signed_ecg(world) -> Exam:
    exam = exam_send(
        exam=exam_record(encounter=world.visit, by=world.gp, kind="ecg"),
        department=world.cardiology,
        by=world.gp,
    )
    exam = exam_claim(exam=exam, by=world.specialist)
    return exam_sign(exam=exam, by=world.specialist, findings="ST↓", impression="缺血", urgent=True)


def test_everything_carries_the_signed_reports_and_their_values(client):
    world = exams_world()
    lab = _signed_lab(world)
    _signed_ecg(world)
    exam_record(encounter=world.visit, by=world.gp, kind="xray", title="未签")  # not signed
    client.force_login(world.family)
    bundle = body(client.get(f"/fhir/Patient/{world.patient.public_id}/$everything"))
    validate(bundle)
    reports = entries(bundle, "DiagnosticReport")
    observations = entries(bundle, "Observation")
    assert len(reports) == 2 and len(observations) == 3
    for resource in reports + observations:
        validate(resource)
    by_id = {r["id"]: r for r in reports}
    report = by_id[str(lab.public_id)]
    assert report["status"] == "final" and report["conclusion"] == "贫血"
    assert report["category"][0]["coding"][0]["code"] == "LAB"
    assert len(report["result"]) == 3
    findings = base64.b64decode(report["presentedForm"][0]["data"]).decode()
    assert findings == "镜检未见异常"
    haemoglobin = next(o for o in observations if o["code"]["text"] == "血红蛋白")
    assert haemoglobin["valueQuantity"] == {"value": 112, "unit": "g/L"}
    assert haemoglobin["interpretation"][0]["coding"][0]["code"] == "L"
    assert haemoglobin["referenceRange"][0]["low"]["value"] == 130


def test_everything_reads_the_reports_in_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    world = exams_world()
    _signed_lab(world)
    client.force_login(world.family)
    url = f"/fhir/Patient/{world.patient.public_id}/$everything"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    _signed_ecg(world)
    _signed_lab(world)
    with django_assert_num_queries(len(one)):
        bundle = body(client.get(url))
    assert len(entries(bundle, "DiagnosticReport")) == 3


def test_the_family_searches_its_reports_and_values_and_nobody_else_sees_them(client):
    world = exams_world()
    exam = _signed_lab(world)
    client.force_login(world.family)
    found = body(client.get(f"/fhir/DiagnosticReport?patient={world.patient.public_id}"))
    validate(found)
    assert [r["id"] for r in entries(found)] == [str(exam.public_id)]
    values = body(client.get(f"/fhir/Observation?patient=Patient/{world.patient.public_id}"))
    validate(values)
    assert len(entries(values)) == 3
    read = body(client.get(f"/fhir/DiagnosticReport/{exam.public_id}"))
    validate(read)
    one = exam.observations.first()
    assert body(client.get(f"/fhir/Observation/{one.public_id}"))["id"] == str(one.public_id)
    outcome(client.get("/fhir/DiagnosticReport?code=x"), 400)
    stranger = doctor_account()[1]
    client.force_login(stranger)
    assert entries(body(client.get("/fhir/DiagnosticReport"))) == []
    assert entries(body(client.get(f"/fhir/Observation?patient={world.patient.public_id}"))) == []
    outcome(client.get(f"/fhir/DiagnosticReport/{exam.public_id}"), 404)
    outcome(client.get(f"/fhir/Observation/{one.public_id}"), 404)


def test_the_family_searches_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    world = exams_world()
    _signed_lab(world)
    client.force_login(world.family)
    for url in ("/fhir/DiagnosticReport", "/fhir/Observation"):
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        _signed_lab(world)
        _signed_ecg(world)
        with django_assert_num_queries(len(few)):
            client.get(url)


def _transaction(world, *, status="final", values=LAB_VALUES) -> dict:
    observation_entries = []
    for index, row in enumerate(values):
        observation_entries.append(
            {
                "fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{index}",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {
                        "coding": [{"system": "http://loinc.org", "code": row["code"]}],
                        "text": row["name"],
                    },
                    "valueQuantity": {"value": float(row["value"]), "unit": row["unit"]},
                    "referenceRange": [
                        {"low": {"value": float(row["low"])}, "high": {"value": float(row["high"])}}
                    ],
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    report = {
        "resourceType": "DiagnosticReport",
        "status": status,
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}
        ],
        "code": {"text": "血常规（LIS）"},
        "subject": {"reference": f"Patient/{world.patient.public_id}"},
        "encounter": {"reference": f"Encounter/{world.visit.public_id}"},
        "result": [{"reference": entry["fullUrl"]} for entry in observation_entries],
        "conclusion": "贫血",
        "presentedForm": [
            {"contentType": "text/plain", "data": base64.b64encode("红细胞偏小".encode()).decode()}
        ],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:10000000-0000-4000-8000-000000000000",
                "resource": report,
                "request": {"method": "POST", "url": "DiagnosticReport"},
            },
            *observation_entries,
        ],
    }


def _post(client, bundle, headers):
    return client.post("/fhir/", data=json.dumps(bundle), content_type=FHIR, **headers)


def test_a_clinics_system_posts_a_report_with_its_values_for_its_own_visit(client):
    world = exams_world()
    bundle = _transaction(world)
    validate(bundle)  # what we accept is a valid R4B transaction
    response = _post(client, bundle, _bearer(world.gp, hospital=world.clinic))
    assert response.status_code == 200, response.content
    answer = body(response)
    validate(answer)
    assert answer["type"] == "transaction-response"
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 4
    exam = Exam.objects.get()
    assert exam.is_final and exam.signer == world.gp and exam.hospital == world.clinic
    assert exam.title == "血常规（LIS）" and exam.findings == "红细胞偏小"
    assert [o.flag for o in exam.observations.all()] == ["L", "", "H"]
    client.force_login(world.family)
    everything = body(client.get(f"/fhir/Patient/{world.patient.public_id}/$everything"))
    assert str(exam.public_id) in {r["id"] for r in entries(everything, "DiagnosticReport")}


@pytest.mark.parametrize(
    "breakage",
    [
        lambda b: b.update(type="batch"),
        lambda b: b["entry"][0]["resource"].update(status="bogus"),
        lambda b: b["entry"][0]["resource"].pop("encounter"),
        lambda b: b["entry"][0]["resource"].update(category=[]),
        lambda b: b["entry"][0]["resource"]["result"].pop(),
        lambda b: b["entry"][1]["resource"]["valueQuantity"].update(value="112"),
        lambda b: b["entry"][1]["resource"].pop("valueQuantity"),
        lambda b: b["entry"][2]["resource"]["referenceRange"][0]["low"].update(value=99),
        lambda b: b["entry"][1].update(request={"method": "PUT", "url": "Observation/1"}),
        lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])),
        lambda b: b["entry"].append({"resource": {"resourceType": "Patient"}}),
        lambda b: b["entry"][0]["resource"]["presentedForm"][0].update(data="%%%"),
    ],
)
def test_an_invalid_bundle_is_a_400_and_saves_nothing(client, breakage):
    world = exams_world()
    bundle = _transaction(world)
    breakage(bundle)
    issue = outcome(_post(client, bundle, _bearer(world.gp, hospital=world.clinic)), 400)
    assert issue["diagnostics"]
    assert not Exam.objects.exists() and not Observation.objects.exists()


def test_not_json_and_the_wrong_content_type_are_refused(client):
    world = exams_world()
    headers = _bearer(world.gp, hospital=world.clinic)
    outcome(client.post("/fhir/", data="{", content_type=FHIR, **headers), 400)
    outcome(client.post("/fhir/", data="x=1", content_type="text/plain", **headers), 415)
    assert not Exam.objects.exists()


def test_another_clinics_visit_is_a_404(client):
    world = exams_world()
    other = exams_world()
    bundle = _transaction(other)  # names the other clinic's visit
    outcome(_post(client, bundle, _bearer(world.gp, hospital=world.clinic)), 404)
    bundle = _transaction(world)
    bundle["entry"][0]["resource"]["subject"]["reference"] = f"Patient/{other.patient.public_id}"
    outcome(_post(client, bundle, _bearer(world.gp, hospital=world.clinic)), 400)
    assert not Exam.objects.exists()


def test_a_token_of_another_scope_or_none_cannot_post_results(client):
    world = exams_world()
    bundle = _transaction(world)
    issue = outcome(_post(client, bundle, _bearer(world.gp)), 403)  # the account's own token
    assert issue["details"]["coding"][0]["code"] == "scope"
    client.force_login(world.gp)  # a session is not a results token either
    outcome(client.post("/fhir/", data=json.dumps(bundle), content_type=FHIR), 403)
    client.logout()
    outcome(client.post("/fhir/", data=json.dumps(bundle), content_type=FHIR), 401)
    assert not Exam.objects.exists()


def test_a_results_token_reaches_nothing_else(client):
    world = exams_world()
    _signed_lab(world)
    headers = _bearer(world.gp, hospital=world.clinic)
    for url in (
        "/fhir/Patient",
        f"/fhir/Patient/{world.patient.public_id}/$everything",
        "/fhir/DiagnosticReport",
        "/fhir/Appointment",
    ):
        outcome(client.get(url, **headers), 403)


def test_a_token_whose_owner_left_the_clinic_is_refused(client):
    world = exams_world()
    headers = _bearer(world.gp, hospital=world.clinic)
    world.gp.memberships.all().delete()
    outcome(_post(client, _transaction(world), headers), 403)
    assert not Exam.objects.exists()
