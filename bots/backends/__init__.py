"""Registry of bot dispatch backends: `get_backend("local")`. Add a backend here, nowhere else.

A project picks one with `Project.bot_dispatch_backend`.
"""

from django.utils.module_loading import import_string

from .base import BackendError, BotBackend

BACKENDS = {
    "local": "bots.backends.local.LocalBackend",
    "attendee": "bots.backends.attendee.AttendeeBackend",
}

_instances: dict[str, BotBackend] = {}


class UnknownBackend(BackendError):
    def __init__(self, name: str):
        super().__init__(
            f"Unknown bot dispatch backend {name!r}; set the project's bot_dispatch_backend "
            f"to one of: {', '.join(sorted(BACKENDS))}.",
            retryable=True,  # staff can fix the project; the bot is retried meanwhile
        )


def get_backend(name: str) -> BotBackend:
    if name not in BACKENDS:
        raise UnknownBackend(name)
    if name not in _instances:
        _instances[name] = import_string(BACKENDS[name])()
    return _instances[name]


def backend_choices() -> list[tuple[str, str]]:
    return [(name, get_backend(name).label) for name in sorted(BACKENDS)]
