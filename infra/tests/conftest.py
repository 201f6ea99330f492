"""Infra tests run against the real broker and server the shared fixtures provide."""

from __future__ import annotations

import pytest

PLUGIN = "simpul_infra.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    # Not `pytest_plugins = [...]`: pytest rejects that in a conftest below the rootdir whenever the conftest is
    # found during collection (e.g. `pytest .`). Registering under the module's name also means the plugin is
    # never loaded twice when the root conftest registers it too.
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
