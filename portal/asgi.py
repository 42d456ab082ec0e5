import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Django must be set up before anything imports models (consumers, auth middleware).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from portal.middleware import AuditContextSocketMiddleware  # noqa: E402
from portal.routing import websocket_urlpatterns  # noqa: E402
from portal.socket_sign_in import SocketSignInMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Sockets obey the sign-in rules of pages (second factor, idle and absolute limits):
        # once, here, for every route but the public ones (portal/socket_sign_in.py).
        # Outermost, the audit context of the connection (its address and id).
        "websocket": AuditContextSocketMiddleware(
            AllowedHostsOriginValidator(
                AuthMiddlewareStack(SocketSignInMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
