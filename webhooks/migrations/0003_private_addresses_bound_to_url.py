from django.db import migrations, models


def bind_to_current_url(apps, schema_editor):
    """An existing allowance keeps covering the URL the endpoint has now, and only that one."""
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.filter(allow_private_addresses=True).only("url"):
        endpoint.private_addresses_url = endpoint.url
        endpoint.save(update_fields=["private_addresses_url"])


def unbind(apps, schema_editor):
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    WebhookEndpoint.objects.exclude(private_addresses_url="").filter(
        private_addresses_url=models.F("url")
    ).update(allow_private_addresses=True)


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_attempts_rotation_health"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="private_addresses_url",
            field=models.URLField(
                blank=True,
                default="",
                editable=False,
                help_text="The URL staff allowed to reach private, loopback or link-local addresses.",
                max_length=2000,
            ),
        ),
        migrations.RunPython(bind_to_current_url, unbind),
        migrations.RemoveField(
            model_name="webhookendpoint",
            name="allow_private_addresses",
        ),
    ]
