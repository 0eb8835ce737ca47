"""Loopback fake of an Attendee-compatible bot API (the `attendee` dispatch backend's peer).

    POST   /api/v1/bots                 create (201); `join_at` optional, never in the past;
                                        a `deduplication_key` in use by a live bot -> 400
    GET    /api/v1/bots                 list, `?deduplication_key=` filter
    GET    /api/v1/bots/{id}            one bot
    PATCH  /api/v1/bots/{id}            `join_at` only, scheduled bots only
    DELETE /api/v1/bots/{id}            scheduled bots only (405 once launched)
    POST   /api/v1/bots/{id}/leave      a launched bot leaves

Every call needs `Authorization: Token <api_key>`. Control from tests: `bots` (the stored
bots by id), `launch(id)` (the bot starts joining, as Attendee does at join_at),
`fail_next(n, 500 | 429 | "timeout", ...)`, and the request log and counters of `FakeServer`.
A "timeout" holds the request without answering until the client gives up (or the fake stops).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from .base import (
    UTC,
    Abort,
    FailureRule,
    FakeServer,
    Request,
    Response,
    json_response,
    new_id,
)

LIVE_STATES = ("scheduled", "joining", "joined_recording")
TIMEOUT = "timeout"


@dataclass
class FakeBot:
    id: str
    meeting_url: str
    bot_name: str
    join_at: dt.datetime | None
    metadata: dict[str, Any]
    deduplication_key: str | None
    extra: dict[str, Any] = field(default_factory=dict)
    state: str = "scheduled"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "meeting_url": self.meeting_url,
            "bot_name": self.bot_name,
            "join_at": self.join_at.isoformat().replace("+00:00", "Z") if self.join_at else None,
            "metadata": self.metadata,
            "deduplication_key": self.deduplication_key,
            "state": self.state,
            **self.extra,
        }


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


class FakeBotProvider(FakeServer):
    api_prefix = "/api/v1/"
    #: how long a "timeout" failure holds a request at most
    hang_seconds = 5.0

    def __init__(self, *, api_key: str = "attendee-test-key", **kwargs: Any):
        super().__init__(**kwargs)
        self.api_key = api_key
        self.bots: dict[str, FakeBot] = {}
        self._released = threading.Event()
        self.route("POST", r"/api/v1/bots/?", self._create, "bots.create")
        self.route("GET", r"/api/v1/bots/?", self._list, "bots.list")
        self.route("GET", r"/api/v1/bots/(?P<id>[^/]+)/?", self._get, "bots.get")
        self.route("PATCH", r"/api/v1/bots/(?P<id>[^/]+)/?", self._patch, "bots.patch")
        self.route("DELETE", r"/api/v1/bots/(?P<id>[^/]+)/?", self._delete, "bots.delete")
        self.route("POST", r"/api/v1/bots/(?P<id>[^/]+)/leave/?", self._leave, "bots.leave")

    # control ----------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int | str = 500, **kwargs: Any) -> None:
        """The next `n` API requests fail: an HTTP status (500, 429 with `retry_after=`...) or
        "timeout" (no answer until the client gives up)."""
        if status == TIMEOUT:
            super().fail_next(n, 504, reason=TIMEOUT, **kwargs)
        else:
            super().fail_next(n, int(status), **kwargs)

    def launch(self, bot_id: str) -> None:
        with self.lock:
            self.bots[bot_id].state = "joining"

    def live_bots(self) -> list[FakeBot]:
        with self.lock:
            return [bot for bot in self.bots.values() if bot.state in LIVE_STATES]

    def stop(self) -> None:
        self._released.set()
        super().stop()

    # plumbing ---------------------------------------------------------------------------------

    def failure_response(self, request: Request, rule: FailureRule) -> Response:
        if rule.reason == TIMEOUT:
            self._released.wait(self.hang_seconds)
        return super().failure_response(request, rule)

    def error_response(self, request: Request, status: int, *, reason: str | None = None):
        return _error(
            status,
            reason
            or {404: "Not found.", 405: "Method not allowed."}.get(status, "Something went wrong."),
        )

    def _authorize(self, request: Request) -> None:
        scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "token" or key.strip() != self.api_key:
            raise Abort(json_response(401, {"detail": "Invalid token."}))

    def _bot(self, request: Request) -> FakeBot:
        self._authorize(request)
        bot = self.bots.get(request.params["id"])
        if bot is None:
            raise Abort(_error(404, "Bot not found"))
        return bot

    def _join_at(self, value: Any) -> dt.datetime:
        try:
            join_at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise Abort(json_response(400, {"join_at": ["Invalid datetime."]})) from None
        if join_at.tzinfo is None:
            raise Abort(json_response(400, {"join_at": ["join_at needs a time zone."]}))
        if join_at < self.now():
            raise Abort(json_response(400, {"join_at": ["join_at cannot be in the past"]}))
        return join_at.astimezone(UTC)

    # routes -----------------------------------------------------------------------------------

    def _create(self, request: Request) -> Response:
        self._authorize(request)
        body = request.json()
        if not isinstance(body, dict):
            return _error(400, "Expected a JSON object.")
        errors = {
            name: ["This field is required."]
            for name in ("meeting_url", "bot_name")
            if not isinstance(body.get(name), str) or not body[name]
        }
        if errors:
            return json_response(400, errors)
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            return json_response(400, {"metadata": ["Values must be strings."]})
        join_at = self._join_at(body["join_at"]) if body.get("join_at") else None
        key = body.get("deduplication_key")
        with self.lock:
            if key and any(
                b.deduplication_key == key and b.state in LIVE_STATES for b in self.bots.values()
            ):
                return _error(
                    400,
                    "Deduplication key already in use. A bot in a non-terminal state with "
                    "this deduplication key already exists.",
                )
            known = {"meeting_url", "bot_name", "join_at", "metadata", "deduplication_key"}
            bot = FakeBot(
                id="bot_" + new_id(12),
                meeting_url=body["meeting_url"],
                bot_name=body["bot_name"],
                join_at=join_at,
                metadata=metadata,
                deduplication_key=key,
                extra={k: v for k, v in body.items() if k not in known},
                state="scheduled" if join_at else "joining",
            )
            self.bots[bot.id] = bot
        return json_response(201, bot.to_json())

    def _list(self, request: Request) -> Response:
        self._authorize(request)
        key = request.arg("deduplication_key")
        with self.lock:
            results = [
                bot.to_json()
                for bot in self.bots.values()
                if key is None or bot.deduplication_key == key
            ]
        return json_response(200, {"next": None, "previous": None, "results": results})

    def _get(self, request: Request) -> Response:
        return json_response(200, self._bot(request).to_json())

    def _patch(self, request: Request) -> Response:
        bot = self._bot(request)
        body = request.json()
        if not isinstance(body, dict) or set(body) - {"join_at", "metadata"}:
            return _error(400, "Only join_at and metadata can be changed.")
        with self.lock:
            if bot.state != "scheduled":
                return _error(400, f"Bot is in state {bot.state}; only scheduled bots change.")
            if "join_at" in body:
                bot.join_at = self._join_at(body["join_at"])
            if "metadata" in body:
                bot.metadata = body["metadata"]
        return json_response(200, bot.to_json())

    def _delete(self, request: Request) -> Response:
        bot = self._bot(request)
        with self.lock:
            if bot.state != "scheduled":
                return _error(405, "Only scheduled bots can be deleted; make it leave instead.")
            del self.bots[bot.id]
        return json_response(200, bot.to_json())

    def _leave(self, request: Request) -> Response:
        bot = self._bot(request)
        with self.lock:
            if bot.state not in ("joining", "joined_recording"):
                return _error(400, f"Bot is in state {bot.state}; it cannot leave.")
            bot.state = "ended"
        return json_response(200, bot.to_json())
