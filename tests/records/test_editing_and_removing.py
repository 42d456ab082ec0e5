"""Editing and removing a person; both refused while the booking app counts future visits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from records.models import GuardianInvitation, Patient, PatientLink
from tests.factories import PatientFactory, PatientLinkFactory

pytestmark = pytest.mark.django_db

REFUSAL = "This person has upcoming appointments. Cancel them first, then try again."


@pytest.fixture
def link(alice):
    return PatientLinkFactory(account=alice, patient__name="周杰")


def _edit_data(patient, **changes) -> dict[str, str]:
    return {
        "name": patient.name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "phone": patient.phone,
        "id_number": "",
        **changes,
    }


def test_the_manager_corrects_a_name_keeping_the_stored_id_number(client, alice, link):
    client.force_login(alice)
    patient = link.patient
    number = patient.id_number

    response = client.post(
        reverse("patient_edit", args=[patient.public_id]), _edit_data(patient, name="周 杰伦")
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.name == "周 杰伦"
    assert patient.id_number == number
    event = AuditEvent.objects.get(action="patient.update")
    assert event.data == {"fields": ["name"]}


def test_an_edit_that_disagrees_with_the_stored_id_is_refused(client, alice, link):
    client.force_login(alice)
    patient = link.patient
    other_sex = "male" if patient.sex == "female" else "female"

    response = client.post(
        reverse("patient_edit", args=[patient.public_id]), _edit_data(patient, sex=other_sex)
    )

    assert "These details do not agree with each other." in response.content.decode()
    patient.refresh_from_db()
    assert patient.sex != other_sex


def test_changing_to_an_id_number_of_another_person_gets_the_neutral_answer(client, alice, link):
    other = PatientFactory()
    client.force_login(alice)
    patient = link.patient

    response = client.post(
        reverse("patient_edit", args=[patient.public_id]),
        _edit_data(
            patient,
            id_number=other.id_number,
            sex=other.sex,
            birth_date=other.birth_date.isoformat(),
        ),
    )

    html = response.content.decode()
    assert "These details do not agree with each other." in html
    assert other.name not in html and other.id_number_masked not in html


def test_editing_is_refused_while_appointments_are_ahead(client, alice, link, future_appointments):
    future_appointments[link.patient.pk] = 1
    client.force_login(alice)
    url = reverse("patient_edit", args=[link.patient.public_id])

    page = client.get(url).content.decode()
    response = client.post(url, _edit_data(link.patient, name="改名"))

    assert REFUSAL in page
    assert REFUSAL in response.content.decode()
    link.patient.refresh_from_db()
    assert link.patient.name == "周杰"


def test_removing_is_refused_while_appointments_are_ahead(client, alice, link, future_appointments):
    future_appointments[link.patient.pk] = 2
    client.force_login(alice)

    response = client.post(reverse("patient_remove", args=[link.patient.public_id]))

    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert PatientLink.objects.live().filter(pk=link.pk).exists()


def test_other_patients_appointments_do_not_block(client, alice, link, future_appointments):
    future_appointments[link.patient.pk + 1000] = 3
    client.force_login(alice)

    response = client.post(reverse("patient_remove", args=[link.patient.public_id]))

    assert response.status_code == 302


def test_removing_takes_the_person_off_the_list_but_keeps_their_record(client, alice, link):
    client.force_login(alice)

    response = client.post(reverse("patient_remove", args=[link.patient.public_id]), follow=True)

    assert "周杰" in response.content.decode()  # the success message names them once…
    assert not PatientLink.objects.live().filter(account=alice).exists()
    assert Patient.objects.filter(pk=link.patient.pk).exists()
    assert client.get(reverse("patient_detail", args=[link.patient.public_id])).status_code == 404


def test_when_the_manager_leaves_the_longest_linked_guardian_takes_over(client, alice, bob, link):
    PatientLinkFactory(patient=link.patient, account=bob, is_manager=False)
    GuardianInvitation.objects.create(
        patient=link.patient,
        invited_by=alice,
        email="x@example.com",
        relationship="child",
        token_hash="1" * 64,
        expires_at=link.created_at.replace(year=2100),
    )
    client.force_login(alice)

    client.post(reverse("patient_remove", args=[link.patient.public_id]))

    assert PatientLink.objects.live().get(patient=link.patient).account == bob
    assert PatientLink.objects.live().get(patient=link.patient).is_manager
    assert GuardianInvitation.objects.get().status == "revoked"


def test_correcting_the_id_number_re_encrypts_and_rehashes_it(client, alice, link):
    from records.idnumbers import make_id_number

    client.force_login(alice)
    patient = link.patient
    corrected = make_id_number(birth_date=patient.birth_date, sex=patient.sex, sequence=321)

    client.post(
        reverse("patient_edit", args=[patient.public_id]),
        _edit_data(patient, id_number=corrected),
    )

    patient.refresh_from_db()
    assert patient.id_number == corrected
    assert patient.id_number_masked == corrected[:6] + "********" + corrected[-4:]
    assert "id_number" in AuditEvent.objects.get(action="patient.update").data["fields"]
