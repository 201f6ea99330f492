"""The protected feed as CSV: one row per cell, an empty value where the count is withheld."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from reporting.domain.feed import ProtectedCell

COLUMNS = ("indicator", "region_level", "region_code", "period", "sex", "age_band", "value", "suppressed")


def feed_csv(cells: Iterable[ProtectedCell]) -> str:
    """RFC 4180 text with a header row; withheld cells have an empty value and suppressed=true."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for cell in cells:
        key = cell.key
        writer.writerow(
            (
                key.indicator,
                key.region_level,
                key.region_code,
                key.period,
                key.sex,
                key.age_band,
                "" if cell.value is None else cell.value,
                "true" if cell.suppressed else "false",
            )
        )
    return out.getvalue()
