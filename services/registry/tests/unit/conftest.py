"""The fake registry store the use-case tests start from: the pilot's regions down to Kesilir and Sukoreno."""

from __future__ import annotations

import pytest

from registry.domain.regions import Region
from registry.service_layer.fake import FakeRegistryStore

REGIONS = [("35", "Jawa Timur"), ("35.09", "Jember"), ("35.09.11", "Wuluhan"), ("35.09.11.2007", "Kesilir"),
           ("35.09.27", "Sukorambi"), ("35.09.27.2002", "Sukoreno")]


@pytest.fixture
def store() -> FakeRegistryStore:
    """An empty fake store that knows the regions above."""
    store = FakeRegistryStore()
    store.add_regions(*(Region.from_code(code, name) for code, name in REGIONS))
    return store
