"""Referral's use cases, one module per area: each a `handler(command, uow)`; the caller commits.

- `persons`: the record -> person map, and following identity's merges and unmerges;
- `directory`: providers, the service-type code list, vetting, agreements, suspension and offboarding;
- `referrals`: issuing referrals through the eligibility and consent gates, their lifecycle, deadlines, the district
  queue;
- `child_details`: the minimal, consent-gated details of referred children, and their erasure.
"""
