from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        # The directory shows each doctor's next free period without importing appointments
        # (DESIGN.md §2): it is handed our selector.
        from appointments.selectors.slots import next_free_periods
        from hospitals.hooks import register_next_free_period_provider

        register_next_free_period_provider(next_free_periods)

        # Booking: a closure cancels the appointments in the slots it closes, and records asks
        # before editing or removing a person with appointments ahead.
        from appointments.selectors.appointments import count_future_appointments
        from appointments.services.closures import cancel_for_closure
        from appointments.signals import closure_created
        from records import hooks

        closure_created.connect(cancel_for_closure, dispatch_uid="appointments.cancel_for_closure")
        if count_future_appointments not in hooks.future_appointment_counters:
            hooks.future_appointment_counters.append(count_future_appointments)

        # Booking messages (e-mail with the .ics, inbox entry) go to the outbox in the booking
        # transaction; a worker delivers them.
        from appointments.services.messages import on_appointment_booked, on_appointment_cancelled
        from appointments.signals import appointment_booked, appointment_cancelled

        appointment_booked.connect(on_appointment_booked, dispatch_uid="appointments.email_booked")
        appointment_cancelled.connect(
            on_appointment_cancelled, dispatch_uid="appointments.email_cancelled"
        )
