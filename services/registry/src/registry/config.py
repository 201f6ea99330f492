"""Registry settings (env prefix REGISTRY_)."""

from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Registry configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_")

    service_name: str = "registry"
    http_port: int = 8001
    source_system: str = "simpul-registry"
