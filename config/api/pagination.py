"""Cursor pagination whose cursors cannot be tampered with into an error.

DRF decodes the cursor (`o` offset, `r` reverse, `p` position) and puts the position, as given,
into a filter on the first ordering field: a position that is not a value of that field (a date
that is not a date, a naive or out-of-range datetime) raised deep inside the query. Here every
part is checked first; a cursor we did not make is a 400 `invalid_cursor`.
"""

import datetime

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from .exceptions import ApiError

INVALID_CURSOR = "The pagination cursor is invalid: use the `next` or `previous` link as given."


def invalid_cursor() -> ApiError:
    return ApiError("invalid_cursor", INVALID_CURSOR)


class CursorPagination(pagination.CursorPagination):
    """The base of every cursor-paginated list (`tests/config/test_bad_input.py` checks)."""

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid_cursor() from None
        if cursor is not None and cursor.position is not None:
            self.check_position(cursor.position)
        return cursor

    def check_position(self, position: str) -> None:
        if "\x00" in position:
            raise invalid_cursor()
        try:
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            return  # an annotation: the database compares it as given
        try:
            value = field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise invalid_cursor() from None
        if isinstance(field, models.DateTimeField):
            # Positions we make are aware (str() of a stored datetime); a naive one would be
            # read in the current time zone, an extreme one overflow when converted to UTC.
            if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
                raise invalid_cursor()
            try:
                value.astimezone(datetime.UTC)
            except OverflowError:
                raise invalid_cursor() from None
