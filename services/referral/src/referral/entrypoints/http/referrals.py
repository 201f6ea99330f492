"""District API: referrals (see `referral.service_layer.handlers`)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
