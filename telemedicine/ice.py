"""ICE servers for a consult: STUN/TURN from settings, TURN with coturn REST credentials.

coturn's `use-auth-secret` (with `static-auth-secret` = TURN_SHARED_SECRET) accepts a username
`<expiry unix time>:<anything>` and the password base64(HMAC-SHA1(secret, username)); it refuses
the pair after the expiry. The expiry is the room's closing time, so a credential dies with the
consult.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from django.conf import settings

from telemedicine.models import Consultation


def turn_credential(*, secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers_for(*, consultation: Consultation, account: Any) -> dict:
    servers: list[dict] = []
    stun = list(getattr(settings, "STUN_URLS", []) or [])
    turn = list(getattr(settings, "TURN_URLS", []) or [])
    secret = getattr(settings, "TURN_SHARED_SECRET", "")
    expires = int(consultation.closes_at.timestamp())
    if stun:
        servers.append({"urls": stun})
    if turn and secret:
        username = f"{expires}:{account.pk}"
        servers.append(
            {
                "urls": turn,
                "username": username,
                "credential": turn_credential(secret=secret, username=username),
            }
        )
    return {"iceServers": servers, "expires": expires}
