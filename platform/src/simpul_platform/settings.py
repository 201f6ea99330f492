"""Settings every service shares; each service subclasses with its own env prefix (REGISTRY_, IDENTITY_, ...)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

DEV_SECRET = "simpul-development-secret-not-for-production"  # noqa: S105 - the documented development default


def _state_dir() -> Path:
    return Path(os.environ.get("SIMPUL_STATE_DIR", ".local"))


def _bootstrap_servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


class DevelopmentDefaultsError(RuntimeError):
    """A service in production mode was given a publicly known key or secret."""


class ServiceSettings(BaseSettings):
    """What a service needs to run; nothing is built from it at import time."""

    service_name: str = "simpul"
    database_url: str = ""
    kafka_bootstrap_servers: str = Field(default_factory=_bootstrap_servers)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    migrate_on_start: bool = True
    outbox_relay_enabled: bool = True
    gc_young_threshold: int = Field(
        default=50_000, ge=700, description="Allocations between collections of Python's youngest GC generation")
    jobs_enabled: bool = Field(
        default=True, description="Run the service's periodic jobs (schedulers); tests that drive them switch this off")
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=0.25, gt=0)
    outbox_in_flight_batches: int = Field(
        default=4, ge=1, le=64, description="Relay batches sent and not yet acknowledged and deleted, at most")
    outbox_standby_seconds: float = Field(
        default=2.0, gt=0, description="How often a standing-by relay tries to take over publishing")
    max_request_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above), unless a route "
        "sets its own (a survey upload)")
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    consumer_max_attempts: int = Field(default=3, ge=1, le=100)
    topic_namespace: str = Field(
        default_factory=lambda: os.environ.get("SIMPUL_TOPIC_NAMESPACE", ""),
        description="Prefix of every physical topic name (e.g. 'staging.'); empty in production",
    )
    jwt_secret: SecretStr = Field(default_factory=lambda: SecretStr(os.environ.get("SIMPUL_JWT_SECRET", DEV_SECRET)))
    jwt_public_key: str | None = None
    jwt_issuer: str = Field(default="simpul", description="Expected `iss` of every bearer token")
    jwt_audience: str = Field(default="simpul", description="Expected `aud` of every bearer token (this API)")
    jwt_jwks_url: str | None = Field(
        default=None, description="An identity provider's JWKS URL: RS256/ES256 keys by `kid`, refetched on rotation")
    jwt_jwks_cache_seconds: float = Field(default=300, gt=0, description="How long a fetched JWKS is trusted")
    jwt_role_claim: str = Field(default="role", description="Claim of the caller's role (dots reach nested claims)")
    jwt_region_claim: str = Field(default="regions", description="Claim of the caller's region codes")
    jwt_provider_claim: str = Field(default="provider_id", description="Claim of a provider token's provider id")
    field_keyring: SecretStr | None = Field(
        default=None, description="`key1:<base64 32 bytes>,key0:<...>`: keys of encrypted columns, first = current")

    production: bool = Field(
        default_factory=lambda: os.environ.get("SIMPUL_PRODUCTION", "").strip().lower() in {"1", "true", "yes"},
        description="Refuse to start while any key or secret is still its public development value "
                    "(SIMPUL_PRODUCTION=true sets it for every service)")

    def development_defaults(self) -> list[str]:
        """The settings still at a publicly known development value (their environment variable names)."""
        left = []
        if self.jwt_secret.get_secret_value() == DEV_SECRET and not (self.jwt_public_key or self.jwt_jwks_url):
            left.append("SIMPUL_JWT_SECRET")
        if self.field_keyring is None:
            left.append(self.variable("field_keyring"))
        return left

    def variable(self, field: str) -> str:
        """The environment variable of one of these settings."""
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    def refuse_development_defaults(self) -> None:
        """In production, stop when a key or secret is still public: a warning is not enough for child data."""
        if self.production and (left := self.development_defaults()):
            raise DevelopmentDefaultsError(
                f"production mode: {', '.join(left)} still at the public development value; set real keys "
                "(`simpul keys generate`) or unset the production setting for a local run")

    def resolved_database_url(self) -> str:
        """DATABASE_URL when given, else a SQLite file under the state dir (the embedded quick-start default)."""
        if self.database_url:
            return self.database_url
        path = _state_dir() / "data" / f"{self.service_name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path.resolve()}"
