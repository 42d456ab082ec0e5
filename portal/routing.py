"""WebSocket routes of every app, gathered in import order (DESIGN.md §2).

The consult socket (/ws/consult/<uuid>/) joins with telemedicine/routing.py.
"""

websocket_urlpatterns: list = []
