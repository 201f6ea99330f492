"""The dashboard in a real browser: Debian's chromium driven by Playwright, against a live reporting service (uvicorn
on a real port) on the real broker and PostgreSQL, fed the pilot scenario (tests/support/reporting_pilot.py).

The page's figures equal the APIs' (GET /indicators for a district officer, GET /feed for the ministry, suppressed
cells shown as suppressed), the language switches, a district officer sees only the district, the page fits a
390px phone, and nothing is fetched from another origin. Screenshots go to test-artifacts/dashboard/ (or
$SIMPUL_TEST_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from simpul_infra import chromium
from simpul_platform.auth import Role
from tests.conftest import fresh_namespace
from tests.support.dashboard import Figures, dom_figures, live_reporting, page_cells
from tests.support.reporting_pilot import pilot, publish_all
from tests.support.reporting_service import applied, caught_up
from tests.support.stack import eventually, token

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
WORDS = Path(__file__).resolve().parents[2] / "services/reporting/src/reporting/dashboard/i18n"
ARTIFACTS = Path(os.environ.get("SIMPUL_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
JEMBER = "35.09"
OFFICER = token(Role.DISTRICT_OFFICER, JEMBER, subject="officer-jember")
MINISTRY = token(Role.MINISTRY, subject="ministry")


@dataclass
class Watched:
    """A page and what it did: every URL it requested and every console error or uncaught exception."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def chromium_binary() -> Path:
    """Debian's chromium, installed with apt-get when missing; the tests skip only when that cannot be done."""
    try:
        return chromium.ensure_installed()
    except chromium.ChromiumError as error:
        pytest.skip(f"chromium cannot be installed: {error}")


@pytest.fixture(scope="module")
async def browser(chromium_binary: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium_binary), headless=True,
                                                    args=list(chromium.LAUNCH_ARGS))
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def base_url(make_database: Callable[..., str], kafka_bootstrap: str) -> AsyncIterator[str]:
    """Reporting on a real port, every pilot event applied and the protected feed published."""
    url, namespace = make_database("reporting"), await fresh_namespace(kafka_bootstrap)
    async with live_reporting(url, kafka_bootstrap, namespace) as base:
        first, second = pilot()
        await publish_all(kafka_bootstrap, namespace, first + second)
        await eventually(lambda: applied(url, len({e.id for _, e in first + second})), timeout=120)
        await eventually(lambda: caught_up(kafka_bootstrap, namespace), timeout=60)
        async with httpx.AsyncClient(base_url=base) as client:
            published = await client.post("/feed/publications", headers=MINISTRY)
            assert published.status_code == 201, published.text
        yield base


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _open(browser: Browser, base_url: str, viewport: dict[str, int] | None = None,
                **options: Any) -> Watched:
    context = await browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, **options)
    watched = Watched(await context.new_page())
    watched.page.on("request", lambda r: watched.requests.append(r.url))
    watched.page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    watched.page.on("pageerror", lambda e: watched.errors.append(str(e)))
    await watched.page.goto(base_url + "/dashboard")
    return watched


async def _sign_in(watched: Watched, headers: dict[str, str]) -> None:
    page = watched.page
    await page.wait_for_selector("#sign-in:not([hidden])")
    await page.fill("#token", headers["Authorization"])
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("body[data-state=ready][data-freshness=ready]", timeout=20_000)


def _words(language: str) -> dict[str, str]:
    words: dict[str, str] = json.loads((WORDS / f"{language}.json").read_text(encoding="utf-8"))
    return words


async def _api(base_url: str, path: str, headers: dict[str, str], **params: str) -> Any:
    async with httpx.AsyncClient(base_url=base_url) as client:
        answer = await client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _margins(figures: list[dict[str, Any]], period: str = "cumulative") -> dict[str, int | None]:
    return {f"{f['indicator']}|{f['region_code']}" + ("" if period == "cumulative" else f"|{period}"): f["value"]
            for f in figures if f["sex"] == "all" and f["age_band"] == "all"}


def _assert_own_origin(watched: Watched, base_url: str) -> None:
    foreign = [url for url in watched.requests if not url.startswith(base_url + "/")]
    assert foreign == []
    assert watched.errors == []


async def test_a_district_officer_sees_the_scenario_figures_of_the_district_only(
    browser: Browser, base_url: str, artifacts: Path
) -> None:
    watched = await _open(browser, base_url)
    await _sign_in(watched, OFFICER)
    page = watched.page
    await page.screenshot(path=artifacts / "officer-jember-id.png", full_page=True)
    shown = await dom_figures(page)
    answer = await _api(base_url, "/indicators", OFFICER, region=JEMBER, period="cumulative")
    expected = _margins(answer["figures"])
    cells = page_cells(shown, regions=True)
    assert cells, "the page shows no figure"
    assert {key: value for key, (value, _) in cells.items()} == {key: expected.get(key, 0) for key in cells}
    # The scenario's hand-computed figures (tests/support/reporting_pilot.py FINAL), as the page shows them.
    for key, value in {"registered|35.09": 13, "withdrawn|35.09": 4, "referrals_issued|35.09": 5,
                       "providers_with_agreement_in_force|35.09": 1, "registered|35.09.11.2007": 4}.items():
        assert cells[key] == (value, False), key
    assert await page.get_attribute("#target-cards .card:first-child .card-target", "data-target") == "80"
    await _assert_monthly_trends(page, base_url, shown)
    await _assert_timeliness_and_providers(base_url, shown, answer)
    freshness = {k: v for k, (v, _) in shown.items() if k.startswith("freshness|")}
    topics = ("identity.link.v1", "identity.person.v1", "referral.provider.v1", "referral.referral.v1",
              "registry.child.v1")
    assert {k: v for k, v in freshness.items() if k.endswith("|lag")} == {f"freshness|{t}|lag": 0 for t in topics}
    assert all(isinstance(freshness[f"freshness|{t}|last"], str) for t in topics if t != "identity.link.v1")
    regions = {key.split("|")[1] for key in cells}
    assert regions
    assert all(r == JEMBER or r.startswith(JEMBER + ".") for r in regions)
    text = await page.inner_text("#board")
    assert not re.search(r"\b52\.\d\d", text), "another district shows on a Jember officer's page"
    assert "PR-LTM" not in text
    _assert_own_origin(watched, base_url)


async def _assert_monthly_trends(page: Page, base_url: str, shown: Figures) -> None:
    found = page_cells(shown, months=True, region=JEMBER)
    months = {key.rsplit("|", 1)[1] for key in found}
    assert len(months) == 12
    for month in sorted(months):
        answer = await _api(base_url, "/indicators", OFFICER, region=JEMBER, period=month, level="kabupaten")
        expected = _margins(answer["figures"], month)
        for key, (value, _) in found.items():
            if key.endswith(month):
                assert value == expected.get(key, 0), key
    assert found[f"registered|{JEMBER}|202601"] == (8, False)  # A0-A3 and B0-B3 in January
    assert found[f"withdrawn|{JEMBER}|202609"] == (4, False)
    assert await page.locator("#trend-chart svg path.line").count() == 5


async def _assert_timeliness_and_providers(base_url: str, shown: Figures, answer: dict[str, Any]) -> None:
    for row in answer["referral_timeliness"]:
        assert shown[f"timeliness|{row['step']}|referrals"] == (row["referrals"], False)
        assert shown[f"timeliness|{row['step']}|median"] == (row["median_days"], False)
        assert shown[f"timeliness|{row['step']}|p90"] == (row["p90_days"], False)
    assert shown["timeliness|accepted|median"] == (3.0, False)  # R0 after 2 days, R2 after 4
    providers = {k: v for k, v in shown.items() if k.startswith("provider|")}
    expected: dict[str, int] = {}
    for row in answer["referral_funnel"]:
        for indicator, count in row["counts"].items():
            key = f"provider|{row['provider_id']}|{row['district']}|{indicator}"
            expected[key] = expected.get(key, 0) + count
    assert {k: v for k, (v, _) in providers.items()} == {k: expected.get(k, 0) for k in providers}
    assert providers["provider|PR-JEM|35.09|referrals_issued"] == (4, False)


async def test_the_language_switches_between_bahasa_indonesia_and_english(
    browser: Browser, base_url: str, artifacts: Path
) -> None:
    watched = await _open(browser, base_url)
    page = watched.page
    indonesian, english = _words("id"), _words("en")
    assert await page.get_attribute("html", "lang") == "id"
    await _sign_in(watched, OFFICER)
    assert await page.inner_text("h1") == indonesian["title"]
    assert await page.inner_text("#targets h2") == indonesian["targets_title"]
    before = await dom_figures(page)
    await page.click("button[data-lang=en]")
    assert await page.get_attribute("html", "lang") == "en"
    for key, node_text in (await page.eval_on_selector_all(
            "[data-i18n]", "nodes => nodes.map(n => [n.dataset.i18n, n.textContent])")):
        assert node_text == english[key], key
    assert await page.inner_text("#trends h2") == english["trends_title"]
    assert english["indicator.withdrawn"] in await page.inner_text("#target-charts")
    assert await dom_figures(page) == before  # the same figures, in other words
    await page.screenshot(path=artifacts / "officer-jember-en.png", full_page=True)
    await page.reload()  # the choice and the session survive a reload
    await page.wait_for_selector("body[data-state=ready]")
    assert await page.inner_text("h1") == english["title"]
    await page.click("button[data-lang=id]")
    assert await page.inner_text("h1") == indonesian["title"]
    _assert_own_origin(watched, base_url)


async def test_the_ministry_sees_only_protected_figures_with_suppressed_cells_marked(
    browser: Browser, base_url: str, artifacts: Path
) -> None:
    watched = await _open(browser, base_url)
    await _sign_in(watched, MINISTRY)
    page = watched.page
    await page.screenshot(path=artifacts / "ministry-id.png", full_page=True)
    feed = await _api(base_url, "/feed", MINISTRY)
    protected = {f"{c['indicator']}|{c['region_code']}" + ("" if c["period"] == "cumulative" else f"|{c['period']}"):
                 (c["value"], c["suppressed"]) for c in feed["cells"] if c["sex"] == "all" and c["age_band"] == "all"}
    shown = await dom_figures(page)
    cells = page_cells(shown, regions=True) | page_cells(shown, months=True, region="ID")
    assert cells
    assert cells == {key: protected.get(key, (0, False)) for key in cells}
    assert cells["withdrawn|ID"] == (None, True)  # 4 children: withheld, and shown as withheld
    assert await page.locator('[data-figure="withdrawn|ID"]').first.inner_text() == _words("id")["suppressed"]
    assert all(len(key.split("|")[1].split(".")) <= 2 for key in page_cells(shown, regions=True)), \
        "the ministry sees a region below district level"
    assert not [k for k in shown if k.startswith(("provider|", "timeliness|"))]
    _assert_own_origin(watched, base_url)


async def test_the_page_fits_a_phone(browser: Browser, base_url: str, artifacts: Path) -> None:
    watched = await _open(browser, base_url, {"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                          device_scale_factor=2)
    await _sign_in(watched, OFFICER)
    page = watched.page
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = await page.eval_on_selector_all("svg", "nodes => nodes.map(n => n.getBoundingClientRect().right)")
    assert widths
    assert max(widths) <= 390
    await page.screenshot(path=artifacts / "officer-jember-phone.png", full_page=True)
    _assert_own_origin(watched, base_url)


async def test_a_bad_or_expired_token_goes_back_to_the_sign_in(browser: Browser, base_url: str) -> None:
    watched = await _open(browser, base_url)
    page = watched.page
    await page.wait_for_selector("#sign-in:not([hidden])")
    await page.fill("#token", "not-a-token")
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#sign-in-error:not(:empty)")
    assert await page.inner_text("#sign-in-error") == _words("id")["invalid_token"]
    assert await page.is_hidden("#board")
    await page.evaluate("sessionStorage.setItem('simpul.dashboard.token', 'expired')")
    await page.reload()
    await page.wait_for_selector("body[data-state=signed-out]")
    assert await page.inner_text("#sign-in-error") == _words("id")["session_expired"]
    assert await page.is_hidden("#board")
    assert await page.evaluate("sessionStorage.getItem('simpul.dashboard.token')") is None
    assert [e for e in watched.errors if "401" not in e] == []  # the browser logs the refused requests
