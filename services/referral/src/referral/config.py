"""Referral settings (env prefix REFERRAL_)."""

from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    """Referral configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REFERRAL_")

    service_name: str = "referral"
    http_port: int = 8003
