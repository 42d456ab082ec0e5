"""Family doctors as FHIR: CareTeam (a clinic's team) and EpisodeOfCare (a person's signing,
which references its CareTeam)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from appointments.familydoctors.models import FamilySigning, FamilyTeam
from portal.fhir.resources.base import clean, reference, system, text_concept

EPISODE_STATUS = {
    FamilySigning.Status.ACTIVE: "active",
    FamilySigning.Status.ENDED: "finished",
    FamilySigning.Status.CANCELLED: "cancelled",
}


def care_team(team: FamilyTeam) -> dict:
    """Needs clinic, gp and nurse loaded."""
    participants = [
        {
            "role": [text_concept(_("general practitioner"))],
            "member": reference("Practitioner", team.gp_id, team.gp.display_name),
        }
    ]
    if team.nurse_id:
        # A nurse has no Doctor row, so no Practitioner resource: named, not referenced.
        participants.append(
            {"role": [text_concept(_("nurse"))], "member": {"display": team.nurse.name}}
        )
    return clean(
        {
            "resourceType": "CareTeam",
            "id": str(team.public_id),
            "identifier": [{"system": system("family-team"), "value": str(team.public_id)}],
            "status": "active" if team.is_active else "inactive",
            "category": [text_concept(_("family-doctor team"))],
            "name": team.name,
            "participant": participants,
            "managingOrganization": [
                reference("Organization", team.clinic_id, team.clinic.display_name)
            ],
        }
    )


def episode_of_care(signing: FamilySigning, on=None) -> dict:
    """Needs patient and team (with clinic) loaded. An active signing past its end date is
    finished."""
    status = EPISODE_STATUS[signing.status]
    if status == "active" and on is not None and signing.ends_on < on:
        status = "finished"
    return clean(
        {
            "resourceType": "EpisodeOfCare",
            "id": str(signing.public_id),
            "status": status,
            "type": [text_concept(_("family-doctor signing"))],
            "patient": reference("Patient", signing.patient.public_id, signing.patient.name),
            "managingOrganization": reference(
                "Organization", signing.team.clinic_id, signing.team.clinic.display_name
            ),
            "period": {
                "start": signing.starts_on.isoformat(),
                "end": signing.ends_on.isoformat(),
            },
            "team": [reference("CareTeam", signing.team.public_id, signing.team.name)],
        }
    )
