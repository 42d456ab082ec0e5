from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # allauth is a third-party package below every app, so listening to it here keeps
        # the layers: a new password ends every API token the old one may have made.
        from allauth.account.signals import password_changed, password_reset, password_set

        from accounts.services import access_tokens_revoke_all

        def revoke_tokens(sender, request, user, **kwargs) -> None:
            access_tokens_revoke_all(owner=user, why="password_changed")

        # Whether the account's address is confirmed, mirrored onto the account (every way
        # allauth confirms, adds, changes or removes an address saves or deletes a row).
        from allauth.account.models import EmailAddress
        from django.db.models.signals import post_delete, post_save

        from accounts.services import account_email_verified_sync

        def sync_email_verified(sender, instance, **kwargs) -> None:
            account_email_verified_sync(user_id=instance.user_id)

        for model_signal in (post_save, post_delete):
            model_signal.connect(
                sync_email_verified,
                sender=EmailAddress,
                weak=False,
                dispatch_uid=f"accounts.email_verified.{id(model_signal)}",
            )

        for signal in (password_changed, password_reset, password_set):
            # A local function: held strongly, or it would be collected once ready() returns.
            signal.connect(revoke_tokens, weak=False, dispatch_uid=f"accounts.revoke.{id(signal)}")
