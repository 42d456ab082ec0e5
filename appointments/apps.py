from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        # The directory shows each doctor's next free period without importing appointments
        # (DESIGN.md §2): it is handed our selector. hospitals/hooks.py lands with the directory
        # branch; until then there is nothing to register with.
        try:
            from hospitals.hooks import register_next_free_period_provider
        except ImportError:
            return
        from appointments.selectors import next_free_periods

        register_next_free_period_provider(next_free_periods)
