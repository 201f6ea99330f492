"""XLSX uploads are parsed with defusedxml: an entity-expansion bomb is refused as an unusable survey, not expanded."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl.xml import DEFUSEDXML

from registry.entrypoints.survey import UnusableSurvey, read_survey, template_xlsx

BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
          b"<si><t>&lol9;</t></si></sst>")


def _with_part(content: bytes, part: str, replacement: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, replacement if item.filename == part else source.read(item.filename))
    return out.getvalue()


def test_openpyxl_parses_through_defusedxml() -> None:
    assert DEFUSEDXML is True


@pytest.mark.parametrize(("part", "root"),
                         [("xl/worksheets/sheet1.xml", b"worksheet"), ("xl/workbook.xml", b"workbook")])
def test_an_entity_expansion_bomb_is_an_unusable_survey(part: str, root: bytes) -> None:
    template = template_xlsx()
    assert part in zipfile.ZipFile(io.BytesIO(template)).namelist()
    bomb = _with_part(template, part, BOMB.replace(b"<sst", b"<" + root).replace(b"</sst>", b"</" + root + b">"))
    with pytest.raises(UnusableSurvey):
        list(read_survey("survey.xlsx", bomb))
