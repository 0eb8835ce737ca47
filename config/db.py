"""Database helpers shared by the apps: which errors are worth retrying, retrying them, and
inserting many rows at once."""

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, models
from django.db.models import BooleanField, F, Func
from django.db.models.base import ModelState
from django.utils import timezone

logger = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATE classes a new attempt can succeed after: serialization failure, deadlock, lock not
# available (PostgreSQL). SQLite reports a busy database as "database is locked".
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_transient(exc: BaseException) -> bool:
    """A deadlock, serialization failure or lock time-out: the same work may succeed again."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def retrying(work: Callable[[], T], *, attempts: int = 3, pause: float = 0.05) -> T:
    """Run `work` (which owns its transaction) again after a transient database error."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            logger.info("transient database error (attempt %s), retrying: %s", attempt, exc)
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")


def new_instances(model: type[models.Model], rows: list[dict]) -> list:
    """Unsaved instances of `model`, one per row: every concrete field at its default, then the
    row's values (by attname: `project_id`, not `project`). What `model(**row)` makes, without
    Model.__init__'s per-object cost (it matters from thousands of objects on, as for
    `bulk_insert`). No signals are sent."""
    constant, made, random_ids = {}, [], []
    for field in model._meta.concrete_fields:
        if field.default is uuid.uuid4:
            random_ids.append(field.attname)
        elif field.has_default() and callable(field.default):
            made.append((field.attname, field.default))
        else:
            constant[field.attname] = field.get_default()
    ids = iter(random_uuids(len(rows) * len(random_ids)))
    instances = []
    for row in rows:
        instance = model.__new__(model)
        values = instance.__dict__
        values.update(constant)
        for name in random_ids:
            values[name] = next(ids)
        for name, default in made:
            values[name] = default()
        values.update(row)
        instance._state = ModelState()
        instances.append(instance)
    return instances


def loaded_instances(model: type[models.Model], rows, db: str) -> list:
    """Instances of `model` as if loaded from `db` with these attribute values (each row a dict
    by attname, or its (attname, value) pairs); any other field is deferred: read from the
    database on access, as with `.only()`. Without Model.__init__'s per-object cost."""
    instances = []
    for row in rows:
        instance = model.__new__(model)
        instance.__dict__.update(row)
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = db
        instances.append(instance)
    return instances


def random_uuids(count: int) -> list[uuid.UUID]:
    """`count` version-4 UUIDs, as uuid.uuid4 makes them (from os.urandom), with one system call
    for all of them instead of one each (a call that also gives up the interpreter lock)."""
    pool = os.urandom(16 * count)
    return [uuid.UUID(bytes=pool[at : at + 16], version=4) for at in range(0, 16 * count, 16)]


# From this many rows on, PostgreSQL gets them by COPY: building thousands of rows (JSON documents
# included) as SQL parameters through the ORM costs several times more.
COPY_THRESHOLD = 200


_DJANGO_DEFAULT = DjangoJSONEncoder().default
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def _json_text(value, encoder) -> str:
    """JSON text for a jsonb column, as `json.dumps(value, cls=encoder)` means it: with Django's
    encoder, by orjson (several times faster; dates, times and subclasses still go through
    Django's encoder); what orjson refuses (integers past 64 bits, keys that are not strings),
    and other encoders, by the standard library."""
    if encoder is DjangoJSONEncoder:
        try:
            return orjson.dumps(value, default=_DJANGO_DEFAULT, option=_ORJSON_OPTIONS).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    return json.dumps(value, cls=encoder)


def bulk_insert(model: type[models.Model], objs: list) -> list:
    """`model.objects.bulk_create(objs)`; on PostgreSQL, from COPY_THRESHOLD rows on, by COPY.
    The objects need their primary keys set (UUIDs here) and no post-save work: no signals are
    sent, as with bulk_create. A constraint violation raises IntegrityError either way."""
    if connection.vendor != "postgresql" or len(objs) < COPY_THRESHOLD:
        return model.objects.bulk_create(objs)
    fields = model._meta.concrete_fields
    now = timezone.now()
    for obj in objs:
        obj.created_at = obj.updated_at = now
    encoders = {
        field.attname: field.encoder or DjangoJSONEncoder
        for field in fields
        if isinstance(field, models.JSONField)
    }
    # The identifiers come from the model's metadata, never from input.
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    names = [field.attname for field in fields]
    statement = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for obj in objs:
            values = obj.__dict__
            copy.write_row(
                [
                    _json_text(values[name], encoders[name]) if name in encoders else values[name]
                    for name in names
                ]
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def array_literal(values) -> str:
    """A PostgreSQL array literal of these values (each quoted), one query parameter."""
    items = ",".join(
        '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
    )
    return "{" + items + "}"


class AnyOf(Func):
    """`field__in=values` for a batch's thousands of ids or keys: on PostgreSQL one array
    literal (`= ANY(...)`), which costs a fraction of what building, sending and parsing
    thousands of placeholders does; elsewhere a plain IN."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, field: str, values, array_type: str):
        self.values = list(values)
        self.array_type = array_type
        super().__init__(F(field))

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::{self.array_type}[])", (*params, array_literal(self.values))

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if not self.values:
            return "0 = 1", params
        field = self.source_expressions[0].output_field
        values = [field.get_db_prep_value(value, connection) for value in self.values]
        placeholders = ", ".join(["%s"] * len(values))
        return f"{column} IN ({placeholders})", (*params, *values)
