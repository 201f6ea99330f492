"""Region codes and the shipped pilot reference data."""

from __future__ import annotations

import pytest

from registry.domain.regions import InvalidRegionCode, Level, Region
from registry.reference import pilot_regions


def test_levels_and_parents_follow_from_the_code() -> None:
    village = Region.from_code("35.09.11.2007", "Kesilir")
    assert (village.level, village.parent_code, village.is_village) == (Level.DESA, "35.09.11", True)
    assert Region.from_code("35.09.11.1001", "X").level is Level.KELURAHAN
    assert Region.from_code("35.09.11", "Wuluhan").level is Level.KECAMATAN
    assert Region.from_code("35.09", "Kabupaten Jember").parent_code == "35"
    assert Region.from_code("35", "Jawa Timur").parent_code is None


@pytest.mark.parametrize("code", ["35.9", "35.09.11.207", "3509112007", "35.09.11.2007.1", ""])
def test_malformed_codes_are_rejected_naming_the_field(code: str) -> None:
    with pytest.raises(InvalidRegionCode, match=r"^code: "):
        Region.from_code(code, "X")


def test_pilot_data_has_the_eight_villages_their_parents_and_the_field_aliases() -> None:
    regions = {r.code: r for r in pilot_regions()}
    villages = {r.name for r in regions.values() if r.is_village}
    assert villages == {"Kesilir", "Wringintelu", "Sukoreno", "Patempuran", "Pandan Wangi", "Borok Toyang",
                        "Genggelang", "Selelos"}
    assert all(r.parent_code in regions for r in regions.values() if r.parent_code)
    assert regions["52.08.02.2003"].aliases == ("Genggeling",)
    assert regions["52.08.02.2006"].aliases == ("Seelos",)
