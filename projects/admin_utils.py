"""Admin helpers shared by every app: secrets are shown masked, never their value; times carry
their zone."""

from django.contrib import admin
from django.utils import timezone


def masked_secret(field_name: str):
    """A read-only admin column that says whether a secret is set, and nothing more."""

    @admin.display(description=field_name.replace("_", " "))
    def display(*args) -> str:  # (obj) in a readonly list, (admin, obj) as an admin attribute
        obj = args[-1]
        return "•••••••• (set)" if getattr(obj, field_name) else "— (not set)"

    display.__name__ = f"{field_name}_masked"
    return display


class BigTableAdmin(admin.ModelAdmin):
    """For tables that grow to 100k+ rows: no COUNT(*) of the whole table, no giant selects."""

    show_full_result_count = False
    list_per_page = 50


def with_zone(value) -> str:
    """A time as support staff read it: in the server's zone, the zone's name spelled out."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
