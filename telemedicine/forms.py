from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.forms import PK_MAX


class CallNextForm(forms.Form):
    """The doctor's "Call next": `seen_last` is the appointment the page showed as called
    last (empty: nobody yet), so a double click or a second screen calls nobody twice."""

    seen_last = forms.IntegerField(required=False, min_value=1, max_value=PK_MAX)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The page only ever sends an id it showed, or nothing: anything else means we cannot
        # tell what the doctor saw, so nobody is called.
        message = _("The page was out of date: nobody was called. Look at the queue again.")
        self.fields["seen_last"].error_messages.update(
            dict.fromkeys(("invalid", "min_value", "max_value"), message)
        )
