"""Registry HTTP edge: problem+json naming the field, nothing written on rejection, scope as 404."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from registry.adapters.orm import children, delivery
from simpul_platform.auth import Role
from tests.support.database import scalar
from tests.support.stack import KESILIR, running, settings_for, token

SUKORENO = "35.09.27.2002"
NOT_A_PILOT_VILLAGE = "35.09.01.2001"


async def _rows(url: str) -> tuple[int, int]:
    return (int(await scalar(url, select(func.count()).select_from(children))),
            int(await scalar(url, select(func.count()).select_from(delivery.outbox))))


async def test_rejections_name_the_field_and_write_nothing(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        cadre = token(Role.CADRE, "35")
        unknown = await registry.post("/children", headers=cadre, json={
            "full_name": "Ahmad", "sex": "male", "village_code": NOT_A_PILOT_VILLAGE})
        assert unknown.status_code == 422
        assert unknown.headers["content-type"] == "application/problem+json"
        assert unknown.json()["errors"] == [
            {"field": "village_code", "reason": "not a current village in the region reference data"}]
        malformed = await registry.post("/children", headers=cadre, json={
            "full_name": "", "sex": "robot", "village_code": KESILIR, "extra": "x"})
        assert malformed.status_code == 422
        assert {e["field"] for e in malformed.json()["errors"]} == {"full_name", "sex", "extra"}
        unauthenticated = await registry.post("/children", json={"full_name": "A", "sex": "male",
                                                                  "village_code": KESILIR})
        assert unauthenticated.status_code == 401
        assert await _rows(url) == (0, 0)


async def test_a_child_outside_the_callers_villages_does_not_exist_for_them(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        created = await registry.post("/children", headers=token(Role.CADRE, SUKORENO), json={
            "full_name": "Putri", "sex": "female", "village_code": SUKORENO})
        assert created.status_code == 201
        child = f"/children/{created.json()['child_id']}"
        assert (await registry.get(child, headers=token(Role.CADRE, KESILIR))).status_code == 404
        assert (await registry.get(child, headers=token(Role.MINISTRY))).status_code == 403
        assert (await registry.get(child, headers=token(Role.DISTRICT_OFFICER, "35.09"))).status_code == 200
        outside = await registry.post("/children", headers=token(Role.CADRE, KESILIR), json={
            "full_name": "Putri", "sex": "female", "village_code": SUKORENO})
        assert outside.status_code == 403
