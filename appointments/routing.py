from django.urls import path

from appointments.consumers import DoctorSlotsConsumer

websocket_urlpatterns = [
    path("ws/slots/doctor/<int:doctor_id>/", DoctorSlotsConsumer.as_asgi()),
]
