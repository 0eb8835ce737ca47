import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import Env, check_production_secret

ROOT = Path(__file__).resolve().parents[2]


def env(**values) -> Env:
    return Env(values)


@pytest.mark.parametrize(
    "word,expected", [("true", True), ("0", False), ("YES", True), ("off", False)]
)
def test_bool(word, expected):
    assert env(DEBUG=word).bool("DEBUG", not expected) is expected


def test_bool_rejects_other_words():
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a boolean"):
        env(DEBUG="maybe").bool("DEBUG", False)


def test_int():
    assert env(Q_WORKERS="4").int("Q_WORKERS", 2, minimum=1) == 4
    with pytest.raises(ImproperlyConfigured, match="Q_WORKERS='four' is not a whole number"):
        env(Q_WORKERS="four").int("Q_WORKERS", 2)
    with pytest.raises(ImproperlyConfigured, match="Q_WORKERS=0 must be at least 1"):
        env(Q_WORKERS="0").int("Q_WORKERS", 2, minimum=1)


def test_url():
    assert env().url("X", "https://a.example/v3", trailing_slash=True) == "https://a.example/v3/"
    assert (
        env(X="http://127.0.0.1:9000/graph").url("X", "https://d") == "http://127.0.0.1:9000/graph"
    )
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("GOOGLE_OAUTH_TOKEN_URL='oauth2.example/token'")
    ):
        env(GOOGLE_OAUTH_TOKEN_URL="oauth2.example/token").url(
            "GOOGLE_OAUTH_TOKEN_URL", "https://x"
        )


def test_database():
    config = env(DATABASE_URL="postgres://u:p@db:5432/calsync").database("DATABASE_URL", "x")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "calsync"
    with pytest.raises(ImproperlyConfigured, match="unsupported database") as excinfo:
        env(DATABASE_URL="mongodb://u:hunter2@db/x").database("DATABASE_URL", "x")
    assert "hunter2" not in str(excinfo.value)


def test_fernet_keys():
    good = Fernet.generate_key().decode()
    assert env(K=f"{good}, {good}").fernet_keys("K", fallback_secret=None) == [good, good]
    assert len(env().fernet_keys("K", fallback_secret="dev-secret")) == 1
    with pytest.raises(ImproperlyConfigured, match="K is required when DEBUG is off"):
        env().fernet_keys("K", fallback_secret=None)
    with pytest.raises(ImproperlyConfigured, match="key number 2 is not a valid Fernet key"):
        env(K=f"{good},short").fernet_keys("K", fallback_secret=None)


@pytest.mark.parametrize(
    "secret", ["insecure-dev-change-me-before-production", "django-insecure-xyz", "short", "a" * 50]
)
def test_production_refuses_weak_secret(secret):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        check_production_secret(secret)


def run_check(**overrides) -> subprocess.CompletedProcess:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"}
    }
    environ["DATA_DIR"] = "/tmp/calsync-settings-test"
    environ.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_development_starts_with_zero_config():
    result = run_check()
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is the insecure development default" in result.stderr


def test_production_requires_encryption_keys():
    result = run_check(DEBUG="false", SECRET_KEY="x7Kp-Lm9Qz" * 4)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is required when DEBUG is off" in result.stderr


def test_production_starts_when_configured():
    result = run_check(
        DEBUG="false",
        SECRET_KEY="x7Kp-Lm9Qz" * 4,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="calsync.example.com",
    )
    assert result.returncode == 0, result.stderr


def test_bad_value_names_the_variable():
    result = run_check(MICROSOFT_GRAPH_URL="graph.microsoft.com")
    assert result.returncode != 0
    assert (
        "MICROSOFT_GRAPH_URL='graph.microsoft.com' is not an absolute http(s) URL" in result.stderr
    )
