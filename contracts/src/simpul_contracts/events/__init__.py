"""Every event model, by producing service. Importing this package registers them all."""

from simpul_contracts.events.identity import PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1, ReviewRequestedV1
from simpul_contracts.events.referral import *  # noqa: F403 - the referral models, listed in their __all__
from simpul_contracts.events.registry import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildErasedV1,
    ChildIdentityRecordedV1,
    ChildReferralDetailsRecordedV1,
    ChildReferralDetailsWithdrawnV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
)
from simpul_contracts.events.reporting import IndicatorPublishedV1

__all__ = [
    "CaseStatusChangedV1",
    "ChildClassifiedV1",
    "ChildErasedV1",
    "ChildIdentityRecordedV1",
    "ChildReferralDetailsRecordedV1",
    "ChildReferralDetailsWithdrawnV1",
    "ChildRegisteredV1",
    "ChildUpdatedV1",
    "ConsentChangedV1",
    "IndicatorPublishedV1",
    "MonitoringVisitRecordedV1",
    "PersonUnmergedV1",
    "PersonsMergedV1",
    "RecordLinkedV1",
    "ReviewRequestedV1",
]
