"""Rules for what customers name things with."""

import unicodedata

from django.core.exceptions import ValidationError

EXTERNAL_ID_MAX_LENGTH = 255  # CalendarUser.external_id's column


def check_external_id(value: str) -> None:
    """A calendar user's `external_id` (Recall's `user_id`) is the customer's own id, matched
    exactly. So that two ids never look alike, one with surrounding whitespace or a control
    character is refused rather than trimmed or merged. Any other character, `/` included, is
    fine: the id is addressable in paths when percent-encoded."""
    if not value:
        raise ValidationError("Must not be empty.", code="blank")
    if value != value.strip():
        raise ValidationError(
            "Must not start or end with whitespace: ids are matched exactly.",
            code="surrounding_whitespace",
        )
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError("Must not contain control characters.", code="control_character")
