"""Commands of the `referrals` area (see `referral.service_layer.handlers`)."""

from __future__ import annotations
