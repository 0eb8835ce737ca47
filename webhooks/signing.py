"""Webhook signatures: Standard Webhooks (https://www.standardwebhooks.com, as Svix sends them)
and Attendee's `X-Webhook-Signature`.

Standard Webhooks receivers verify with the `standardwebhooks` or `svix` libraries, or by hand:
base64(HMAC-SHA256(base64-decoded secret, f"{webhook-id}.{webhook-timestamp}.{body}")).

Both use the same key: the 32 random bytes after `whsec_`. Attendee shows a project's secret as
their plain base64 and its receivers base64-decode what they copied, so an Attendee receiver is
given the secret without the prefix (`receiver_secret`).
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# An imported secret (a receiver keeps the one it has): Svix accepts 24 to 75 bytes.
IMPORTED_SECRET_BYTES = (24, 64)


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def parse_secret(value: str) -> str:
    """A secret the customer brings (`whsec_<base64>`, or the plain base64 Attendee shows),
    stored as `whsec_<base64>`. The error never repeats the value."""
    encoded = value.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"secret": "Not base64 (optionally after `whsec_`)."}) from None
    low, high = IMPORTED_SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValidationError({"secret": f"The key must be {low} to {high} bytes once decoded."})
    return SECRET_PREFIX + base64.b64encode(key).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature_headers(
    *, message_id: str, body: str, signing_secrets: list[str], at: datetime
) -> dict[str, str]:
    """Headers that sign `body`: one `v1,` signature per secret (several during a rotation).

    The same values go out under the `svix-` names too, for receivers written against Recall,
    whose webhooks Svix delivers.
    """
    signature = " ".join(Webhook(secret).sign(message_id, at, body) for secret in signing_secrets)
    timestamp = str(int(at.timestamp()))
    headers = {}
    for prefix in ("webhook", "svix"):
        headers[f"{prefix}-id"] = message_id
        headers[f"{prefix}-timestamp"] = timestamp
        headers[f"{prefix}-signature"] = signature
    return headers


def canonical_json(payload: dict) -> bytes:
    """The JSON Attendee signs, and which its receivers rebuild from the parsed body: sorted
    keys, no spaces, non-ASCII left as is, UTF-8."""
    return json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()


def attendee_signature(*, body: bytes, secret: str) -> str:
    """`X-Webhook-Signature`: base64(HMAC-SHA256(key, canonical JSON)). Send it with `body`
    from `canonical_json`, so the bytes sent are the bytes signed."""
    digest = hmac.new(secret_key(secret), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
