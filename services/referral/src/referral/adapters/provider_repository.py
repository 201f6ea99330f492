"""Where referral keeps its provider directory: providers (with their vettings and agreements) and the versioned
service-type code list. The abstract repositories, their SQL versions and their in-memory versions (for the fake).

Owned by the directory area. The tables live here too, on `referral.adapters.orm.metadata`.
"""

from __future__ import annotations

import abc

from referral.domain.providers import Provider


class Providers(abc.ABC):
    """Providers by id, each loaded whole (vettings and agreements) as the domain's `Provider` aggregate."""

    @abc.abstractmethod
    async def get(self, provider_id: str) -> Provider | None:
        """The provider, if it is in the directory."""

    @abc.abstractmethod
    async def save(self, provider: Provider) -> None:
        """Insert or update the provider, its vettings and its agreements."""
