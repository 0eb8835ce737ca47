"""OAuth bookkeeping shared by both fakes: clients, authorization codes, grants, tokens.

Provider modules decide the wire format (error bodies, token shapes, rotation); this module only
remembers who was given what and whether it is still good. All methods expect the owning fake's
lock to be held by the caller.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

from .base import Clock, new_id

_key_lock = threading.Lock()
_signing_key: dict[str, object] = {}


def _key():
    with _key_lock:
        if not _signing_key:
            from cryptography.hazmat.primitives.asymmetric import rsa

            _signing_key["private"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _signing_key["kid"] = new_id(8)
        return _signing_key


def sign_jwt(claims: dict) -> str:
    """RS256 JWT signed with a per-process key published by `jwks()`."""
    key = _key()
    return jwt.encode(claims, key["private"], algorithm="RS256", headers={"kid": key["kid"]})


def jwks() -> dict:
    key = _key()
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key["private"].public_key(), as_dict=True)
    public.update({"kid": key["kid"], "use": "sig", "alg": "RS256"})
    return {"keys": [public]}


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == challenge
    return verifier == challenge


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str
    #: None accepts any redirect URI
    redirect_uris: tuple[str, ...] | None = None

    def allows_redirect(self, uri: str) -> bool:
        return self.redirect_uris is None or uri in self.redirect_uris


@dataclass
class AuthorizationCode:
    code: str
    email: str
    client_id: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    include_refresh_token: bool
    issued_at: dt.datetime
    code_challenge: str | None = None
    code_challenge_method: str = "plain"
    nonce: str | None = None
    used: bool = False


@dataclass
class Grant:
    """One user's consent to one client; refresh tokens hang off it."""

    id: str
    email: str
    client_id: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    #: None while the grant is alive; otherwise the provider error key that refreshes get
    dead_reason: str | int | None = None


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    issued_at: dt.datetime
    valid: bool = True
    #: set when rotation replaced this token
    replaced_by: str | None = None


@dataclass
class AccessToken:
    token: str
    email: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: dt.datetime
    grant_id: str | None = None
    revoked: bool = False


@dataclass(frozen=True)
class RefreshUse:
    """One successful refresh: which token came in, which one went out."""

    used: str
    issued: str | None
    client_id: str
    email: str
    at: dt.datetime


@dataclass
class OAuthState:
    now: Clock
    make_access_token: Callable[[str, str, tuple[str, ...], dt.datetime], str]
    refresh_prefix: str
    #: seconds; the `expires_in` of new access tokens
    token_lifetime: int = 3599
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_uses: list[RefreshUse] = field(default_factory=list)

    def add_client(
        self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] | None
    ) -> OAuthClient:
        client = OAuthClient(client_id, client_secret, redirect_uris)
        self.clients[client_id] = client
        return client

    def check_client(self, client_id: str | None, client_secret: str | None) -> str | None:
        """None when fine, else `"unknown_client"` or `"bad_secret"`."""
        client = self.clients.get(client_id or "")
        if client is None:
            return "unknown_client"
        if client.client_secret != client_secret:
            return "bad_secret"
        return None

    def issue_code(self, **fields) -> AuthorizationCode:
        code = AuthorizationCode(code=new_id(24), issued_at=self.now(), **fields)
        self.codes[code.code] = code
        return code

    def new_grant(self, email: str, client_id: str, scopes: tuple[str, ...]) -> Grant:
        grant = Grant(new_id(), email, client_id, scopes, self.now())
        self.grants[grant.id] = grant
        return grant

    def new_refresh_token(self, grant: Grant, token: str | None = None) -> str:
        value = token or f"{self.refresh_prefix}{new_id(32)}"
        self.refresh_tokens[value] = RefreshToken(value, grant.id, self.now())
        return value

    def new_access_token(
        self,
        email: str,
        client_id: str,
        scopes: tuple[str, ...],
        grant_id: str | None = None,
        lifetime: int | None = None,
    ) -> AccessToken:
        expires_at = self.now() + dt.timedelta(seconds=lifetime or self.token_lifetime)
        value = self.make_access_token(email, client_id, scopes, expires_at)
        record = AccessToken(value, email, client_id, scopes, expires_at, grant_id)
        self.access_tokens[value] = record
        return record

    def check_access_token(self, token: str | None) -> tuple[AccessToken | None, str | None]:
        """(record, None) when usable; else (record-or-None, "missing"|"unknown"|"expired"|"revoked")."""
        if not token:
            return None, "missing"
        record = self.access_tokens.get(token)
        if record is None:
            return None, "unknown"
        if record.revoked:
            return record, "revoked"
        if record.expires_at <= self.now():
            return record, "expired"
        return record, None

    def grants_for(self, email: str | None) -> list[Grant]:
        return [g for g in self.grants.values() if email is None or g.email == email]

    def kill_grants(
        self,
        email: str | None,
        reason: str | int,
        refresh_token: str | None = None,
        *,
        revoke_access_tokens: bool = True,
    ) -> list[Grant]:
        """Make refreshes fail with `reason`; optionally also kill outstanding access tokens."""
        if refresh_token is not None:
            record = self.refresh_tokens.get(refresh_token)
            targets = [self.grants[record.grant_id]] if record else []
        else:
            targets = self.grants_for(email)
        for grant in targets:
            grant.dead_reason = reason
        if revoke_access_tokens:
            ids = {g.id for g in targets}
            for token in self.access_tokens.values():
                if token.grant_id in ids:
                    token.revoked = True
        return targets

    def expire_access_tokens(self, email: str | None = None) -> None:
        past = self.now() - dt.timedelta(seconds=1)
        for token in self.access_tokens.values():
            if email is None or token.email == email:
                token.expires_at = past
