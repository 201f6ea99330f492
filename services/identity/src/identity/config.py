"""Identity settings (env prefix IDENTITY_)."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    """Identity configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_")

    service_name: str = "identity"
    http_port: int = 8002
    nik_digest_key: SecretStr = SecretStr("simpul-development-nik-key-not-for-production")
    field_keyring: SecretStr | None = Field(
        default=None, description="`key1:<base64 32 bytes>,key0:...` for names, NIK, KK and birth dates at rest; "
        "unset: development keys")
    match_model_path: Path | None = Field(
        default=None, description="Match model parameters (JSON, as `simpul identity dedupe` writes them); unset: "
        "the shipped default model, estimated from generated households (see docs/benchmarks.md)")
    auto_link_threshold: float | None = Field(
        default=None, gt=0, le=1, description="Match probability from which a record is linked without review; "
        "unset: the model's")
    review_threshold: float | None = Field(
        default=None, gt=0, le=1, description="Match probability from which a reviewer is asked; unset: the model's")

    @model_validator(mode="after")
    def _review_below_auto_link(self) -> "IdentitySettings":
        if self.auto_link_threshold is not None and self.review_threshold is not None and (
                self.review_threshold > self.auto_link_threshold):
            raise ValueError("review_threshold must not exceed auto_link_threshold")
        return self
