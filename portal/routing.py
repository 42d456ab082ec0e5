"""WebSocket routes of every app, gathered in import order (DESIGN.md §2).

The consult socket (/ws/consult/<uuid>/) joins with telemedicine/routing.py.
"""

from appointments.routing import websocket_urlpatterns as appointments_websockets
from notifications.routing import websocket_urlpatterns as notifications_websockets

websocket_urlpatterns: list = [*notifications_websockets, *appointments_websockets]
