from django.db import migrations, models


def bind_to_current_url(apps, schema_editor):
    """An existing allowance keeps covering the base URL the configuration has now, only it."""
    BotBackendConfig = apps.get_model("bots", "BotBackendConfig")
    for config in BotBackendConfig.objects.filter(allow_private_addresses=True).only("base_url"):
        config.private_addresses_url = config.base_url
        config.save(update_fields=["private_addresses_url"])


def unbind(apps, schema_editor):
    BotBackendConfig = apps.get_model("bots", "BotBackendConfig")
    BotBackendConfig.objects.exclude(private_addresses_url="").filter(
        private_addresses_url=models.F("base_url")
    ).update(allow_private_addresses=True)


class Migration(migrations.Migration):
    dependencies = [
        ("bots", "0002_dispatch_backends"),
    ]

    operations = [
        migrations.AddField(
            model_name="botbackendconfig",
            name="private_addresses_url",
            field=models.URLField(
                blank=True,
                default="",
                editable=False,
                help_text="The base URL staff allowed to be a private, loopback or link-local address.",
                max_length=500,
            ),
        ),
        migrations.RunPython(bind_to_current_url, unbind),
        migrations.RemoveField(
            model_name="botbackendconfig",
            name="allow_private_addresses",
        ),
    ]
