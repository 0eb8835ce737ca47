"""Failure isolation for background jobs that walk many rows of many projects.

    with isolated("reconcile", Calendar, calendar.pk) as ok:
        work_on(calendar)
    if ok: ...

An exception inside the block is logged with the row's id, recorded as a `JobFailure` (counted,
shown in the admin and in /healthz) and swallowed, so the job goes on with the next row. Success
clears the row's earlier failure. Errors of the database connection itself are not swallowed
(nothing else would work either).
"""

import logging
from contextlib import contextmanager

from django.db import IntegrityError, InterfaceError, transaction
from django.db.models import Count, F
from django.utils import timezone

from .models import JobFailure

logger = logging.getLogger(__name__)


class Outcome:
    def __init__(self):
        self.failed = False

    def __bool__(self) -> bool:
        return not self.failed


def _key(model, object_id) -> dict:
    return {
        "object_type": model._meta.label if model is not None else "",
        "object_id": str(object_id) if object_id is not None else "",
    }


def _project_id(model, object_id):
    if model is None or object_id is None:
        return None
    if model._meta.label == "projects.Project":
        return object_id
    if any(field.name == "project" for field in model._meta.get_fields()):
        return model.objects.filter(pk=object_id).values_list("project_id", flat=True).first()
    return None


def record_failure(job: str, model, object_id, exc: BaseException) -> None:
    key = _key(model, object_id)
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    now = timezone.now()
    updated = JobFailure.objects.filter(job=job, **key).update(
        error=error, occurrences=F("occurrences") + 1, last_failed_at=now
    )
    if not updated:
        try:
            with transaction.atomic():
                JobFailure.objects.create(
                    job=job,
                    project_id=_project_id(model, object_id),
                    error=error,
                    first_failed_at=now,
                    last_failed_at=now,
                    **key,
                )
        except IntegrityError:  # recorded concurrently by another worker
            pass


def clear_failure(job: str, model, object_id) -> None:
    JobFailure.objects.filter(job=job, **_key(model, object_id)).delete()


@contextmanager
def isolated(job: str, model, object_id, *, clear_on_success: bool = True):
    """Run the block for one row; see the module's docstring. `clear_on_success=False` for a
    hot path whose job clears its records otherwise (one statement fewer)."""
    outcome = Outcome()
    try:
        yield outcome
    except InterfaceError:
        raise
    except Exception as exc:
        outcome.failed = True
        label = _key(model, object_id)
        logger.exception(
            "%s failed for %s %s; skipped", job, label["object_type"], label["object_id"]
        )
        try:
            record_failure(job, model, object_id, exc)
        except Exception:
            logger.exception("could not record the failure of %s", job)
        return
    if clear_on_success:
        clear_failure(job, model, object_id)


def open_failures() -> dict[str, int]:
    """Open failures by job, for /healthz."""
    rows = JobFailure.objects.values("job").annotate(count=Count("id")).order_by("job")
    return {row["job"]: row["count"] for row in rows}
