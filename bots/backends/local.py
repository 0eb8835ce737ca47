from bots.models import Bot
from webhooks import events
from webhooks.services import emit_event

from .base import Ack, BotBackend


class LocalBackend(BotBackend):
    """No external service: at join time a `bot.dispatch` webhook tells the customer's own
    runner to send the bot, and the runner reports its status through
    `POST /api/v1/bots/{id}/status/`. The event carries the bot's whole config, portable keys
    and the runner's own alike, as the customer sent it.

    Create, update and delete have nothing to call. A runner hears that a dispatched bot moved
    or was cancelled from the `bot.rescheduled` / `bot.cancelled` event written by whatever
    changed the bot (reconciliation, the cancel service), in the same transaction as the
    change; writing them here as well would send each twice.
    """

    name = "local"
    label = "Local runner (bot.dispatch webhook)"
    remote = False

    def create(self, bot: Bot) -> Ack:
        return Ack.of(bot, str(bot.id))

    def update(self, bot: Bot) -> Ack:
        return Ack.of(bot, bot.backend_bot_id or str(bot.id))

    def delete(self, bot: Bot) -> None:
        return None

    def on_dispatch(self, bot: Bot) -> None:
        emit_event(
            project=bot.project, event_type=events.BOT_DISPATCH, data=events.bot_dispatch(bot)
        )
