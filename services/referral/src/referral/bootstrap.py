"""Composition root of the referral service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from referral.adapters import orm
from referral.config import ReferralSettings
from referral.entrypoints.consumers import identity_links
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: ReferralSettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The referral app with its runtime; uvicorn calls this as a factory."""
    runtime = build_runtime(settings or ReferralSettings(), orm.delivery, MIGRATIONS,
                            for_documentation=for_documentation)
    identity_links.register(runtime)
    return create_app(
        runtime,
        title="Simpul referral",
        description="Providers, vetting, MoUs, referrals and service records.",
        routers=[],
    )
