"""Use cases of the `directory` area (see the package's docstring)."""

from __future__ import annotations
