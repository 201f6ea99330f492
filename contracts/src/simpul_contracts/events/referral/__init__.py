"""Events the referral service publishes: its providers (`referral.provider.v1`) and referrals
(`referral.referral.v1`). Each module lists its models in `__all__`; importing this package registers them."""

from simpul_contracts.events.referral.providers import *  # noqa: F403
from simpul_contracts.events.referral.referrals import *  # noqa: F403
