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
        record.request_id = fields.get("request_id", "-")
        for key, value in fields.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
