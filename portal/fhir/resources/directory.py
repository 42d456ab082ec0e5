"""The public directory as FHIR: Organization, Location, Practitioner, Schedule, Slot."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from appointments.models import Mode, Slot
from hospitals.models import Doctor, Hospital
from portal.fhir.resources.base import clean, instant, reference, text_concept


def schedule_id(doctor_id: int, site_id: int) -> str:
    return f"{doctor_id}-{site_id}"


# --- The directory (public) -------------------------------------------------------------------


def _address(hospital: Hospital) -> list[dict]:
    address = clean(
        {
            "text": hospital.display_address,
            "district": hospital.display_district,
        }
    )
    return [address] if address else []


def organization(hospital: Hospital) -> dict:
    return clean(
        {
            "resourceType": "Organization",
            "id": str(hospital.pk),
            "active": hospital.is_active,
            "type": [text_concept(str(hospital.get_kind_display()))],
            "name": hospital.name,
            "alias": [hospital.name_en] if hospital.name_en else [],
            "telecom": [{"system": "phone", "value": hospital.phone}] if hospital.phone else [],
            "address": _address(hospital),
        }
    )


def location(hospital: Hospital) -> dict:
    """A hospital as the place where a doctor's sessions happen (Schedule and Appointment
    actors cannot be Organizations)."""
    address = _address(hospital)
    return clean(
        {
            "resourceType": "Location",
            "id": str(hospital.pk),
            "status": "active" if hospital.is_active else "inactive",
            "name": hospital.name,
            "alias": [hospital.name_en] if hospital.name_en else [],
            "telecom": [{"system": "phone", "value": hospital.phone}] if hospital.phone else [],
            "address": address[0] if address else None,
            "managingOrganization": reference("Organization", hospital.pk, hospital.display_name),
        }
    )


def practitioner(doctor: Doctor) -> dict:
    names = [{"use": "official", "text": doctor.name}]
    if doctor.name_en:
        names.append({"use": "usual", "text": doctor.name_en})
    return clean(
        {
            "resourceType": "Practitioner",
            "id": str(doctor.pk),
            "active": doctor.is_active,
            "name": names,
            "qualification": [{"code": text_concept(str(doctor.get_title_display()))}],
        }
    )


def schedule(doctor: Doctor, site: Hospital) -> dict:
    """One per doctor and site: the doctor's sessions there (their Slots)."""
    return clean(
        {
            "resourceType": "Schedule",
            "id": schedule_id(doctor.pk, site.pk),
            "active": doctor.is_active and site.is_active,
            "serviceType": [text_concept(doctor.department.display_name)],
            "actor": [
                reference("Practitioner", doctor.pk, doctor.display_name),
                reference("Location", site.pk, site.display_name),
            ],
        }
    )


def slot_status(slot: Slot, *, now: dt.datetime) -> str:
    """free: a public place can be taken now; busy: open but full; busy-unavailable: closed,
    begun, or not released yet. The same rule as selectors.slot_status_filter."""
    if slot.closed_at is not None or now >= slot.start or now < slot.release_at:
        return "busy-unavailable"
    return "free" if slot.public_places_left(now=now) > 0 else "busy"


def slot(slot: Slot, *, now: dt.datetime) -> dict:
    status = slot_status(slot, now=now)
    comment = ""
    if status == "free":
        left = slot.public_places_left(now=now)
        comment = ngettext("%(n)d place left", "%(n)d places left", left) % {"n": left}
    elif status == "busy-unavailable" and slot.closed_at is None and now < slot.release_at:
        comment = _("Opens for booking at %(at)s") % {
            "at": timezone.localtime(slot.release_at, slot.site.zone).strftime("%Y-%m-%d %H:%M")
        }
    return clean(
        {
            "resourceType": "Slot",
            "id": str(slot.pk),
            "serviceCategory": [text_concept(str(Mode(slot.mode).label))],
            "serviceType": [text_concept(slot.department.display_name)],
            "schedule": reference("Schedule", schedule_id(slot.doctor_id, slot.site_id)),
            "status": status,
            "start": instant(slot.start),
            "end": instant(slot.end),
            "comment": comment,
        }
    )
