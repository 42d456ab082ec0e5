"""The consult socket of a remote consultation (远程会诊, issue 15) in the security matrix: who
may open it (the specialist, the GP who booked it, the patient side only when invited), and
the host's message types (`admit`, `end`) refused to the GP and the patient."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from telemedicine.models import Consultation
from tests.factories import UserFactory
from tests.sockets import async_test, receive_until
from tests.telemedicine.conftest import consult_socket, joined
from tests.telemedicine.remote import clinic_visit, remote_consultation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_layer", "clinic_hours_ticking"),
]


async def _opens(public_id, user) -> bool:
    communicator = await consult_socket(public_id, user)
    try:
        return await communicator.receive_nothing(timeout=0.5)
    finally:
        await communicator.disconnect()


@async_test
async def test_only_the_specialist_the_gp_and_an_invited_patient_open_the_room():
    build = database_sync_to_async(remote_consultation)
    invited, _visit, family, gp, specialist = await build()
    uninvited, _v, other_family, other_gp, other_specialist = await build(invite_patient=False)
    another_clinics_gp = (await database_sync_to_async(clinic_visit)())[2]
    stranger = await database_sync_to_async(UserFactory)()
    expected = {
        specialist: True,
        gp: True,
        family: True,
        other_gp: False,
        other_specialist: False,
        another_clinics_gp: False,
        stranger: False,
        None: False,
    }
    for user, opens in expected.items():
        assert await _opens(invited.public_id, user) is opens, user
    assert await _opens(uninvited.public_id, other_family) is False
    assert await _opens(uninvited.public_id, other_gp) is True


@async_test
async def test_the_gp_and_the_patient_cannot_start_or_end_the_consultation():
    consultation, _visit, family, gp, _specialist = await database_sync_to_async(
        remote_consultation
    )()
    sockets = [await joined(consultation.public_id, user) for user in (gp, family)]
    try:
        for communicator in sockets:
            for kind in ("admit", "end"):
                await communicator.send_json_to({"type": kind})
                assert (await receive_until(communicator, "error"))["code"] == "forbidden"
        state = await database_sync_to_async(
            Consultation.objects.values_list("status", flat=True).get
        )(pk=consultation.pk)
        assert state != Consultation.Status.LIVE and state != Consultation.Status.ENDED
    finally:
        for communicator in sockets:
            await communicator.disconnect()
