"""DHIS2 dataValueSets JSON (idScheme CODE) from the protected feed, through a configurable mapping.

The ministry's administrator imports it with
`POST /api/dataValueSets?idScheme=CODE&dryRun=true&importStrategy=CREATE_AND_UPDATE` first (see DRY_RUN_EXAMPLE),
then without dryRun. Withheld cells are never exported.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reporting.domain.cells import CUMULATIVE
from reporting.domain.feed import ProtectedCell

DEFAULT_MAPPING = Path(__file__).resolve().parents[1] / "reference" / "dhis2_mapping.toml"
IMPORT_PARAMETERS = {"idScheme": "CODE", "dryRun": "true", "importStrategy": "CREATE_AND_UPDATE"}
DRY_RUN_EXAMPLE = (
    "curl -s -H 'Authorization: Bearer $SIMPUL_TOKEN' https://reporting.example/feed/dhis2 > feed.json\n"
    "curl -s -u admin:district -H 'Content-Type: application/json' --data @feed.json "
    "'https://dhis2.example/api/dataValueSets?idScheme=CODE&dryRun=true&importStrategy=CREATE_AND_UPDATE'\n"
    "# the import summary lists what would be imported, updated and ignored; nothing is stored with dryRun=true"
)


@dataclass(frozen=True)
class Dhis2Mapping:
    """Indicator -> data element code; 'sex|age band' -> category option combo code."""

    data_set: str
    attribute_option_combo: str
    data_elements: Mapping[str, str]
    category_option_combos: Mapping[str, str]

    @classmethod
    def load(cls, path: Path = DEFAULT_MAPPING) -> Dhis2Mapping:
        """The mapping in a TOML file (the packaged default is documented line by line)."""
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        return cls(
            data_set=str(raw["data_set"]),
            attribute_option_combo=str(raw.get("attribute_option_combo", "default")),
            data_elements={str(k): str(v) for k, v in raw["data_elements"].items()},
            category_option_combos={str(k): str(v) for k, v in raw["category_option_combos"].items()},
        )

    def combo(self, cell: ProtectedCell) -> str | None:
        """The category option combo of a cell's disaggregation, None when not mapped."""
        return self.category_option_combos.get(f"{cell.key.sex}|{cell.key.age_band}")


def data_value_set(cells: Iterable[ProtectedCell], mapping: Dhis2Mapping) -> dict[str, Any]:
    """The dataValueSets document of the published (not withheld), mapped, monthly cells."""
    values = []
    for cell in cells:
        element = mapping.data_elements.get(cell.key.indicator)
        combo = mapping.combo(cell)
        if cell.value is None or cell.key.period == CUMULATIVE or element is None or combo is None:
            continue
        values.append(
            {
                "dataElement": element,
                "period": cell.key.period,
                "orgUnit": cell.key.region_code,
                "categoryOptionCombo": combo,
                "attributeOptionCombo": mapping.attribute_option_combo,
                "value": str(cell.value),
            }
        )
    return {"dataSet": mapping.data_set, "dataValues": values}
