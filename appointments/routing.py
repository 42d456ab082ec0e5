from django.urls import path

from appointments.consumers import DeskDisplayConsumer, DoctorSlotsConsumer

websocket_urlpatterns = [
    path("ws/slots/doctor/<int:doctor_id>/", DoctorSlotsConsumer.as_asgi()),
    path("ws/desk/display/<slug:slug>/", DeskDisplayConsumer.as_asgi()),
]
