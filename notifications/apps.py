from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The unread badge is pushed whenever an inbox changes (a delivery, a read).
        from notifications.live import push_unread
        from notifications.services import inbox_listeners

        if push_unread not in inbox_listeners:
            inbox_listeners.append(push_unread)
