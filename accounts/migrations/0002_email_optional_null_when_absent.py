"""E-mail becomes optional (phone-first accounts): nullable and unique when set. Existing
accounts keep their address; an empty string, should one exist, becomes NULL so that many
accounts without an address never collide on ""."""

from django.db import migrations, models


def empty_email_to_null(apps, schema_editor) -> None:
    apps.get_model("accounts", "User").objects.filter(email="").update(email=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
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
    ]
