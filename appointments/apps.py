from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        # Lower apps ask us through their signals, as they cannot import us (DESIGN.md §2);
        # inside appointments every step is a direct call. docs/architecture.md lists them all.
        from django.db.models.signals import post_save

        from appointments import receivers
        from appointments.ics import message_file_ics
        from hospitals.models import Doctor, Hospital
        from hospitals.signals import next_free_periods_wanted
        from notifications.render import register_file_builder
        from records.signals import future_appointments_counted

        # The directory shows each doctor's next free period.
        next_free_periods_wanted.connect(
            receivers.next_free_periods_answer, dispatch_uid="appointments.next_free_periods"
        )
        # records refuses to edit or remove a person with appointments ahead.
        future_appointments_counted.connect(
            receivers.future_appointments_answer,
            dispatch_uid="appointments.future_appointments_count",
        )
        # Search in a district reads NextFreePeriod's copy of the hospital's district: it
        # follows a hospital's new district and a doctor's new hospital (the admin saves them).
        post_save.connect(
            receivers.hospital_saved, sender=Hospital, dispatch_uid="appointments.district_follow"
        )
        post_save.connect(
            receivers.doctor_saved, sender=Doctor, dispatch_uid="appointments.hospital_follow"
        )
        # The worker builds a message's .ics from its snapshot (notifications.render).
        register_file_builder("appointment_ics", message_file_ics)
