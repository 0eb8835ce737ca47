"""Fields the Aitronos serializers share."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers


class AitronosEnum(serializers.ChoiceField):
    """A choice documented as an enum component of its own (`component`, prefixed `Aitronos`):
    the enum post-processing would otherwise pair it with another surface's enum of the same
    field name (`status`, `provider`, ...)."""

    def __init__(self, choices, *, component: str, **kwargs):
        self.component = component
        super().__init__(choices=list(choices), **kwargs)


class AitronosEnumSchema(OpenApiSerializerFieldExtension):
    target_class = AitronosEnum

    def get_name(self) -> str:
        return self.target.component

    def map_serializer_field(self, auto_schema, direction) -> dict:
        schema = {"type": "string", "enum": list(self.target.choices)}
        if self.target.allow_null:
            schema["nullable"] = True
            schema["enum"].append(None)
        return schema
