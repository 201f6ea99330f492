"""What schemathesis found on a fresh `make up` (issue 13 point 15), each pinned by a focused test:

- `POST /children` with `"aliases": null` and a guardian was a 500 (TypeError);
- identity's review times came back without a UTC offset on SQLite, breaking the documented `date-time`;
- schema-valid requests were refused by rules the document did not state (times before 1900, a missing If-Match,
  a decision without X-Access-Reason).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from identity.adapters.record_index import IndexedMatcher
from identity.bootstrap import MIGRATIONS
from identity.domain.model import MatchModel
from identity.domain.review import Review
from identity.domain.source_records import Candidate, Contribution, RecordKey, Thresholds
from identity.service_layer.unit_of_work import SqlIdentityUnitOfWork
from registry.entrypoints.http.schemas import ClassificationIn, StatusChangeIn
from simpul.api_documents import render
from simpul_platform.auth import Role
from simpul_platform.database import Database
from simpul_platform.field_encryption import development_keyring
from simpul_platform.migrations import upgrade
from tests.support.stack import KESILIR, running, settings_for, token

AT = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _document(service: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(service)[f"openapi/{service}.json"])
    return document


async def test_a_child_with_null_aliases_and_a_guardian_is_registered(
    tmp_path: Path, kafka_bootstrap: str, namespace: str
) -> None:
    settings = settings_for("registry", f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}", kafka_bootstrap, namespace)
    async with running({"registry": settings}) as stack:
        created = await stack.clients["registry"].post("/children", headers=token(Role.CADRE, KESILIR), json={
            "full_name": "Siti", "sex": "female", "village_code": KESILIR, "aliases": None,
            "guardians": [{"name": "Sulastri", "relationship": "mother"}]})
    assert created.status_code == 201, created.text
    assert (created.json()["aliases"], [g["name"] for g in created.json()["guardians"]]) == ([], ["Sulastri"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def identity_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    url = (f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("identity"))
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    model = MatchModel.default()
    matcher = IndexedMatcher(database, model, Thresholds(model.auto_link, model.review))
    yield lambda: SqlIdentityUnitOfWork(database, matcher, b"findings-suite-nik-digest-key-of-32-bytes")
    await database.dispose()


async def test_review_times_carry_their_utc_offset_on_every_database(identity_uow: Callable[[], Any]) -> None:
    key = RecordKey("simpul-registry", "r-1")
    candidate = Candidate("per_a", 0.41, False, (Contribution("name", "similar", 3.5),))
    async with identity_uow() as uow:
        await uow.reviews.add(Review.request("rev_1", key, "per_b", village_code=KESILIR, candidates=[candidate],
                                             at=AT))
        await uow.commit()
    async with identity_uow() as uow:
        review = await uow.reviews.get("rev_1")
        review.accept("per_a", "officer", AT)
        await uow.reviews.save(review)
        await uow.commit()
    async with identity_uow() as uow:
        back = await uow.reviews.get("rev_1")
    for moment in (back.requested_at, back.resolved_at):
        assert moment.utcoffset() == dt.timedelta(0), moment
        assert moment == AT
        assert OFFSET.search(TypeAdapter(dt.datetime).dump_python(moment, mode="json")), moment


def test_the_registry_states_the_earliest_time_it_takes() -> None:
    schemas = _document("registry")["components"]["schemas"]
    for name, field in (("ClassificationIn", "at"), ("StatusChangeIn", "at"), ("ChildCreate", "birth_date")):
        pattern = next(s["pattern"] for s in schemas[name]["properties"][field]["anyOf"] if s.get("type") == "string")
        assert not re.search(pattern, "1899-12-31T23:59:59Z")
        assert re.search(pattern, "1900-01-01T00:00:00Z")
    with pytest.raises(ValidationError, match="before 1900"):  # what the pattern states is what is refused
        ClassificationIn(classification="child_labourer", reason="survey", at="1899-12-31T23:59:59Z")
    assert StatusChangeIn(status="monitoring", reason="visit", at="1900-01-02T00:00:00Z").at is not None


def test_headers_the_services_require_are_documented_as_required() -> None:
    registry = _document("registry")["paths"]["/children/{child_id}"]
    identity = _document("identity")["paths"]
    required = [(operation, p["name"]) for operation, parameters in (
        ("PATCH child", registry["patch"]["parameters"]), ("PUT child", registry["put"]["parameters"]),
        ("accept", identity["/reviews/{review_id}/accept"]["post"]["parameters"]),
        ("merge", identity["/persons/{person_id}/merge"]["post"]["parameters"]))
        for p in parameters if p.get("required") and p["in"] == "header"]
    assert required == [("PATCH child", "If-Match"), ("PUT child", "If-Match"), ("accept", "X-Access-Reason"),
                        ("merge", "X-Access-Reason")]
