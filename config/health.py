"""Details other apps add to /healthz, read once the database answers.

config imports no app: an app registers its detail from its AppConfig.ready() (projects: the
rows background jobs skipped). A detail is for operators, never a reason to report unhealthy.
"""

from collections.abc import Callable

DETAILS: dict[str, Callable[[], object]] = {}


def add_detail(name: str, read: Callable[[], object]) -> None:
    DETAILS[name] = read
