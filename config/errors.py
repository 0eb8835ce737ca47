"""The one base of the errors a service raises when it refuses a request.

Services (and the few views that hold a rule of their own) raise a `DomainError` subclass;
the API maps it once (`config.api.exceptions.api_error_for`) to the error envelope of
`config/api/errors.py`: `code`, `message`, the HTTP `status`, and `errors` for detail a client
acts on (`{"existing_id": ...}`, or `{field: [message]}` for an error about one input field).
No view catches these to re-raise them. It sits in `config` so every app can import it.
"""


class DomainError(Exception):
    """A refused request: a machine-readable `code`, a `message` for people, the HTTP `status`
    that fits, optionally the input `field` it is about and `errors` (detail for the client)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        field: str | None = None,
        errors: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        if errors is None and field is not None:
            errors = {field: [message]}
        self.errors = errors
        self.headers = headers or {}
