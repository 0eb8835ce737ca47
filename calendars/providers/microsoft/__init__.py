"""Microsoft Outlook (Graph), everything specific to it: OAuth (provider.py, oauth.py), the
calendar session (session.py), event facts (facts.py), join-link fields (links.py) and push
(push.py)."""

from .provider import MicrosoftProvider

__all__ = ["MicrosoftProvider"]
