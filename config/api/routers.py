from django.db import models
from rest_framework.routers import SimpleRouter

from .ids import UUID_PATTERN


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without the trailing slash: Recall clients use both, and a
    redirect would turn their POST into a GET.

    A viewset whose lookup field is a UUID matches only UUIDs (`ids.UUID_PATTERN`), whatever
    its own `lookup_value_regex` says: anything else is the resolver's 404."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if _lookup_is_uuid(viewset):
            lookup_field = getattr(viewset, "lookup_field", "pk")
            lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
            return self._base_pattern.format(
                lookup_prefix=lookup_prefix,
                lookup_url_kwarg=lookup_url_kwarg,
                lookup_value=UUID_PATTERN,
            )
        return super().get_lookup_regex(viewset, lookup_prefix)


def _lookup_is_uuid(viewset) -> bool:
    queryset = getattr(viewset, "queryset", None)
    if queryset is None:
        return False
    lookup_field = getattr(viewset, "lookup_field", "pk")
    meta = queryset.model._meta
    field = meta.pk if lookup_field == "pk" else meta.get_field(lookup_field)
    return isinstance(field, models.UUIDField)
