"""E-mail becomes optional (phone-first accounts): nullable and unique when set. Existing
accounts keep their address; an empty string, should one exist, becomes NULL so that many
accounts without an address never collide on "". `email_verified` mirrors allauth's record of
the address (nothing is sent to an unconfirmed one), filled here for existing accounts."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def empty_email_to_null(apps, schema_editor) -> None:
    apps.get_model("accounts", "User").objects.filter(email="").update(email=None)


def fill_email_verified(apps, schema_editor) -> None:
    user_model = apps.get_model("accounts", "User")
    email_address = apps.get_model("account", "EmailAddress")
    confirmed = email_address.objects.filter(
        user_id=OuterRef("pk"), email__iexact=OuterRef("email"), verified=True
    )
    user_model.objects.filter(email__isnull=False).update(email_verified=Exists(confirmed))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                blank=True, max_length=254, null=True, unique=True, verbose_name="e-mail address"
            ),
        ),
        migrations.RunPython(empty_email_to_null, migrations.RunPython.noop),
        migrations.AddField(
            model_name="user",
            name="email_verified",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="e-mail verified"
            ),
        ),
        migrations.RunPython(fill_email_verified, migrations.RunPython.noop),
    ]
