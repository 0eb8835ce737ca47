"""The dispatch backend interface: one small class per way of sending bots, chosen per project
from the registry in `__init__.py`.

The hand-over engine (`bots/dispatch.py`) decides *what* must happen - create, update or delete
the backend's copy of a bot, or dispatch it at join time - and records the outcome on the Bot.
A backend only does it. Network calls happen outside database transactions; `on_dispatch` runs
inside the dispatch transaction and must not touch the network.

A bot's settings are `bot.config`: the project's bot_config with the event's over it, as the
customer sent them. Its portable keys (`bots/params.py`: recording_mode, speech_to_text,
webhook_url, extra, the timeouts...) are typed and mean the same for every backend; a backend
translates those it has an equivalent for, leaves out those its peer would refuse, and passes
every other key on untouched. The `local` backend hands the whole config to the runner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bots.models imports the backends (Bot.clean checks config against them)
    from bots.models import Bot


@dataclass(frozen=True)
class Ack:
    """What the backend now holds for a bot."""

    backend_bot_id: str
    join_at: datetime
    meeting_url: str
    name: str

    @classmethod
    def of(cls, bot: Bot, backend_bot_id: str) -> Ack:
        return cls(backend_bot_id, bot.join_at, bot.meeting_url, bot.name)


class BackendError(Exception):
    """A push the backend could not complete.

    `retryable`: trying again later may work (network, timeout, 5xx, 429, credentials or
    configuration being fixed). Otherwise the backend refused this bot as it is.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class BotBackend(ABC):
    name: str = ""
    label: str = ""
    #: create/update/delete call another service (so they are slow and may fail)
    remote: bool = True
    #: JSON Schema (2020-12) a project's or an event's `bot_config` must match, on top of the
    #: portable keys' schema (`bots.params.PORTABLE_SCHEMA`); None: nothing more.
    config_schema: dict | None = None
    #: Keys calsync fills in itself for every bot, which a `bot_config` may therefore not set.
    reserved_config_keys: frozenset[str] = frozenset()

    @abstractmethod
    def create(self, bot: Bot) -> Ack:
        """Hand a live bot over. A bot whose `join_at` has passed is to join now."""

    @abstractmethod
    def update(self, bot: Bot) -> Ack:
        """Make the backend's copy match the bot's join time, meeting URL and name. The copy
        may have been launched already (a dispatched bot that moved): replace it then."""

    @abstractmethod
    def delete(self, bot: Bot) -> None:
        """Remove the backend's copy of a cancelled bot (make it leave if it was launched).
        A copy that is already gone is not an error."""

    def on_dispatch(self, bot: Bot) -> None:
        """Join time has come and the bot is now `dispatched`. Runs inside the transaction
        that records it (write events here, no network)."""
        return None
