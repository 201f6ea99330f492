"""The DHIS2 export validates against the dataValueSets format and leaks no withheld count."""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

from reporting.adapters.dhis2 import DRY_RUN_EXAMPLE, IMPORT_PARAMETERS, Dhis2Mapping, data_value_set
from reporting.adapters.feed_csv import COLUMNS, feed_csv
from reporting.domain.cells import CUMULATIVE, AgeBand, Cell, CellKey, RegionLevel, Sex
from reporting.domain.feed import Protection, protect

# DHIS2 (2.40 docs, "Data values" / "Sending data values"): a data value set has optional dataSet, completeDate,
# period, orgUnit, attributeOptionCombo and a dataValues array; each data value has dataElement, period, orgUnit
# and value (a string), optionally categoryOptionCombo, attributeOptionCombo, comment, followup, storedBy.
SET_FIELDS = {"dataSet", "completeDate", "period", "orgUnit", "attributeOptionCombo", "dataValues"}
VALUE_REQUIRED = {"dataElement", "period", "orgUnit", "value"}
VALUE_FIELDS = VALUE_REQUIRED | {"categoryOptionCombo", "attributeOptionCombo", "comment", "followup", "storedBy"}
MONTHLY = re.compile(r"^\d{4}(0[1-9]|1[0-2])$")  # DHIS2 monthly period yyyyMM


def validate(document: dict[str, Any]) -> None:
    """Raise AssertionError where `document` departs from the dataValueSets JSON format."""
    assert set(document) <= SET_FIELDS, set(document) - SET_FIELDS
    assert isinstance(document["dataValues"], list)
    for value in document["dataValues"]:
        assert VALUE_REQUIRED <= set(value) <= VALUE_FIELDS, value
        assert all(isinstance(value[name], str) and value[name] for name in value), value
        assert MONTHLY.match(value["period"]), value
        assert re.fullmatch(r"-?\d+", value["value"]), value
    keys = [(v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"]) for v in document["dataValues"]]
    assert len(keys) == len(set(keys)), "one value per data element, period, org unit and combo"


MAPPING = Dhis2Mapping.load()
REGIONS = [("ID", RegionLevel.NATIONAL), ("35", RegionLevel.PROVINCE), ("35.09", RegionLevel.KABUPATEN),
           ("35.10", RegionLevel.KABUPATEN)]


def cells() -> list[Cell]:
    """An additive feed: two districts' counts by month, sex and band, summed up to every margin."""
    values = itertools.cycle((0, 3, 7, 12, 1, 40, 4, 9, 25, 60, 18))
    totals: dict[CellKey, int] = {}
    for indicator, district, month, sex, band in itertools.product(
        ("withdrawn", "protected", "registered", "not_mapped"), ("35.09", "35.10"), ("202601", "202602"),
        (Sex.FEMALE, Sex.MALE), (AgeBand.AGE_5_11, AgeBand.AGE_12_14, AgeBand.AGE_15_17),
    ):
        value = next(values)
        regions = ((district, RegionLevel.KABUPATEN), ("35", RegionLevel.PROVINCE), ("ID", RegionLevel.NATIONAL))
        for (code, level), period, s, b in itertools.product(
            regions, (month, CUMULATIVE), (sex, Sex.ALL), (band, AgeBand.ALL)
        ):
            key = CellKey(indicator, code, level, period, s, b)
            totals[key] = totals.get(key, 0) + value
    return [Cell.of(key, value) for key, value in totals.items()]


def test_the_export_is_a_valid_data_value_set_with_every_org_unit_period_and_mapped_code() -> None:
    published = protect(cells(), Protection(b"k")).cells
    document = data_value_set(published, MAPPING)
    validate(document)
    values = document["dataValues"]
    assert document["dataSet"] == MAPPING.data_set
    assert {v["orgUnit"] for v in values} == {code for code, _ in REGIONS}
    assert {v["period"] for v in values} == {"202601", "202602"}
    assert {v["dataElement"] for v in values} == {MAPPING.data_elements[name] for name in
                                                  ("withdrawn", "protected", "registered")}
    assert {v["categoryOptionCombo"] for v in values} == set(MAPPING.category_option_combos.values())
    expected = {
        (MAPPING.data_elements[c.key.indicator], c.key.period, c.key.region_code, MAPPING.combo(c)): str(c.value)
        for c in published
        if c.value is not None and c.key.period != CUMULATIVE and c.key.indicator != "not_mapped"
    }
    assert {(v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"]): v["value"] for v in values} == (
        expected
    )


def test_no_withheld_count_leaks_into_the_export() -> None:
    true_cells = cells()
    published = protect(true_cells, Protection(b"k")).cells
    withheld = {c.key for c in published if c.suppressed}
    assert withheld
    document = data_value_set(published, MAPPING)
    by_code = {
        (MAPPING.data_elements.get(c.key.indicator), c.key.period, c.key.region_code, MAPPING.combo(c)): c.key
        for c in published
    }
    exported = {by_code[v["dataElement"], v["period"], v["orgUnit"], v["categoryOptionCombo"]]
                for v in document["dataValues"]}
    assert not exported & withheld
    truth = {c.key: c.value for c in true_cells}
    assert all(not 0 < truth[key] < 5 for key in exported)


def test_the_validator_rejects_what_dhis2_would_reject() -> None:
    good = {"dataElement": "D", "period": "202601", "orgUnit": "35.09", "categoryOptionCombo": "default", "value": "7"}
    validate({"dataValues": [good]})
    without_org_unit = {k: v for k, v in good.items() if k != "orgUnit"}
    for broken in ({**good, "value": 7}, {**good, "period": "2026-01"}, without_org_unit, {**good, "childName": "x"}):
        try:
            validate({"dataValues": [broken]})
        except AssertionError:
            continue
        raise AssertionError(f"accepted {broken}")


def test_the_dry_run_example_uses_the_code_id_scheme() -> None:
    assert IMPORT_PARAMETERS == {"idScheme": "CODE", "dryRun": "true", "importStrategy": "CREATE_AND_UPDATE"}
    assert "idScheme=CODE&dryRun=true" in DRY_RUN_EXAMPLE


def test_csv_has_one_row_per_cell_and_blank_withheld_values() -> None:
    published = protect(cells(), Protection(b"k")).cells
    rows = list(csv.DictReader(io.StringIO(feed_csv(published))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(published)
    for row, cell in zip(rows, published, strict=True):
        assert row["value"] == ("" if cell.value is None else str(cell.value))
        assert row["suppressed"] == ("true" if cell.suppressed else "false")
