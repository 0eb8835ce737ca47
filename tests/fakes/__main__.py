"""Run the fakes for a local demo: `python -m tests.fakes [--providers google] ...`.

Seeds one account per provider with a generated calendar around today and prints the
environment variables that point calsync at the fakes. The authorize endpoints consent
automatically (as the seeded user), so the whole connect flow works in a browser.
"""

from __future__ import annotations

import argparse
import signal
import time

from .generators import add_meeting_soon, populate
from .google import FakeGoogle
from .microsoft import FakeMicrosoft


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--providers", default="google,microsoft", help="comma-separated")
    parser.add_argument("--google-port", type=int, default=8701)
    parser.add_argument("--microsoft-port", type=int, default=8702)
    parser.add_argument("--google-email", default="dana.lee@example.com")
    parser.add_argument("--microsoft-email", default="dana@contoso.example")
    parser.add_argument("--google-client-id", default=None, help="default: the fake's own")
    parser.add_argument("--google-client-secret", default=None)
    parser.add_argument(
        "--google-refresh-token",
        default=None,
        help="also grant the Google account to the client with this refresh token "
        "(so calsync can connect it without the consent screen: `./dev up --demo`)",
    )
    parser.add_argument(
        "--google-meeting-soon",
        type=int,
        metavar="MINUTES",
        default=0,
        help="also add an external meeting with a link starting in about MINUTES minutes",
    )
    parser.add_argument("--events", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    providers = set(args.providers.split(","))
    fakes = []

    if "google" in providers:
        client = {
            name: value
            for name, value in (
                ("client_id", args.google_client_id),
                ("client_secret", args.google_client_secret),
            )
            if value
        }
        google = FakeGoogle(port=args.google_port, **client).start()
        fakes.append(google)
        google.add_account(args.google_email, name="Dana Lee", time_zone="America/New_York")
        populate(google, args.google_email, seed=args.seed, n=args.events)
        if args.google_meeting_soon:
            add_meeting_soon(google, args.google_email, minutes_ahead=args.google_meeting_soon)
        if args.google_refresh_token:
            google.grant(args.google_email, refresh_token=args.google_refresh_token)
        print("# The Google fake is running. Point calsync at it with:")
        print(f"GOOGLE_OAUTH_AUTHORIZE_URL={google.authorize_url}")
        print(f"GOOGLE_OAUTH_TOKEN_URL={google.token_url}")
        print(f"GOOGLE_USERINFO_URL={google.userinfo_url}")
        print(f"GOOGLE_CALENDAR_API_URL={google.calendar_api_url}")
        print(f"# Google OAuth client: {google.client_id} / {google.client_secret}")
    if "microsoft" in providers:
        microsoft = FakeMicrosoft(port=args.microsoft_port).start()
        fakes.append(microsoft)
        microsoft.add_account(args.microsoft_email, name="Dana Lee")
        populate(microsoft, args.microsoft_email, seed=args.seed, n=args.events)
        print("# The Microsoft fake is running. Point calsync at it with:")
        print(f"MICROSOFT_AUTHORITY_HOST={microsoft.authority_host}")
        print(f"MICROSOFT_GRAPH_URL={microsoft.graph_url}")
        print(f"REQUESTS_CA_BUNDLE={microsoft.ca_bundle_path}")
        print(f"# Microsoft OAuth client: {microsoft.client_id} / {microsoft.client_secret}")
    # Stop as promptly on SIGTERM (`./dev up` ending, a process manager) as on Ctrl-C; a
    # background job of a script does not get SIGINT at all.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    print("# Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for fake in fakes:
            fake.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
