"""Commands of the `child_details` area (see `referral.service_layer.handlers`)."""

from __future__ import annotations
