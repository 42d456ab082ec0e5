"""People and their care as FHIR: Patient, Appointment, ServiceRequest (a referral)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from appointments.models import Appointment, Mode
from portal.fhir.resources.base import (
    APPOINTMENT_STATUS,
    REFERRAL_STATUS,
    V2_IDENTIFIER_TYPE,
    clean,
    instant,
    reference,
    system,
    text_concept,
)
from records.models import Patient, Referral


def patient(person: Patient) -> dict:
    return clean(
        {
            "resourceType": "Patient",
            "id": str(person.public_id),
            "identifier": [
                {"system": system("patient"), "value": str(person.public_id)},
                # Only the masked number is ever shown (DESIGN.md §3).
                {
                    "use": "official",
                    "type": {
                        "coding": [{"system": V2_IDENTIFIER_TYPE, "code": "NI"}],
                        "text": _("ID number (masked)"),
                    },
                    "value": person.id_number_masked,
                },
            ],
            "active": True,
            "name": [{"use": "official", "text": person.name}],
            "telecom": [{"system": "phone", "value": person.phone, "use": "mobile"}]
            if person.phone
            else [],
            "gender": person.sex if person.sex in ("male", "female") else "unknown",
            "birthDate": person.birth_date.isoformat(),
        }
    )


def appointment(item: Appointment) -> dict:
    """Needs slot (with doctor, site, department) and patient loaded."""
    slot_row = item.slot
    status = APPOINTMENT_STATUS[item.status]
    return clean(
        {
            "resourceType": "Appointment",
            "id": item.code,
            "identifier": [{"system": system("appointment-code"), "value": item.code}],
            "status": status,
            "cancelationReason": text_concept(str(item.get_cancel_reason_display()))
            if item.cancel_reason
            else None,
            "serviceCategory": [text_concept(str(Mode(slot_row.mode).label))],
            "serviceType": [text_concept(slot_row.department.display_name)],
            "start": instant(slot_row.start),
            "end": instant(slot_row.end),
            "created": instant(item.created_at),
            "slot": [reference("Slot", slot_row.pk)],
            "comment": item.visit_reason,
            "basedOn": [reference("ServiceRequest", item.referral.public_id)]
            if item.referral_id
            else [],
            "participant": [
                {
                    "actor": reference("Patient", item.patient.public_id, item.patient.name),
                    "required": "required",
                    "status": "accepted",
                },
                {
                    "actor": reference(
                        "Practitioner", slot_row.doctor_id, slot_row.doctor.display_name
                    ),
                    "required": "required",
                    "status": "accepted",
                },
                {
                    "actor": reference("Location", slot_row.site_id, slot_row.site.display_name),
                    "required": "required",
                    "status": "accepted",
                },
            ],
        }
    )


def service_request(referral: Referral, person: Patient) -> dict:
    """A referral: to a hospital, optionally a department or doctor, until it expires."""
    performer = [reference("Organization", referral.to_hospital_id)]
    if referral.to_doctor_id:
        performer.append(reference("Practitioner", referral.to_doctor_id))
    source = referral.encounter
    return clean(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.public_id),
            "status": REFERRAL_STATUS[referral.status],
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "3457005",
                            "display": "Patient referral",
                        }
                    ]
                }
            ],
            "code": text_concept(
                referral.to_department.display_name
                if referral.to_department_id
                else referral.to_hospital.display_name
            ),
            "subject": reference("Patient", person.public_id),
            "encounter": reference("Encounter", source.public_id) if source else None,
            "occurrencePeriod": {
                "start": instant(referral.issued_at),
                "end": instant(referral.valid_until),
            },
            "authoredOn": instant(referral.issued_at),
            "requester": reference("Practitioner", source.doctor_id) if source else None,
            "performer": performer,
            "reasonCode": [text_concept(referral.reason)] if referral.reason else [],
        }
    )
