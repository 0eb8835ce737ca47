"""Drive a model's admin form directly: what staff can save, without a page round trip."""

import json

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory


def admin_form(instance, **changes) -> forms.ModelForm:
    """The bound admin form of `instance` (a saved object, or a new one to add), holding its
    current values with `changes` applied (Python values; JSON fields are encoded)."""
    model_admin = admin.site._registry[type(instance)]
    request = RequestFactory().post("/")
    request.user = get_user_model()(is_staff=True, is_superuser=True)
    obj = None if instance._state.adding else instance
    form_class = model_admin.get_form(request, obj)
    unbound = form_class(instance=instance)
    data = {}
    for name, field in unbound.fields.items():
        if name not in changes:
            value = unbound[name].value()  # already prepared for the form (JSON encoded...)
        elif isinstance(field, forms.JSONField):
            value = json.dumps(changes[name])
        else:
            value = changes[name]
        if isinstance(field, forms.BooleanField):
            if not value:
                continue
            value = "on"
        elif isinstance(field, forms.ModelChoiceField) and hasattr(value, "pk"):
            value = value.pk
        data[name] = "" if value is None else value
    return form_class(data=data, instance=obj)
