"""Base input serializers: one policy for keys a write does not know, on every endpoint."""

from collections.abc import Mapping

from rest_framework import serializers


class RejectUnknownFieldsMixin:
    """A key the resource does not have is a 400 that names it (`errors.<key>: ["Unknown
    field."]`), so a misspelt field is an error instead of being silently ignored.

    The resource's read-only keys (read-only fields, or names in `ignored_fields`) are accepted
    and ignored, so an object read with GET can be sent back as it is.
    """

    ignored_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = {*self.fields, *self.ignored_fields}
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}, code="unknown_field"
                )
        return super().to_internal_value(data)


class StrictSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    pass
