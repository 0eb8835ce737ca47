"""URLs for tests that need a view which fails in a particular way."""

from django.db import DatabaseError, DataError, IntegrityError, OperationalError
from django.http import Http404, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from projects.models import Project


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def crash(request):
    raise RuntimeError("boom: secret detail that must not leak")


@require_POST
def plain_post_only(request):
    return HttpResponse("ok")


class PostgresError(Exception):
    """What psycopg raises, as far as telling errors apart goes: an SQLSTATE."""

    def __init__(self, sqlstate: str, message: str):
        super().__init__(message)
        self.sqlstate = sqlstate


def transient_error(sqlstate: str = "40P01") -> OperationalError:
    """An OperationalError as Django raises it for a deadlock (40P01), a serialization failure
    (40001) or a lock time-out (55P03): the driver's error is its cause."""
    error = OperationalError("deadlock detected")
    error.__cause__ = PostgresError(sqlstate, "deadlock detected")
    return error


class Conflicts:
    """How many more times the conflict views fail before they succeed, and how often they ran."""

    failures = 0
    calls = 0
    sqlstate = "40P01"


def _conflict_or_ok():
    Conflicts.calls += 1
    if Conflicts.failures:
        Conflicts.failures -= 1
        raise transient_error(Conflicts.sqlstate)


@api_view(["GET", "POST"])
@authentication_classes([])
@permission_classes([])
def conflict(request):
    _conflict_or_ok()
    return Response({"ok": True})


def plain_conflict(request):
    _conflict_or_ok()
    return HttpResponse("ok")


def _raiser(make_exception):
    @api_view(["GET", "PATCH"])
    @authentication_classes([])
    @permission_classes([])
    def view(request):
        raise make_exception()

    return view


def plain_not_found(request):
    raise Http404("no such thing")


RAISING = {
    "does-not-exist": lambda: Project.DoesNotExist("Project matching query does not exist."),
    "update-of-deleted-row": lambda: DatabaseError(
        "Save with update_fields did not affect any rows."
    ),
    "integrity-error": lambda: IntegrityError("duplicate key value violates unique constraint"),
    "data-error": lambda: DataError("value too long for type character varying(255)"),
    "other-database-error": lambda: DatabaseError("something else entirely"),
}

urlpatterns = [
    path("api/test/crash/", crash),
    path("api/test/post-only/", plain_post_only),
    path("api/test/conflict/", conflict),
    path("api/test/plain-conflict/", plain_conflict),
    path("api/test/plain-not-found/", plain_not_found),
    *(path(f"api/test/raise/{name}/", _raiser(make)) for name, make in RAISING.items()),
    path("", include("config.urls")),
]
