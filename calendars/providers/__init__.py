"""Calendar providers: one package each, chosen from this registry (`get_provider("google")`).

Adding a provider means adding one package beside `google/` and `microsoft/` and one line in
PROVIDERS; nothing else in the code names a provider. The package implements `base.Provider`:

1. Identity: `platform` (the stored and wire name; also add it to `calendars.platforms.Platform`
   with a migration so the API and admin accept it), `label`, `callback_name` (the hosted
   callback is /api/v1/calendar/<callback_name>_oauth_callback/), `redirect_url_key` (the state
   key of the redirect URI), `check_tenant` when its OAuth apps have tenants.
2. OAuth: `authorization_scopes`, `calendar_scopes`, `authorization_url`, `exchange_code`
   (a `Grant` with the account's email); token refresh and rotation happen inside the session,
   which reports new tokens through `credentials_changed()`.
3. The calendar session (`session()` returns a `CalendarSession`): `changes` (incremental pages
   ending with a cursor), `window_events`, `list_calendars`, `account_email`, and
   `cursor_covers_window` on the provider. Pages go through `fetch_page` (retries).
4. Events: `event_id`, `is_removed`, `meeting_fields` (the rules in meetings/facts.py, the
   helpers there) and `link_candidates` (which event fields carry join links, most trusted
   first; detection itself is meetings.links).
5. Push: `watch`/`stop` on the session (renewal is calendars/push.py's), `push_endpoints` and
   `read_push` (a validation handshake, the notifications, the answer to give); the receiver
   checks each notification's channel secret, marks the calendar due, and replaces the channel
   when a notification says `resubscribe`.
6. Every failure is one of the `base.ProviderError` subclasses; callers never see HTTP statuses.

Tests a provider must pass: tests/calendars/test_provider_contract.py runs for every registered
provider (and the test-only provider in tests/providers/toy/); give it a wire-level fake in
tests/fakes/ as the fixture `fake_<platform>`: tests/calendars/test_sync_providers.py runs the
sync engine against it.

Provider names outside these packages, on purpose: `calendars.platforms.Platform` (the database
choices, kept equal to PROVIDERS by a contract test), `config/api/schema.py` (the OpenAPI
document lists the two Recall V1 callback paths; config sits below calendars), and the demo and
`create_project --microsoft-tenant` management commands in projects/.
"""

from django.utils.module_loading import import_string

from .base import Provider

PROVIDERS = {
    "google": "calendars.providers.google.GoogleProvider",
    "microsoft": "calendars.providers.microsoft.MicrosoftProvider",
}

_instances: dict[str, Provider] = {}


def get_provider(platform: str) -> Provider:
    if platform not in _instances:
        _instances[platform] = import_string(PROVIDERS[platform])()
    return _instances[platform]


def registered() -> list[Provider]:
    """Every registered provider, in registration order."""
    return [get_provider(platform) for platform in PROVIDERS]


def provider_for_callback(callback_name: str) -> Provider | None:
    return next((p for p in registered() if p.callback_name == callback_name), None)
