from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemedicineConfig(AppConfig):
    name = "telemedicine"
    verbose_name = _("Telemedicine")

    def ready(self) -> None:
        from appointments.models import Appointment
        from appointments.signals import appointment_booked, appointment_cancelled
        from telemedicine import services

        appointment_booked.connect(
            services.consultation_create_for_booking,
            sender=Appointment,
            dispatch_uid="telemedicine.consultation_create_for_booking",
        )
        appointment_cancelled.connect(
            services.consultation_end_for_cancellation,
            sender=Appointment,
            dispatch_uid="telemedicine.consultation_end_for_cancellation",
        )
