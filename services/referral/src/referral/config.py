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
    # Webhooks (the webhooks area, Standard Webhooks): the delivery job attempts due deliveries every
    # `webhook_delivery_seconds`; a failed attempt is retried after the next wait of the schedule (with jitter).
    webhook_delivery_seconds: float = Field(default=1, gt=0, description="How often the delivery job looks for due "
                                            "deliveries")
    webhook_batch_size: int = Field(default=50, ge=1, le=1000, description="Deliveries one round attempts at once")
    webhook_retry_schedule_seconds: tuple[float, ...] = Field(
        default=(5, 300, 1800, 7200, 18_000, 36_000, 36_000), min_length=1,
        description="Waits after each failed attempt in a row; after the last, the delivery has failed")
    webhook_retry_jitter: float = Field(default=0.1, ge=0, lt=1, description="Each wait varies by up to this fraction")
    webhook_retry_after_cap_seconds: float = Field(
        default=36_000, ge=0, description="The longest wait a receiver's Retry-After can ask for")
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=60, description="The longest one attempt may take")
    webhook_disable_after_days: float = Field(
        default=5, gt=0, description="An endpoint every attempt to which failed for this long is disabled")
    webhook_disable_after_exhausted: int = Field(
        default=5, ge=0, description="An endpoint this many deliveries in a row to which failed is disabled (0: never)")
    webhook_secret_overlap_hours: float = Field(
        default=24, ge=0, le=24 * 30, description="How long a rotated secret still signs (a second signature)")
    webhook_allowed_destinations: list[str] = Field(
        default_factory=list, description='Hosts or networks webhooks may reach although not public, and over http, '
        'e.g. ["127.0.0.1"] (the SSRF guard refuses every other non-public address)')
    webhook_endpoints_per_provider: int = Field(default=10, ge=1, le=100, description="Endpoints one provider may have")
    webhook_log_retention_days: float = Field(
        default=30, gt=0, description="Days a finished delivery and its attempts stay in the delivery log")
    webhook_log_purge_seconds: float = Field(default=3600, gt=0, description="How often the log's purge job runs")
    # Service records (the service_records area): Idempotency-Key expiry and purge, request size limits.
    idempotency_key_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="How long an Idempotency-Key is remembered (its answer replayed)")
    idempotency_purge_seconds: float = Field(default=600, gt=0, description="How often expired keys are purged")
    service_record_max_bytes: int = Field(
        default=64 * 1024, ge=1024, description="The largest body of a single service-record push (413 above)")
    service_record_batch_max_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="The largest body of a batch push (413 above)")
