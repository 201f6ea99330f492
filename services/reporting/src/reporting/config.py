"""Reporting settings (env prefix REPORTING_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    """Reporting configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REPORTING_")

    service_name: str = "reporting"
    http_port: int = 8004
    min_cell_size: int = Field(default=5, ge=1, description="Counts below this are suppressed in every feed")
    programme_villages: tuple[str, ...] = Field(
        default=("35.09.11.2007", "35.09.08.2005", "35.09.27.2002", "35.09.27.2003", "52.03.20.2006",
                 "52.03.19.2006", "52.08.02.2003", "52.08.02.2006"),
        description="Village codes of the programme: a region's per-village targets (220 registered, 20 withdrawn, "
        "200 protected) count these villages (the 2025 pilot's eight by default)")
    feed_secret: SecretStr = Field(
        default=SecretStr("simpul-development-feed-key-not-for-production"),
        description="Key of the feed's cell-key noise (ADR 0005): rotate only with a new feed version")
    dhis2_mapping: str | None = Field(
        default=None, description="Path of a DHIS2 mapping TOML file (default: the packaged, documented one)")
    consumer_batch_size: int = Field(
        default=2000, ge=1, le=10_000,
        description="Events a consumer applies in one transaction at most (the platform's default is 500): the "
        "counters of a batch's persons are netted before they are written, and the regions above a village, the "
        "months and the cumulative period collide across a batch, so a bigger batch writes fewer counter rows per "
        "event; a quiet topic still hands over what arrived within the poll's 100 ms")
    feed_check_seconds: float = Field(
        default=3600, gt=0, description="How often each replica checks that this month's feed publication is made")
