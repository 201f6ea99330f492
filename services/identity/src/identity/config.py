"""Identity settings (env prefix IDENTITY_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    """Identity configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_")

    service_name: str = "identity"
    http_port: int = 8002
    nik_digest_key: SecretStr = SecretStr("simpul-development-nik-key-not-for-production")
