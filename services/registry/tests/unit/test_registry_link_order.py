"""Ordering under replay (issue 13, point 12): identity's link made before the one the registry holds (a replayed
dead letter landing after newer links) leaves the newer person, and announces nothing."""

from __future__ import annotations

import datetime as dt

from registry.domain.commands import AttachPersons, PersonLink, RegisterChild
from registry.domain.details import ChildDetails
from registry.domain.model import Sex
from registry.service_layer.fake import FakeRegistryStore
from registry.service_layer.handlers import children
from simpul_contracts.events import ChildUpdatedV1
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

KESILIR = "35.09.11.2007"
CADRE = Principal("kader", Role.CADRE, (KESILIR,))
T1 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
T2, T3 = T1 + dt.timedelta(hours=1), T1 + dt.timedelta(hours=2)



async def _child(store: FakeRegistryStore) -> tuple[str, str]:
    details = ChildDetails(full_name="Siti Aminah", sex=Sex.FEMALE, village_code=KESILIR)
    view = await execute(store.unit_of_work(), children.register_child,
                         RegisterChild(CADRE, details, source_record_id="KSL-1"))
    return view.child_id, view.record.child.source_system


async def _link(store: FakeRegistryStore, source: str, person_id: str, at: dt.datetime) -> list[str | None]:
    published = len(store.published)
    await execute(store.unit_of_work(), children.attach_persons,
                  AttachPersons((PersonLink(source, "KSL-1", person_id, at),)))
    return [e.person_id for e in store.published[published:] if isinstance(e, ChildUpdatedV1)]


async def test_a_replayed_older_link_leaves_the_newer_person(store: FakeRegistryStore) -> None:
    child_id, source = await _child(store)
    assert await _link(store, source, "per_new", T2) == ["per_new"]
    assert await _link(store, source, "per_old", T1) == []  # the replay: skipped, nothing announced
    held = store.tables.children[child_id].child
    assert (held.person_id, held.person_linked_at) == ("per_new", T2)


async def test_the_same_link_made_again_later_keeps_its_time_so_an_older_one_is_refused(
        store: FakeRegistryStore) -> None:
    child_id, source = await _child(store)
    await _link(store, source, "per_a", T1)
    assert await _link(store, source, "per_a", T3) == []  # the link held: nothing to announce, its time kept
    assert await _link(store, source, "per_b", T2) == []  # made before T3: refused
    assert store.tables.children[child_id].child.person_id == "per_a"


async def test_an_older_link_later_in_one_run_does_not_win(store: FakeRegistryStore) -> None:
    child_id, source = await _child(store)
    await execute(store.unit_of_work(), children.attach_persons, AttachPersons((
        PersonLink(source, "KSL-1", "per_new", T2), PersonLink(source, "KSL-1", "per_old", T1))))
    assert store.tables.children[child_id].child.person_id == "per_new"
