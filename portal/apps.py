from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_begin_session, dispatch_uid="portal.sessions.begin")


def _begin_session(sender, request, user, **kwargs) -> None:
    from portal import sessions

    if request is not None and hasattr(request, "session"):
        sessions.session_begin(session=request.session, user=user)
