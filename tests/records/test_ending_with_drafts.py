"""Ending a visit or a consult with an unsigned note or prescription warns first and says what
stays a draft: a confirm step for the visit (a form, no JavaScript needed), and a list the
consult room's "end" question reads."""

from __future__ import annotations

import pytest

from appointments.models import Appointment
from records import services as clinical
from tests.records.conftest import checked_in_visit, drug, item, live_consult

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clinic_hours")]


def test_completing_a_visit_with_drafts_asks_first_and_names_them(client):
    appointment, _, doctor = checked_in_visit()
    encounter = appointment.encounter
    clinical.note_save(encounter=encounter, author=doctor, subjective="咳嗽", diagnosis="感冒")
    clinical.prescription_save(encounter=encounter, prescriber=doctor, items=[item(drug())])
    client.force_login(doctor)
    url = f"/doctor/visit/{appointment.code}/complete/"

    asked = client.post(url)

    html = asked.content.decode()
    assert asked.status_code == 200 and "What stays a draft" in html
    assert "感冒" in html and "氯雷他定片" in html and 'name="confirm" value="yes"' in html
    assert Appointment.objects.get(pk=appointment.pk).status == "checked_in"

    done = client.post(url, {"confirm": "yes"})

    assert done.status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"


def test_a_visit_with_everything_signed_completes_at_once(client):
    appointment, _, doctor = checked_in_visit()
    note = clinical.note_save(encounter=appointment.encounter, author=doctor, subjective="随访")
    clinical.note_sign(note=note, by=doctor)
    client.force_login(doctor)

    response = client.post(f"/doctor/visit/{appointment.code}/complete/")

    assert response.status_code == 302
    assert Appointment.objects.get(pk=appointment.pk).status == "completed"


def test_the_consult_room_lists_the_drafts_its_end_question_warns_about(client):
    appointment, _, doctor = live_consult()
    encounter = Appointment.objects.get(pk=appointment.pk).encounter
    clinical.note_save(encounter=encounter, author=doctor, subjective="皮疹", diagnosis="湿疹")
    client.force_login(doctor)

    html = client.get(f"/consult/{appointment.consultation.public_id}/").content.decode()

    assert "data-encounter-drafts" in html and "湿疹" in html
