"""Strings other packages show but do not yet translate into Chinese.

Django 5.2.x changed the msgid of the short-password error and its zh_Hans catalogue has not
caught up, so Chinese users saw it in English. Naming the strings here keeps them in our
catalogue (`make messages`), which takes precedence over Django's.
"""

from django.utils.translation import ngettext_lazy

PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)
