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

        # A right to be in a consult can end during the call: the room re-checks whoever is in
        # it when the appointment changes or (records' signal, sent once the change commits)
        # a link is revoked or a consent withdrawn.
        from appointments.signals import appointment_status_changed
        from records.models import Patient
        from records.signals import patient_access_changed
        from telemedicine import live

        for signal in (appointment_cancelled, appointment_status_changed):
            signal.connect(
                live.rooms_recheck_for_appointment,
                sender=Appointment,
                dispatch_uid=f"telemedicine.rooms_recheck.{id(signal)}",
            )
        patient_access_changed.connect(
            live.rooms_recheck_for_patient,
            sender=Patient,
            dispatch_uid="telemedicine.rooms_recheck_for_patient",
        )
