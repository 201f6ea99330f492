"""The dashboard's shell and assets, served by reporting with no database: every asset the page loads is in the
package and served, nothing points at another origin, both dictionaries hold every word the scripts use, and the
small reads answer by the token (no figure without one, the ministry kept to district level and the feed)."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from reporting.bootstrap import build
from reporting.config import ReportingSettings
from simpul_platform.auth import Role, mint_token
from simpul_platform.settings import DEV_SECRET

ASSETS = resources.files("reporting") / "dashboard"
SCRIPTS = ("app.js", "charts.js", "model.js", "views.js")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    database = tmp_path_factory.mktemp("reporting") / "never-opened.db"
    app = build(ReportingSettings(database_url=f"sqlite+aiosqlite:///{database}"), for_documentation=True)
    return TestClient(app)  # no lifespan: nothing connects, and these routes read no table


def _bearer(role: Role, *scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_SECRET, 'viewer', role, list(scope))}"}


def _script(name: str) -> str:
    return (ASSETS / "js" / name).read_text(encoding="utf-8")


def test_the_shell_and_every_asset_it_loads_are_served_from_the_package(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    referenced = re.findall(r'(?:href|src)="(dashboard/assets/[^"]+)"', page.text)
    imported = [f"dashboard/assets/js/{m}" for s in SCRIPTS for m in re.findall(r'from "\./([\w.]+)"', _script(s))]
    words = [f"dashboard/assets/i18n/{language}.json" for language in ("id", "en")]
    assert len(referenced) == 5  # the style sheet, the script and the modules it imports (preloaded)
    for path in {*referenced, *imported, *words}:
        assert client.get("/" + path).status_code == 200, path


def test_nothing_is_fetched_from_another_origin() -> None:
    texts = [(ASSETS / "index.html").read_text(encoding="utf-8"), (ASSETS / "dashboard.css").read_text("utf-8"),
             *(_script(s) for s in SCRIPTS)]
    foreign = [url for text in texts for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
               if not url.startswith("http://www.w3.org/2000/svg")]
    assert foreign == []
    assert not [t for t in texts if "@import" in t or "@font-face" in t]


def test_only_packaged_files_are_served(client: TestClient) -> None:
    for path in ("/dashboard/assets/../bootstrap.py", "/dashboard/assets/js/missing.js", "/dashboard/assets/x.py"):
        assert client.get(path).status_code == 404, path


def test_both_dictionaries_hold_every_word_the_scripts_use() -> None:
    dictionaries = {language: json.loads((ASSETS / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
                    for language in ("id", "en")}
    assert set(dictionaries["id"]) == set(dictionaries["en"])
    used = {key for s in SCRIPTS for key in re.findall(r'\bt\("([\w.]+)"', _script(s))}
    used |= set(re.findall(r'data-i18n(?:-label)?="([\w.]+)"', (ASSETS / "index.html").read_text("utf-8")))
    indicators = r'"((?:referrals|providers)_[a-z_]+|registered|identified|withdrawn|protected)"'
    used |= {f"indicator.{key}" for s in ("model.js", "views.js") for key in re.findall(indicators, _script(s))}
    assert used - set(dictionaries["en"]) == set()
    assert dictionaries["id"]["title"] != dictionaries["en"]["title"]


def test_the_reads_answer_by_the_token(client: TestClient) -> None:
    assert client.get("/dashboard/me").status_code == 401
    officer = client.get("/dashboard/me", headers=_bearer(Role.DISTRICT_OFFICER, "35.09"))
    assert officer.json() | {"as_of": None} == {"subject": "viewer", "role": "district_officer", "scope": ["35.09"],
                                                "home": "35.09", "as_of": None}
    assert client.get("/dashboard/me", headers=_bearer(Role.CADRE, "35.09.11.2007")).status_code == 403
    jember = client.get("/dashboard/targets", headers=_bearer(Role.DISTRICT_OFFICER, "35.09")).json()
    assert {t["region_code"] for t in jember} == {"35.09", "35.09.11", "35.09.08", "35.09.27", "35.09.11.2007",
                                                  "35.09.08.2005", "35.09.27.2002", "35.09.27.2003"}
    assert {(t["indicator"], t["target"]) for t in jember if t["region_code"] == "35.09"} == {
        ("withdrawn", 80), ("protected", 800), ("registered", 880)}
    ministry = client.get("/dashboard/targets", headers=_bearer(Role.MINISTRY)).json()
    assert {t["region_level"] for t in ministry} == {"kabupaten", "province", "national"}
    assert {(t["indicator"], t["target"]) for t in ministry if t["region_code"] == "ID"} == {
        ("withdrawn", 160), ("protected", 1600), ("registered", 1760), ("providers_with_agreement_in_force", 30)}
    refused = client.get("/dashboard/trends", headers=_bearer(Role.MINISTRY))
    assert refused.status_code == 403
    assert "role" in refused.text
    outside = client.get("/dashboard/trends", params={"region": "52.03"}, headers=_bearer(Role.DISTRICT_OFFICER,
                                                                                          "35.09"))
    assert outside.status_code == 403
    assert "region" in outside.text
