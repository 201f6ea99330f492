"""Reference data shipped with the registry: the SPRPA pilot regions (Kepmendagri 300.2.2-2138/2025)."""

from __future__ import annotations

import csv
from importlib import resources

from registry.domain.regions import Region


def pilot_regions() -> list[Region]:
    """The eight pilot villages and their sub-districts, districts and provinces."""
    text = resources.files(__package__).joinpath("pilot_regions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return [Region.from_code(r["code"], r["name"], tuple(a for a in r["aliases"].split(";") if a)) for r in rows]
