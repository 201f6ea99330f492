"""Registry settings (env prefix REGISTRY_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Registry configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_")

    service_name: str = "registry"
    http_port: int = 8001
    source_system: str = "simpul-registry"
    field_keyring: SecretStr | None = Field(
        default=None, description="`key1:<base64 32 bytes>,key0:...` for NIK/KK at rest; unset: development keys")
    blind_index_key: SecretStr | None = Field(
        default=None, description="base64 32-byte key of the NIK blind index; unset: the development key")
    closure_visits_required: int = Field(default=2, ge=1, le=20)
    closure_min_days_apart: int = Field(default=90, ge=1, le=3650)
    idempotency_key_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="How long an Idempotency-Key is remembered (its answer replayed)")
    idempotency_purge_seconds: float = Field(default=600, gt=0, description="How often expired keys are purged")

    def development_defaults(self) -> list[str]:
        """The shared ones, and the NIK blind index key."""
        return super().development_defaults() + ([self.variable("blind_index_key")] if self.blind_index_key is None
                                                 else [])
