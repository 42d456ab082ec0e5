from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from allauth.account.signals import password_changed, password_reset, password_set
        from django.contrib.auth.signals import user_logged_in

        from portal.services import access_tokens_revoke_all

        def revoke_tokens(sender, request, user, **kwargs) -> None:
            access_tokens_revoke_all(owner=user, why="password_changed")

        for signal in (password_changed, password_reset, password_set):
            # A local function: held strongly, or it would be collected once ready() returns.
            signal.connect(revoke_tokens, weak=False, dispatch_uid=f"portal.revoke.{id(signal)}")

        user_logged_in.connect(_begin_session, dispatch_uid="portal.sessions.begin")


def _begin_session(sender, request, user, **kwargs) -> None:
    from portal import sessions

    if request is not None and hasattr(request, "session"):
        sessions.session_begin(session=request.session, user=user)
