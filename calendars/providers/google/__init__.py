"""Google Calendar, everything specific to it: OAuth (provider.py), the calendar session
(session.py), event facts (facts.py), join-link fields (links.py) and push (push.py)."""

from .provider import GoogleProvider

__all__ = ["GoogleProvider"]
