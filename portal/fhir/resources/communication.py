"""Text consult messages (图文问诊) as FHIR `Communication`, in the patient's $everything."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.fhir.resources.base import clean, instant, reference, text_concept
from telemedicine.models import TextConsult, TextConsultMessage


def _book_text(message: TextConsultMessage) -> str:
    if message.book_mode == TextConsult.BookMode.ONLINE:
        return _("The doctor asks you to book a video visit.")
    return _("The doctor asks you to book an in-person visit.")


def communication(message: TextConsultMessage) -> dict:
    """One message of a thread: from the doctor to the patient, or from the family (an account
    acting for the patient, named by display only) to the doctor. Photos are attachments by
    URL: they are served to the thread's readers only."""
    consult = message.consult
    doctor = reference("Practitioner", consult.doctor_id, consult.doctor.display_name)
    family = {"display": message.sender.name} if message.sender.name else None
    payload = []
    if message.text:
        payload.append({"contentString": message.text})
    if message.book_mode:
        payload.append({"contentString": _book_text(message)})
    thread = consult.encounter.public_id
    for photo in message.photos.all():
        payload.append(
            {
                "contentAttachment": {
                    "contentType": photo.content_type,
                    "url": f"/text-consults/{thread}/photos/{photo.public_id}/",
                    "size": photo.size,
                    "title": photo.original_name,
                }
            }
        )
    return clean(
        {
            "resourceType": "Communication",
            "id": str(message.public_id),
            "status": "completed",
            "category": [text_concept(_("text consult"))],
            "subject": reference("Patient", consult.patient.public_id),
            "encounter": reference("Encounter", thread),
            "sent": instant(message.created_at),
            "sender": doctor if message.from_doctor else family,
            "recipient": [{"display": consult.patient.name}] if message.from_doctor else [doctor],
            "payload": payload,
        }
    )
