"""CareTeam and EpisodeOfCare (issue 20) in Patient/$everything, valid R4B; the episode
references its team. The family and the team read them; once the signing is cancelled the
team's $everything is a 404."""

from __future__ import annotations

import pytest

from appointments.familydoctors.services import signing_cancel
from tests.conftest import with_totp
from tests.familydoctors.conftest import signed
from tests.fhir.conftest import body, entries, validate

pytestmark = pytest.mark.django_db


def _everything(client, patient):
    return client.get(f"/fhir/Patient/{patient.public_id}/$everything")


def test_everything_holds_a_valid_care_team_and_episode_of_care(client):
    signing, account = signed()
    client.force_login(account)
    response = _everything(client, signing.patient)
    assert response.status_code == 200
    bundle = body(response)
    validate(bundle)
    [team] = entries(bundle, "CareTeam")
    [episode] = entries(bundle, "EpisodeOfCare")
    validate(team)
    validate(episode)
    assert episode["team"][0]["reference"] == f"CareTeam/{team['id']}"
    assert episode["patient"]["reference"] == f"Patient/{signing.patient.public_id}"
    assert episode["status"] == "active"
    assert episode["period"]["end"] == signing.ends_on.isoformat()
    assert team["participant"][0]["member"]["reference"] == f"Practitioner/{signing.team.gp_id}"
    assert len(team["participant"]) == 2  # the GP and the nurse


def test_the_team_reads_everything_while_signed_and_not_after_cancelling(client):
    signing, account = signed()
    gp = with_totp(signing.team.gp.user)
    client.force_login(gp)
    assert _everything(client, signing.patient).status_code == 200
    signing_cancel(signing=signing, by=account)
    assert _everything(client, signing.patient).status_code == 404
    client.force_login(account)
    bundle = body(_everything(client, signing.patient))
    [episode] = entries(bundle, "EpisodeOfCare")
    assert episode["status"] == "cancelled"
    validate(episode)
