"""gunicorn settings the Procfile loads (`-c python:config.gunicorn`): request-size limits that
match the service's documented ones (README, "Limits").

The longest legitimate request line is the hosted OAuth callback's: the provider sends the
whole `state` back (up to 8,192 characters, `calendars.oauth.MAX_STATE_LENGTH`), percent-encoded
(up to 3 bytes a character), with its code and scopes: about 27 KB at most. gunicorn's default
(4,094 bytes) refused such callbacks with its own 414 page before the service saw them.
"""

import gc
import os

from gunicorn.http import message

# Bytes of the request line (method, path and query, protocol). Longer lines get gunicorn's 414.
limit_request_line = 32768
# Bytes of one header, and how many headers (gunicorn's defaults; a calendar auth token is under
# 1 KB). More gets gunicorn's 431/400.
limit_request_field_size = 8190
limit_request_fields = 100

# Seconds the workers get to finish their requests once told to stop. `./dev up` sets 1, so
# Ctrl-C stops at once (honcho kills what still runs after 5 s); production keeps gunicorn's 30.
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 30)


def post_worker_init(worker):
    """Once the app is loaded, its start-up objects (~150,000: Django, the apps, the URL
    resolver) go to the collector's permanent generation: full collections stop walking them
    on every request that builds thousands of objects (most of a 1,000-meeting list's p95,
    bench/bench_v1_meetings.py --gc-freeze)."""
    gc.freeze()


def worker_exit(server, worker):
    """Keep the loaded app out of the final garbage collection of an exiting worker: tearing it
    down took about 0.6 s, which the master waits for on every stop."""
    gc.freeze()


# gunicorn caps limit_request_line at MAX_REQUEST_LINE (8,190), and its only way above that is 0,
# "unlimited", with which its Python parser buffers a request line of any size. Raise the cap
# instead, so the limit above is the one in force (tests/config/test_gunicorn.py checks both).
if not isinstance(getattr(message, "MAX_REQUEST_LINE", None), int):
    raise RuntimeError("gunicorn.http.message.MAX_REQUEST_LINE is gone: see config/gunicorn.py")
message.MAX_REQUEST_LINE = max(message.MAX_REQUEST_LINE, limit_request_line)
