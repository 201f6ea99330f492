"""Unexpected errors leave the API as a bare problem+json 500 and are logged without their message."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI

from simpul_platform.problems import install_problem_handlers

SECRET = "Siti Aminah 3509114203140001"


async def test_an_unexpected_error_is_a_500_problem_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError(f"invalid input for query argument $5: {SECRET!r}")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        with caplog.at_level(logging.DEBUG):
            response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert SECRET not in response.text
    assert SECRET not in caplog.text
    assert "unhandled ValueError on GET /boom" in caplog.text
