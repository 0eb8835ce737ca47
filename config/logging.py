"""Request-scoped log context: every log line carries the request id (and project, once known)."""

import contextvars
import logging

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("log_context", default=None)


def bind_log_context(**fields) -> None:
    _context.set({**(_context.get() or {}), **fields})


def reset_log_context(**fields) -> None:
    _context.set(dict(fields))


def current_request_id() -> str | None:
    return (_context.get() or {}).get("request_id")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get() or {}
        # Django logs a request's 5xx (`django.request`) after the middleware has left, so the
        # context is gone by then; that record carries the request itself.
        request_id = fields.get("request_id") or getattr(
            getattr(record, "request", None), "request_id", None
        )
        record.request_id = request_id or "-"
        for key, value in fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
