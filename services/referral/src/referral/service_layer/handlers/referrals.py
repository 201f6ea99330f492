"""Use cases of the `referrals` area (see the package's docstring)."""

from __future__ import annotations
