"""Forms of the appointments app, one module per page family: the console, the patient's search,
the booking steps and the front desk. Every form is re-exported here; modules inside the app
import from the concrete module."""

from appointments.forms.booking import ConfirmForm, PersonChoiceField, RescheduleForm, WaitlistForm
from appointments.forms.console import (
    DATETIME_LOCAL,
    PK_MAX,
    ClosureForm,
    FeedLinkRevokeForm,
    RowChoiceForm,
    ScheduleRuleForm,
    parse_day,
)
from appointments.forms.desk import ClaimSelfForm, DateInput, DeskLookupForm, UnechoedTextInput
from appointments.forms.search import SearchForm

__all__ = [
    "DATETIME_LOCAL",
    "PK_MAX",
    "ClaimSelfForm",
    "ClosureForm",
    "ConfirmForm",
    "DateInput",
    "DeskLookupForm",
    "FeedLinkRevokeForm",
    "PersonChoiceField",
    "RescheduleForm",
    "RowChoiceForm",
    "ScheduleRuleForm",
    "SearchForm",
    "UnechoedTextInput",
    "WaitlistForm",
    "parse_day",
]
