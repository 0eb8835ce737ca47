"""Standard Webhooks signatures (https://www.standardwebhooks.com), as Svix sends them.

Receivers verify with the `standardwebhooks` or `svix` libraries, or by hand:
base64(HMAC-SHA256(base64-decoded secret, f"{webhook-id}.{webhook-timestamp}.{body}")).
"""

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


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
