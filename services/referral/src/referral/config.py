"""Referral settings (env prefix REFERRAL_)."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simpul_platform.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    """Referral configuration; see the README for every variable."""

    model_config = SettingsConfigDict(env_prefix="REFERRAL_")

    service_name: str = "referral"
    http_port: int = 8003
    # Provider rescoring (the directory area): re-scores providers a document of whose vetting expired or became
    # valid today; a day is the clock's UTC day.
    rescoring_job_seconds: float = Field(default=3600, gt=0, description="How often the rescoring job looks for due "
                                         "providers")
    rescoring_batch_size: int = Field(default=100, ge=1, le=10_000, description="Providers one rescoring transaction "
                                      "re-scores")
    # Deadlines and case status (the deadlines area): days count from the issue; the job fires what fell due.
    deadline_acknowledge_days: float = Field(default=3, gt=0, description="A referral is overdue unacknowledged after")
    deadline_answer_days: float = Field(
        default=7, gt=0, description="Overdue without accept or decline, and escalated, after")
    deadline_expire_days: float = Field(default=14, gt=0, description="An unanswered referral expires after")
    deadlines_by_service_type: dict[str, tuple[float, float, float]] = Field(
        default_factory=dict, description='Per service type: [acknowledge, answer, expire] days, '
        'e.g. {"child.health": [1, 3, 7]}; a referral of several services takes the strictest')
    deadline_job_seconds: float = Field(default=60, gt=0, description="How often the deadline job looks for due ones")
    deadline_batch_size: int = Field(default=200, ge=1, le=10_000, description="Referrals one job transaction fires")
    case_closure_revokes: bool = Field(
        default=False, description="Whether a registry case closure revokes the child's open referrals (default)")
    case_closure_revokes_by_district: dict[str, bool] = Field(
        default_factory=dict, description='The same per district code, e.g. {"35.09": true}')
    # Minimal child details (the child-details area, ADR 0004): erased this long after the child's last referral
    # closed; the erasure job looks for such children every `child_details_erasure_seconds`.
    child_details_retention_days: float = Field(
        default=30, ge=0, description="Days a child's minimal details are kept after its last referral closed")
    child_details_erasure_seconds: float = Field(
        default=3600, gt=0, description="How often the erasure job looks for details past their retention")
    child_details_recheck_seconds: float = Field(
        default=86_400, gt=0, description="When the erasure job looks again at a child with an open referral or none")
    # Provider API clients and tokens (the clients area): access tokens from POST /oauth/token (RFC 9068, iss and aud
    # are the platform's jwt_issuer and jwt_audience), signed with the HS256 jwt_secret unless a private key is set.
    oauth_token_minutes: float = Field(default=15, gt=0, le=24 * 60, description="Lifetime of an access token")
    oauth_private_key: SecretStr | None = Field(
        default=None, description="PEM RS256 private key signing access tokens (set jwt_public_key to its public key)")
    oauth_key_id: str | None = Field(default=None, description="`kid` header of signed access tokens")
    oauth_rotation_overlap_seconds: float = Field(
        default=3600, ge=0, le=7 * 86_400, description="How long a rotated client secret keeps working by default")
    oauth_max_failures: int = Field(
        default=10, ge=1, description="Failed token requests per client in `oauth_failure_window_seconds` before 429")
    oauth_failure_window_seconds: float = Field(default=60, gt=0, description="Window of `oauth_max_failures`")
