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
from typing import Any
from urllib.parse import urlencode

import jwt

from .base import Clock, Request, Response, new_id

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

    def redeem_code(self, code: AuthorizationCode) -> tuple[Grant, str | None]:
        """Mark `code` used; return its new grant and (if the code carries one) refresh token."""
        code.used = True
        grant = self.new_grant(code.email, code.client_id, code.scopes)
        refresh = self.new_refresh_token(grant) if code.include_refresh_token else None
        return grant, refresh

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

    def record_refresh(
        self,
        token: RefreshToken,
        grant: Grant,
        client_id: str,
        *,
        rotate: bool,
        retire: bool = False,
    ) -> str | None:
        """Book a successful refresh; with `rotate`, issue (and return) a replacement token,
        and with `retire` also make the old one unusable."""
        new_refresh = None
        if rotate:
            new_refresh = self.new_refresh_token(grant)
            token.replaced_by = new_refresh
            if retire:
                token.valid = False
        self.refresh_uses.append(
            RefreshUse(token.token, new_refresh, client_id, grant.email, self.now())
        )
        return new_refresh

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


class OAuthControl:
    """OAuth control methods and helpers shared by both fakes (mixed into a `FakeServer`).

    The host class calls `_init_oauth()` and provides `lock`, `now`, `accounts`, `_account()`
    (`CalendarControl` has it),
    `consent_account`, `_normalize_scopes()` (its provider's scope normalisation),
    `_new_client_id()` and `_new_client_secret()`; `_offers_refresh_token()` may be overridden.
    """

    oauth: OAuthState
    client_id: str
    client_secret: str
    accounts: dict[str, Any]
    consent_account: str | None

    def _init_oauth(
        self,
        client_id: str,
        client_secret: str,
        *,
        make_access_token: Callable[[str, str, tuple[str, ...], dt.datetime], str],
        refresh_prefix: str,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.oauth = OAuthState(
            now=lambda: self.now(),
            make_access_token=make_access_token,
            refresh_prefix=refresh_prefix,
        )
        self.oauth.add_client(client_id, client_secret, None)

    @property
    def token_lifetime(self) -> int:
        return self.oauth.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: int) -> None:
        self.oauth.token_lifetime = seconds

    def add_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        redirect_uris: tuple[str, ...] | None = None,
    ) -> OAuthClient:
        """Register another OAuth client (`redirect_uris=None` accepts any redirect URI)."""
        with self.lock:
            return self.oauth.add_client(
                client_id or self._new_client_id(),
                client_secret or self._new_client_secret(),
                redirect_uris,
            )

    def grant(
        self,
        email: str,
        *,
        client_id: str | None = None,
        scopes: tuple[str, ...] | str | None = None,
        refresh_token: str | None = None,
    ) -> str:
        """Skip the consent dance: create a grant and return its refresh token."""
        with self.lock:
            grant = self._control_grant(email, client_id, scopes)
            return self.oauth.new_refresh_token(grant, refresh_token)

    def issue_access_token(
        self,
        email: str,
        *,
        client_id: str | None = None,
        scopes: tuple[str, ...] | str | None = None,
        lifetime: int | None = None,
    ) -> str:
        with self.lock:
            grant = self._control_grant(email, client_id, scopes)
            return self.oauth.new_access_token(
                email, grant.client_id, grant.scopes, grant.id, lifetime
            ).token

    def expire_access_tokens(self, email: str | None = None) -> None:
        with self.lock:
            self.oauth.expire_access_tokens(email)

    @property
    def refresh_uses(self) -> list[RefreshUse]:
        """Every successful refresh: `used` (incoming token) and `issued` (its replacement)."""
        with self.lock:
            return list(self.oauth.refresh_uses)

    # helpers for the provider modules ------------------------------------------------------

    def _control_grant(
        self, email: str, client_id: str | None, scopes: tuple[str, ...] | str | None
    ) -> Grant:
        self._account(email)
        return self.oauth.new_grant(
            email, client_id or self.client_id, self._normalize_scopes(scopes)
        )

    def _issue_code(
        self,
        email: str,
        *,
        client_id: str | None,
        scopes: tuple[str, ...] | str | None,
        refresh_token: bool | None = None,
        **fields: Any,
    ) -> str:
        """Control-side authorization code; `refresh_token=None` asks `_offers_refresh_token`."""
        with self.lock:
            self._account(email)
            scopes = self._normalize_scopes(scopes)
            if refresh_token is None:
                refresh_token = self._offers_refresh_token(scopes)
            code = self.oauth.issue_code(
                email=email,
                client_id=client_id or self.client_id,
                scopes=scopes,
                include_refresh_token=refresh_token,
                **fields,
            )
            return code.code

    def _offers_refresh_token(self, scopes: tuple[str, ...]) -> bool:
        return True

    def _new_account_fields(
        self, email: str, name: str | None, denied_scopes: tuple[str, ...]
    ) -> dict[str, Any]:
        """`email`, `name` and `denied_scopes` for a new account (refuses a taken address)."""
        if email in self.accounts:
            raise ValueError(f"account {email!r} exists")
        return {
            "email": email,
            "name": name or email.split("@")[0].replace(".", " ").title(),
            "denied_scopes": set(self._normalize_scopes(denied_scopes)) if denied_scopes else set(),
        }

    def _token(self, request: Request) -> Response:
        """Token endpoint: authenticate the client, then dispatch on `grant_type`."""
        form = request.form()
        client_id, secret = self._client_credentials(request, form)
        grant_type = form.get("grant_type", "")
        with self.lock:
            problem = self.oauth.check_client(client_id, secret)
            if problem:
                return self._client_error(problem)
            if grant_type == "authorization_code":
                return self._exchange_code(request, form, client_id)
            if grant_type == "refresh_token":
                return self._refresh(request, form, client_id)
        return self._unsupported_grant_type(grant_type)

    def _consenting_account(self, login_hint: str | None) -> str | None:
        if login_hint in self.accounts:
            return login_hint
        if self.consent_account:
            return self.consent_account
        return next(iter(self.accounts), None)

    def _consented_scopes(self, email: str, scope: str | None) -> tuple[str, ...]:
        """The requested scopes minus those the account refuses."""
        denied = self.accounts[email].denied_scopes
        return tuple(s for s in self._normalize_scopes(scope or "") if s not in denied)

    def _authorize_code(
        self,
        request: Request,
        email: str,
        client: OAuthClient,
        redirect_uri: str,
        scopes: tuple[str, ...],
        include_refresh_token: bool,
    ) -> AuthorizationCode:
        arg = request.arg
        return self.oauth.issue_code(
            email=email,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            include_refresh_token=include_refresh_token,
            code_challenge=arg("code_challenge"),
            code_challenge_method=arg("code_challenge_method") or "plain",
            nonce=arg("nonce"),
        )

    @staticmethod
    def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
        """Client id and secret from HTTP Basic auth, else from the form."""
        header = request.headers.get("Authorization") or ""
        if header.lower().startswith("basic "):
            decoded = base64.b64decode(header[6:]).decode()
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    @staticmethod
    def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
        separator = "&" if "?" in redirect_uri else "?"
        return Response(302, b"", {"Location": redirect_uri + separator + urlencode(params)})

    # provided by the host class
    def _client_error(self, problem: str) -> Response:
        raise NotImplementedError

    def _unsupported_grant_type(self, grant_type: str) -> Response:
        raise NotImplementedError

    def _exchange_code(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        raise NotImplementedError

    def _refresh(self, request: Request, form: dict[str, str], client_id: str) -> Response:
        raise NotImplementedError

    def _normalize_scopes(
        self, scopes: str | tuple[str, ...] | list[str] | None
    ) -> tuple[str, ...]:
        raise NotImplementedError

    def _new_client_id(self) -> str:
        raise NotImplementedError

    def _new_client_secret(self) -> str:
        raise NotImplementedError
