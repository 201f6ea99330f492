"""Reporting settings (env prefix REPORTING_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    """Reporting configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    service_name: str = "reporting"
    http_port: int = 8004
    min_cell_size: int = Field(default=5, ge=1, description="Counts below this are suppressed in every feed")
