from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Text stored Fernet-encrypted. The empty string is stored as is, meaning "not set".

    Values cannot be filtered on (every encryption differs); serializers must treat these
    fields as write-only and the admin shows them masked.
    """

    description = "Encrypted text"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)

    def formfield(self, **kwargs):
        # Never rendered into an editable form: the admin shows a mask instead.
        return None
