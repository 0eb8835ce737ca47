"""The toy provider's side: accounts, authorization codes, events with a change log, channels."""

from dataclasses import dataclass, field


@dataclass
class ToyServer:
    codes: dict[str, str] = field(default_factory=dict)  # code -> account email
    events: dict[str, dict[str, dict]] = field(default_factory=dict)  # email -> id -> event
    log: dict[str, list[str]] = field(default_factory=dict)  # email -> changed ids, in order
    channels: dict[str, dict] = field(default_factory=dict)  # channel id -> watch request
    revoked: set[str] = field(default_factory=set)

    def add_account(self, email: str) -> str:
        """Create the account; returns an authorization code for it."""
        self.events.setdefault(email, {})
        self.log.setdefault(email, [])
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = email
        return code

    def put(self, email: str, event: dict) -> dict:
        self.events.setdefault(email, {})[event["id"]] = event
        self.log.setdefault(email, []).append(event["id"])
        return event

    def delete(self, email: str, event_id: str) -> None:
        self.events[email][event_id] = {"id": event_id, "deleted": True}
        self.log[email].append(event_id)


SERVER = ToyServer()
