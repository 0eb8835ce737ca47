"""Receivers written the way each peer's documentation tells its customers to check a webhook.

The format tests run them on what the loopback receiver got: a migrating customer's receiver
must accept our deliveries unchanged.
- Standard Webhooks: the `standardwebhooks` library, with the `whsec_` secret.
- Meeting BaaS v1: no signature; the receiver compares the echoed `x-meeting-baas-api-key`
  header with its key, and reads `{"event", "data"}`.
- Attendee (docs/webhooks.md, "Verifying Webhooks"): parse the JSON body, dump it again with
  sorted keys, compact separators and non-ASCII kept, HMAC-SHA256 it with the base64-decoded
  secret copied from the dashboard, and compare the base64 digest with `X-Webhook-Signature`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import standardwebhooks

from tests.webhooks.receiver import Received


class Rejected(Exception):
    """The receiver would answer 4xx."""


def header(request: Received, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def standard(request: Received, secret: str) -> dict:
    try:
        return standardwebhooks.Webhook(secret).verify(request.body.decode(), request.headers)
    except standardwebhooks.WebhookVerificationError as exc:
        raise Rejected(str(exc)) from None


def meetingbaas_v1(request: Received, api_key: str) -> dict:
    if not hmac.compare_digest(header(request, "x-meeting-baas-api-key") or "", api_key):
        raise Rejected("wrong or missing x-meeting-baas-api-key")
    body = json.loads(request.body)
    if set(body) != {"event", "data"}:
        raise Rejected(f"not a Meeting BaaS v1 webhook: {sorted(body)}")
    return body


def attendee_signature(payload: dict, secret: str, *, ensure_ascii: bool = False) -> str:
    """Attendee's documented receiver. `ensure_ascii=True` is the shorter recipe some
    integrations use (`json.dumps(body, sort_keys=True, separators=(",", ":"))`); it agrees
    with the documented one on ASCII bodies only."""
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=ensure_ascii, separators=(",", ":")
    )
    digest = hmac.new(base64.b64decode(secret), canonical.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("utf-8")


def attendee(request: Received, secret: str, *, ensure_ascii: bool = False) -> dict:
    payload = json.loads(request.body)
    expected = attendee_signature(payload, secret, ensure_ascii=ensure_ascii)
    if header(request, "X-Webhook-Signature") != expected:
        raise Rejected("Invalid signature")
    return payload
