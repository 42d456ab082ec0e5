"""The unread badge, pushed live: after an account's inbox changes, its new unread count goes to
its group; the consumer (notifications/consumers.py) joins `inbox_group(account_id)`.

Under the embedded default the in-memory channel layer cannot carry a push from the worker to
the web process, so the badge also polls (DESIGN.md §5). A push that fails is logged and dropped.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from notifications.selectors import unread_count

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "inbox.unread"


def inbox_group(account_id: int) -> str:
    return f"inbox.{account_id}"


def push_unread(account_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        count = unread_count(account=account_id)
        async_to_sync(layer.group_send)(
            inbox_group(account_id), {"type": MESSAGE_TYPE, "unread": count}
        )
    except Exception:
        logger.warning("could not push the unread count of account %s", account_id, exc_info=True)
