"""Commands of the `directory` area (see `referral.service_layer.handlers`)."""

from __future__ import annotations
