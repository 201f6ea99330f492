"""The reporting service on a real port for a browser, and the figures a dashboard page shows (its data-figure
marks: every drawn number carries its key and raw value, or says it is suppressed)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import uvicorn
from playwright.async_api import Page

from reporting.bootstrap import build
from simpul_infra.ports import HOST, free_port
from tests.support.reporting_pilot import AS_OF
from tests.support.stack import settings_for

Figures = dict[str, tuple[float | str | None, bool]]
MONTH = re.compile(r"^\d{6}$")


@contextlib.asynccontextmanager
async def live_reporting(url: str, bootstrap: str, namespace: str) -> AsyncIterator[str]:
    """Reporting served by uvicorn in this process (its clock at the scenario's day); yields its base URL."""
    app = build(settings_for("reporting", url, bootstrap, namespace), clock=lambda: AS_OF)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        if not server.started:
            raise RuntimeError("reporting did not start under uvicorn")
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        await task


async def dom_figures(page: Page) -> Figures:
    """Every data-figure on the page: key -> (raw value, suppressed). A key drawn twice must show the same value,
    and a drawn integer's text must end in that integer (whatever the language's digit grouping)."""
    marks = await page.eval_on_selector_all("[data-figure]", """nodes => nodes.map(n => [n.dataset.figure,
        n.dataset.value ?? null, n.dataset.suppressed === "true", n.textContent])""")
    figures: Figures = {}
    for key, raw, suppressed, text in marks:
        value: float | str | None = None if raw in (None, "") else raw
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
            value = float(value) if "." in value else int(value)
            if isinstance(value, int) and not key.startswith("freshness|"):
                numbers = re.findall(r"\d[\d.,]*", text)
                assert numbers, f"{key}: no number in {text!r}"
                assert re.sub(r"\D", "", numbers[-1]) == str(value), f"{key}: text {text!r} for {value}"
        assert figures.setdefault(key, (value, suppressed)) == (value, suppressed), f"{key} drawn with two values"
    return figures


def page_cells(figures: Figures, *, regions: bool = False, months: bool = False,
               region: str = "") -> dict[str, tuple[float | str | None, bool]]:
    """The indicator cells among the figures: 'indicator|region' (cumulative) when `regions`, and
    'indicator|region|yyyyMM' (the page's region, `region`) when `months`."""
    cells = {}
    for key, value in figures.items():
        parts = key.split("|")
        if len(parts) != 2 or parts[0] in ("timeliness", "provider", "freshness"):
            continue
        if MONTH.match(parts[1]):
            if months:
                cells[f"{parts[0]}|{region}|{parts[1]}"] = value
        elif regions:
            cells[key] = value
    return cells
