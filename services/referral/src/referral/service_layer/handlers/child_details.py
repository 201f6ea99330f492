"""Use cases of the `child_details` area (see the package's docstring)."""

from __future__ import annotations
