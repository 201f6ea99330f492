"""The four services as the `simpul` command knows them: how to build each, its settings, its default port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from identity.bootstrap import build as build_identity
from identity.config import IdentitySettings
from referral.bootstrap import build as build_referral
from referral.config import ReferralSettings
from registry.bootstrap import build as build_registry
from registry.config import RegistrySettings
from reporting.bootstrap import build as build_reporting
from reporting.config import ReportingSettings
from simpul_platform.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceSpec:
    """One service: its app factory and settings class."""

    build: Callable[..., FastAPI]
    settings: type[ServiceSettings]

    @property
    def port(self) -> int:
        """Its default HTTP port."""
        return int(self.settings.model_fields["http_port"].default)

    def settings_with(self, **values: Any) -> Any:
        """Settings from the environment, overridden by `values`."""
        return self.settings(**values)


SERVICES: dict[str, ServiceSpec] = {
    "registry": ServiceSpec(build_registry, RegistrySettings),
    "identity": ServiceSpec(build_identity, IdentitySettings),
    "referral": ServiceSpec(build_referral, ReferralSettings),
    "reporting": ServiceSpec(build_reporting, ReportingSettings),
}
