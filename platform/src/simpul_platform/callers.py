"""Who asks, as the domains see it: a protocol the authenticated principal satisfies (`simpul_platform.auth`).

Like `simpul_platform.errors`, a module the domains may import: it names no framework, only what a command needs
of its caller.
"""

from __future__ import annotations

from typing import Protocol


class Caller(Protocol):
    """Who asks: the authenticated subject, its role and the region codes (or provider id) it may act in."""

    @property
    def subject(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def scope(self) -> tuple[str, ...]: ...

    def covers_region(self, code: str) -> bool:
        """True when a region code lies inside the caller's scope."""
        ...
