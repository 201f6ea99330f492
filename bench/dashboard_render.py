"""The dashboard's first render: seconds from navigation to every chart drawn, in headless Debian chromium.

What is measured: a fresh browser context (empty cache, the token already in sessionStorage, so no sign-in form)
opens `<base_url>/dashboard`; the clock is the page's own (`performance.now()`, from the navigation's start) at the
moment the page's script has drawn every chart (`window.simpulRenderedAt`, set with `<body data-state="ready">`).
That includes the HTML, the packaged assets, the reads (/dashboard/me, /dashboard/targets, and /indicators +
/dashboard/trends for a district officer or /feed for the ministry) and the drawing; data freshness (consumer lag
from Kafka) is drawn apart and not waited for.

It measures a service someone else started (bench/reporting.py starts one at scale and calls
`first_render_seconds`). Chromium is Debian's (installed with apt-get when missing), never Playwright's download.

Run:  .venv/bin/python bench/dashboard_render.py --base-url http://127.0.0.1:8004 [--token T | --role ministry]
      [--scope 35.09] [--runs 5] [--phone]
"""
# ruff: noqa: E402 - the imports below need the path set first

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from playwright.async_api import Browser, async_playwright

from simpul_infra import chromium
from simpul_platform.auth import Role, mint_token
from simpul_platform.settings import DEV_SECRET

TARGET_SECONDS = 1.0
TOKEN_KEY = "simpul.dashboard.token"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Render(NamedTuple):
    """One first render: seconds to every chart drawn, and to the figures read (the rest is drawing)."""

    seconds: float
    figures_read: float


async def _render_once(browser: Browser, base_url: str, token: str, viewport: dict[str, int],
                       timeout_s: float) -> Render:
    context = await browser.new_context(viewport=viewport)
    try:
        await context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r});")
        page = await context.new_page()
        await page.goto(base_url.rstrip("/") + "/dashboard")
        # A selector, not a predicate: the page's CSP forbids the eval a string predicate needs.
        await page.wait_for_selector(", ".join(f"body[data-state={s}]" for s in ("ready", "failed", "signed-out")),
                                     state="attached", timeout=timeout_s * 1000)
        state = await page.evaluate("document.body.dataset.state")
        if state != "ready":
            problem = await page.inner_text("#board-error") or await page.inner_text("#sign-in-error")
            raise RuntimeError(f"the dashboard did not render ({state}): {problem}")
        rendered_ms: float = await page.evaluate("window.simpulRenderedAt")
        read_ms: float = await page.evaluate(
            "performance.getEntriesByName('simpul:figures-read').map(m => m.startTime).pop() ?? 0")
        return Render(rendered_ms / 1000, read_ms / 1000)
    finally:
        await context.close()


async def render_seconds(base_url: str, token: str, *, runs: int = 1, phone: bool = False,
                         timeout_s: float = 60.0) -> list[float]:
    """First-render seconds of `runs` fresh contexts, one after another, in one headless chromium."""
    return [r.seconds for r in await renders(base_url, token, runs=runs, phone=phone, timeout_s=timeout_s)]


async def renders(base_url: str, token: str, *, runs: int = 1, phone: bool = False,
                  timeout_s: float = 60.0) -> list[Render]:
    """`runs` first renders of fresh contexts, one after another, in one headless chromium."""
    executable = chromium.ensure_installed()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(executable), headless=True,
                                                   args=list(chromium.LAUNCH_ARGS))
        try:
            return [await _render_once(browser, base_url, token, PHONE if phone else DESKTOP, timeout_s)
                    for _ in range(runs)]
        finally:
            await browser.close()


def first_render_seconds(base_url: str, token: str) -> float:
    """Seconds from navigation to every chart drawn, for a viewer with `token` (a fresh context, headless).

    Called inside a running event loop it runs on its own thread and blocks that loop until done: a service served
    by that same loop would never answer, so async callers serving it themselves `await render_seconds(...)`."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(render_seconds(base_url, token))[0]
    answer: dict[str, Any] = {}

    def run() -> None:
        try:
            answer["seconds"] = asyncio.run(render_seconds(base_url, token))[0]
        except BaseException as error:  # re-raised on the caller's thread
            answer["error"] = error

    worker = threading.Thread(target=run, name="dashboard-render")
    worker.start()
    worker.join()
    if "error" in answer:
        raise answer["error"]
    seconds: float = answer["seconds"]
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8004")
    parser.add_argument("--token", help="A bearer token (default: a development token for --role and --scope)")
    parser.add_argument("--role", default=Role.DISTRICT_OFFICER.value, choices=[r.value for r in Role])
    parser.add_argument("--scope", nargs="*", default=["35.09"], help="Region codes of the development token")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phone", action="store_true", help="A 390px-wide viewport")
    args = parser.parse_args()
    token = args.token or mint_token(DEV_SECRET, "dashboard-bench", Role(args.role), args.scope)
    timings = asyncio.run(renders(args.base_url, token, runs=args.runs, phone=args.phone))
    seconds = [t.seconds for t in timings]
    print(f"dashboard first render ({'phone' if args.phone else 'desktop'}, {args.runs} fresh contexts): "
          f"median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s, of which figures read by "
          f"{statistics.median(t.figures_read for t in timings):.3f} s (median) "
          f"(runs: {', '.join(f'{s:.3f}' for s in seconds)}); target <= {TARGET_SECONDS:.1f} s: "
          f"{'met' if max(seconds) <= TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
