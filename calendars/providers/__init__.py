"""Registry of calendar providers: `get_provider("google")`. Add a provider here, nowhere else."""

from django.utils.module_loading import import_string

from .base import Provider

PROVIDERS = {
    "google": "calendars.providers.google.GoogleProvider",
    "microsoft": "calendars.providers.microsoft.MicrosoftProvider",
}

_instances: dict[str, Provider] = {}


def get_provider(platform: str) -> Provider:
    if platform not in _instances:
        _instances[platform] = import_string(PROVIDERS[platform])()
    return _instances[platform]
