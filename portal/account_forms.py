"""allauth's forms, adjusted for phone-first accounts (ACCOUNT_FORMS in settings)."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm, RequestLoginCodeForm, SignupForm
from allauth.core import context, ratelimit
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class PhoneFirstLoginForm(LoginForm):
    """One box for the number or the address, labelled as such (allauth says "Login")."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Mobile number or e-mail")
        login.widget.attrs.update(
            {"placeholder": _("e.g. 138 1234 5678"), "autocomplete": "username"}
        )


class PhoneCodeRequestForm(RequestLoginCodeForm):
    """A sign-in code goes by SMS to a number; sign-in by e-mail is with the password."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("email", None)
        self.fields["phone"].required = True


class PhoneFirstSignupForm(SignupForm):
    """allauth's sign-up form: the password is optional and says so, and a taken e-mail is
    never revealed.

    With mandatory e-mail verification allauth hides a taken address behind the "check your
    mail" step; with optional verification it would say "already in use" on the page, telling
    anyone which addresses have accounts. Here a taken address is simply not attached: the
    account is made with the number alone (verified by SMS as always), and the address's owner
    gets allauth's "someone tried to sign up with your address" mail.
    """

    taken_email: str = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "password1" in self.fields:
            password = self.fields["password1"]
            password.label = _("Password (optional)")
            password.help_text = format_html(
                "<p>{}</p>{}",
                _("Without one, you sign in with a code sent to your mobile phone."),
                password.help_text,
            )
        if "password2" in self.fields:
            self.fields["password2"].label = _("Password again")

    def clean(self) -> dict:
        cleaned_data = super().clean()
        phone = cleaned_data.get("phone")
        # The code costs money: refuse on the form, before an account is made, when this number
        # or this address has asked for too many this hour (alike with or without an account).
        if (
            phone
            and not self.errors
            and not ratelimit.consume(context.request, action="signup_code", key=phone)
        ):
            self.add_error(None, get_adapter().error_messages["rate_limited"])
        return cleaned_data

    def validate_unique_email(self, value: str) -> str:
        email = get_adapter().validate_unique_email(value)
        if User.objects.filter(email__iexact=email).exists():
            self.taken_email = email
            return ""
        return email

    def save(self, request: HttpRequest) -> AbstractBaseUser:
        user = super().save(request)
        if self.taken_email:
            get_adapter(request).send_account_already_exists_mail(self.taken_email)
        return user
